"""A tiny random Llama as a quantised GGUF, written the way llama.cpp's converter writes one, and
transformers' own reading of that file as the reference.

Writes tests/fixtures/gguf/tiny-llama.gguf (about 150 KB): a 2-layer Llama (hidden 32, 4 heads,
2 KV heads, untied head) made by transformers with random weights, its tensors under llama.cpp's
names with q/k rows permuted as llama.cpp's converter does, quantised to a mix of Q8_0, Q4_0,
Q4_1, Q5_0, Q5_1 and F16 (norms F32), and the bundled model's byte-level BPE tokenizer and chat
template as `tokenizer.ggml.*` metadata. Then transformers loads the GGUF (gguf_file=), which
dequantises and un-permutes it independently of spell, and tests/fixtures/gguf/tiny-llama.json
records: token ids of a few texts and one chat prompt (transformers' GGUF tokenizer), next-token
logit summaries at every prompt's last position, and 16 greedy tokens.

Usage (from the repository root, with the `reference` venv):
  python peers/models/make_tiny_gguf.py
"""

import json
import random
from pathlib import Path

import gguf
import numpy as np
import torch
import transformers
from gguf import GGMLQuantizationType as T

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "gguf"
TOKENIZER = ROOT / "assets" / "model"
GREEDY_TOKENS = 16
PROBES = 48

# Which ggml type each tensor kind is stored as (every weight kind a different quantisation).
QUANT = {
    "token_embd": T.Q8_0,
    "output": T.Q4_0,
    "attn_q": T.Q4_1,
    "attn_k": T.Q5_0,
    "attn_v": T.Q5_1,
    "attn_output": T.Q8_0,
    "ffn_gate": T.Q4_1,
    "ffn_up": T.F16,
    "ffn_down": T.Q4_0,
}
HF_TO_GGUF = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
    "input_layernorm": "attn_norm",
    "post_attention_layernorm": "ffn_norm",
}


def permute(w, n_head):
    """llama.cpp's converter: interleave each head's two rotary halves (its non-NeoX RoPE)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def gguf_name(hf):
    if hf == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf == "model.norm.weight":
        return "output_norm.weight"
    if hf == "lm_head.weight":
        return "output.weight"
    parts = hf.split(".")  # model.layers.N.<module>.<sub>.weight
    layer, module = parts[2], ".".join(parts[3:-1])
    return f"blk.{layer}.{HF_TO_GGUF[module]}.weight"


def tokenizer_metadata(w):
    tj = json.loads((TOKENIZER / "tokenizer.json").read_text())
    tc = json.loads((TOKENIZER / "tokenizer_config.json").read_text())
    vocab = dict(tj["model"]["vocab"])
    for t in tj["added_tokens"]:
        vocab[t["content"]] = t["id"]
    tokens = [None] * len(vocab)
    for text, i in vocab.items():
        tokens[i] = text
    special = {t["id"] for t in tj["added_tokens"] if t["special"]}
    merges = [m if isinstance(m, str) else " ".join(m) for m in tj["model"]["merges"]]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(tokens)
    w.add_token_types([3 if i in special else 1 for i in range(len(tokens))])
    w.add_token_merges(merges)
    # No BOS is added (add_bos_token false), but transformers' GGUF tokenizer converter needs an id.
    w.add_bos_token_id(vocab[tc["pad_token"]])
    w.add_eos_token_id(vocab[tc["eos_token"]])
    w.add_pad_token_id(vocab[tc["pad_token"]])
    w.add_add_bos_token(False)
    w.add_chat_template(tc["chat_template"])
    return len(tokens)


def write_gguf(path):
    torch.manual_seed(25)
    gen = torch.Generator().manual_seed(25)
    vocab_size = len(json.loads((TOKENIZER / "tokenizer.json").read_text())["model"]["vocab"]) + len(
        json.loads((TOKENIZER / "tokenizer.json").read_text())["added_tokens"]
    )
    config = transformers.LlamaConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=64,
        vocab_size=vocab_size,
        max_position_embeddings=512,
        rms_norm_eps=1e-5,
        rope_theta=10000.0,
        initializer_range=0.3,
        tie_word_embeddings=False,
    )
    model = transformers.LlamaForCausalLM(config).eval()
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("spell tiny llama")
    w.add_custom_alignment(32)  # the default, written out so tests can patch it
    w.add_context_length(config.max_position_embeddings)
    w.add_embedding_length(config.hidden_size)
    w.add_block_count(config.num_hidden_layers)
    w.add_feed_forward_length(config.intermediate_size)
    w.add_head_count(config.num_attention_heads)
    w.add_head_count_kv(config.num_key_value_heads)
    w.add_layer_norm_rms_eps(config.rms_norm_eps)
    w.add_rope_freq_base(config.rope_theta)
    w.add_rope_dimension_count(config.hidden_size // config.num_attention_heads)
    w.add_vocab_size(vocab_size)
    assert tokenizer_metadata(w) == vocab_size
    with torch.no_grad():
        for name, p in model.named_parameters():
            data = p.detach().float().numpy()
            if "norm" in name:
                data = (1 + torch.randn(p.shape, generator=gen) * 0.2).numpy().astype(np.float32)
                w.add_tensor(gguf_name(name), data)
                continue
            if name.endswith("q_proj.weight"):
                data = permute(data, config.num_attention_heads)
            elif name.endswith("k_proj.weight"):
                data = permute(data, config.num_key_value_heads)
            kind = gguf_name(name).split(".")[-2] if name.startswith("model.layers") else gguf_name(name).split(".")[0]
            qtype = QUANT[kind]
            if qtype == T.F16:
                w.add_tensor(gguf_name(name), data.astype(np.float16))
            else:
                w.add_tensor(gguf_name(name), gguf.quants.quantize(data, qtype), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def summary(row, probe_ids):
    top = torch.topk(row, 8)
    return {
        "topIds": [int(i) for i in top.indices],
        "topValues": [float(f"{v:.7g}") for v in top.values],
        "probeValues": [float(f"{row[i]:.7g}") for i in probe_ids],
        "logSumExp": float(f"{torch.logsumexp(row, 0):.7g}"),
    }


def reference(path):
    model = transformers.AutoModelForCausalLM.from_pretrained(
        path.parent, gguf_file=path.name, torch_dtype=torch.float32
    ).eval()
    # The tokenizer the GGUF carries is the bundled model's (pre-tokenizer "qwen2"): its own
    # tokenizer.json is the reference for the ids. transformers' GGUF conversion of it is recorded
    # too; it keeps GPT-2's split regex instead of Qwen2's, so it may differ on digit runs.
    tok = transformers.AutoTokenizer.from_pretrained(TOKENIZER)
    gguf_tok = transformers.AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    rng = random.Random(25)
    V = model.config.vocab_size
    probe_ids = sorted(rng.sample(range(V), PROBES))
    texts = [
        "The river rose 12.5 feet in 1998, and the town moved uphill.",
        "  two spaces, a tab\tand\nnewlines\n\n; unicode: café 日本 😀",
        "def f(x):\n    return x ** 2  # square",
    ]
    chat = [{"role": "user", "content": "What did the town do when the river rose?"}]
    chat_ids = tok.apply_chat_template(chat, add_generation_prompt=True, tokenize=True)
    prompts = [tok.encode(t, add_special_tokens=False) for t in texts] + [list(chat_ids)]
    gguf_ids = [gguf_tok.encode(t, add_special_tokens=False) for t in texts]
    print("transformers' GGUF tokenizer equal to tokenizer.json:", [a == b for a, b in zip(gguf_ids, prompts)])
    prompts.append([rng.randrange(V) for _ in range(300)])
    out = []
    with torch.no_grad():
        for ids in prompts:
            logits = model(torch.tensor([ids])).logits[0, -1]
            greedy = model.generate(
                torch.tensor([ids]), max_new_tokens=GREEDY_TOKENS, do_sample=False, min_new_tokens=GREEDY_TOKENS
            )[0, len(ids):]
            out.append({"ids": ids, "last": summary(logits, probe_ids), "greedy": [int(t) for t in greedy]})
    return {
        "version": 1,
        "producer": "peers/models/make_tiny_gguf.py",
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "texts": texts,
        "textIdsTransformersGguf": gguf_ids,
        "chat": chat,
        "probeIds": probe_ids,
        "prompts": out,
    }


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "tiny-llama.gguf"
    write_gguf(path)
    ref = reference(path)
    (OUT / "tiny-llama.json").write_text(json.dumps(ref) + "\n")
    for f in (path, OUT / "tiny-llama.json"):
        print(f, f.stat().st_size)


if __name__ == "__main__":
    main()
