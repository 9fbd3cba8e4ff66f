"""LoRA reference values from peft + torch, for spell's LoRA test (tests/lora/peft-reference.test.ts).

Builds a tiny random Llama with transformers (vocab 2000 so the bundled tokenizer fits it), puts a
peft LoRA on every attention and MLP projection (r=4, alpha=8, dropout 0) with a fixed non-zero
initialisation (B random too, so every adapter gradient is generic), runs one cross_entropy and
one importance_sampling loss on fixed tokens with spell's (hosted Tinker) semantics — losses
summed over tokens — and writes:
  OUT/base/                       config.json + model.safetensors (F32)
  OUT/adapter/                    adapter_config.json + adapter_model.safetensors (peft's layout)
  OUT/reference.json              tokens, losses, and every adapter gradient (peft names)
Run: $SPELL_PEERS_HOME/reference/bin/python peers/lora/make_reference.py tests/fixtures/lora-ref
"""
import json
import os
import sys

import torch
from peft import LoraConfig, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM

out = sys.argv[1]
torch.manual_seed(0)
cfg = LlamaConfig(
    vocab_size=2000,
    hidden_size=16,
    intermediate_size=24,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=64,
    rms_norm_eps=1e-6,
    rope_theta=10000.0,
    tie_word_embeddings=False,
    initializer_range=0.2,
    bos_token_id=1995,
    eos_token_id=1997,
    torch_dtype="float32",
)
base = LlamaForCausalLM(cfg).float().eval()
base.save_pretrained(os.path.join(out, "base"), safe_serialization=True)

targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
lcfg = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=targets, bias="none",
                  task_type="CAUSAL_LM")
model = get_peft_model(base, lcfg)
g = torch.Generator().manual_seed(1)
with torch.no_grad():
    for name, p in model.named_parameters():
        if "lora_" in name:
            p.copy_(torch.randn(p.shape, generator=g) * 0.1)
model.save_pretrained(os.path.join(out, "adapter"))
os.remove(os.path.join(out, "adapter", "README.md"))  # peft's model card, not needed

tokens = [5, 17, 300, 42, 1999, 8, 8, 120, 77, 3]
inp = torch.tensor([tokens[:-1]])
tgt = torch.tensor(tokens[1:])
weights = torch.tensor([1.0, 0.5, 0.0, 2.0, 1.0, 1.0, 1.0, 0.25, 1.0])
sampling_lp = torch.tensor([-3.0, -7.5, -7.0, -6.0, -8.0, -7.6, -7.7, -7.2, -7.4])
adv = torch.tensor([0.5, -1.0, 0.0, 1.5, 0.3, -0.2, 0.8, 1.0, -0.5])


def logprobs():
    logits = model(input_ids=inp).logits[0].double()
    return torch.log_softmax(logits, -1).gather(1, tgt[:, None])[:, 0]


def grads():
    out_g = {}
    for name, p in model.named_parameters():
        if "lora_" in name:
            # peft's saved key: drop the adapter name ("lora_A.default.weight" -> "lora_A.weight").
            key = name.replace(".default", "")
            out_g[key] = p.grad.detach().flatten().tolist()
    return out_g


ref = {"tokens": tokens, "weights": weights.tolist(), "sampling_logprobs": sampling_lp.tolist(),
       "advantages": adv.tolist(), "losses": {}}
model.zero_grad()
lp = logprobs()
ce = -(lp * weights).sum()
ce.backward()
ref["losses"]["cross_entropy"] = {"loss": ce.item(), "logprobs": lp.tolist(), "grads": grads()}
model.zero_grad()
lp = logprobs()
is_loss = -(torch.exp(lp - sampling_lp) * adv).sum()
is_loss.backward()
ref["losses"]["importance_sampling"] = {"loss": is_loss.item(), "grads": grads()}
ref["versions"] = {"torch": torch.__version__, "peft": __import__("peft").__version__,
                   "transformers": __import__("transformers").__version__}
with open(os.path.join(out, "reference.json"), "w") as f:
    json.dump(ref, f)
print(json.dumps({"cross_entropy": ref["losses"]["cross_entropy"]["loss"],
                  "importance_sampling": is_loss.item()}))
