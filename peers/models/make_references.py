"""Reference values for spell's model families, written by transformers (the independent reference).

Two parts, each writing small files under tests/fixtures/models/ that spell's tests compare against
(so `npm test` needs no torch):

  tiny     three tiny random models made by transformers — Llama (tied head, llama3 RoPE scaling,
           saved BF16), Qwen2 (q/k/v bias, saved F16 in shards), Qwen3 (q/k norm, F32) — saved as HF
           folders, with logits rows and 32 greedy tokens for five prompts each.
  smollm2  SmolLM2-135M-Instruct from its Q4_1 GGUF, loaded by transformers with gguf_file= (the
           gguf package dequantises it to the same fp32 weights spell uses): chat-template ids,
           greedy 32 tokens and next-token logit summaries for six prompts (one over 1,500
           tokens), and the tokenizer's ids on a corpus of a few thousand varied lines.

Usage (from the repository root, with the `reference` venv):
  python peers/models/make_references.py tiny
  python peers/models/make_references.py smollm2 /path/to/SmolLM2-135M-Instruct.Q4_1.gguf
"""

import base64
import json
import os
import random
import sys
import unicodedata
from pathlib import Path

import numpy as np
import torch
import transformers

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "models"
GREEDY_TOKENS = 32


def greedy(model, ids, n=GREEDY_TOKENS):
    """Greedy decoding with the KV cache; returns the tokens and each step's top1-top2 margin."""
    with torch.no_grad():
        out = model(torch.tensor([ids]), use_cache=True)
        past = out.past_key_values
        logits = out.logits[0, -1]
        tokens, margins = [], []
        for _ in range(n):
            top = torch.topk(logits, 2)
            tok = int(top.indices[0])
            tokens.append(tok)
            margins.append(float(top.values[0] - top.values[1]))
            out = model(torch.tensor([[tok]]), past_key_values=past, use_cache=True)
            past = out.past_key_values
            logits = out.logits[0, -1]
    return tokens, margins


def full_logits(model, ids):
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].float().numpy()


def r6(xs):
    return [float(f"{x:.6g}") for x in xs]


# ---------------------------------------------------------------------------------------------
# tiny random models


def tiny_configs():
    common = dict(
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=128,
        vocab_size=320,
        max_position_embeddings=2048,
        rms_norm_eps=1e-5,
        initializer_range=0.08,
        hidden_act="silu",
        bos_token_id=1,
        eos_token_id=2,
    )
    llama = transformers.LlamaConfig(
        **common,
        rope_theta=10000.0,
        rope_scaling=dict(
            rope_type="llama3",
            factor=8.0,
            low_freq_factor=1.0,
            high_freq_factor=4.0,
            original_max_position_embeddings=64,
        ),
        tie_word_embeddings=True,
    )
    qwen2 = transformers.Qwen2Config(**common, rope_theta=1000000.0, tie_word_embeddings=False)
    qwen3 = transformers.Qwen3Config(
        **common, head_dim=16, rope_theta=1000000.0, tie_word_embeddings=False
    )
    return [
        ("llama", llama, transformers.LlamaForCausalLM, torch.bfloat16, None),
        ("qwen2", qwen2, transformers.Qwen2ForCausalLM, torch.float16, "60KB"),
        ("qwen3", qwen3, transformers.Qwen3ForCausalLM, torch.float32, None),
    ]


def tiny():
    gen = torch.Generator().manual_seed(19)
    rng = random.Random(19)
    for name, config, cls, dtype, shard in tiny_configs():
        torch.manual_seed(19)
        model = cls(config).eval()
        with torch.no_grad():
            # Biases start at zero and norms at one in transformers; randomise them so the
            # comparison exercises them.
            for pname, p in model.named_parameters():
                if pname.endswith("bias"):
                    p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
                elif "norm" in pname:
                    p.copy_(1 + torch.randn(p.shape, generator=gen) * 0.2)
        folder = OUT / f"tiny-{name}"
        model.to(dtype).save_pretrained(
            folder, safe_serialization=True, **({"max_shard_size": shard} if shard else {})
        )
        # The reference runs on exactly the saved (rounded) weights, in fp32.
        model = cls.from_pretrained(folder, torch_dtype=torch.float32).eval()
        lengths = [1, 9, 40, 150, 1600]
        prompts = []
        for T in lengths:
            ids = [rng.randrange(3, config.vocab_size) for _ in range(T)]
            logits = full_logits(model, ids)
            rows = sorted({0, T // 2, T - 1})
            tokens, margins = greedy(model, ids)
            prompts.append(
                {
                    "ids": ids,
                    "rows": {str(t): r6(logits[t]) for t in rows},
                    "greedy": tokens,
                    "greedyMargins": r6(margins),
                }
            )
        ref = {
            "version": 1,
            "producer": "peers/models/make_references.py tiny",
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "family": name,
            "dtype": str(dtype).removeprefix("torch."),
            "prompts": prompts,
        }
        (folder / "reference.json").write_text(json.dumps(ref) + "\n")
        size = sum(f.stat().st_size for f in folder.iterdir())
        print(f"{folder}: {size / 1024:.0f} KiB")


# ---------------------------------------------------------------------------------------------
# SmolLM2 from its GGUF


def corpus_lines():
    """A few thousand varied lines: the repository's docs and code, plus generated unicode,
    numbers and whitespace runs. Deterministic."""
    rng = random.Random(1919)
    lines = []
    for pattern in ["docs/**/*.md", "src/**/*.ts", "peers/**/*.py", "native/**/*.cc"]:
        for f in sorted(ROOT.glob(pattern)):
            if "fixtures" in f.parts:
                continue
            for line in f.read_text(encoding="utf-8").split("\n"):
                if line.strip():
                    lines.append(line)
    rng.shuffle(lines)
    lines = lines[:2200]
    scripts = [
        "Grüße aus Köln, ça va? Ñandú — “quotes” ‘single’ «guillemets»",
        "日本語のテキストと漢字、カタカナ、ひらがな。中文句子，标点符号！",
        "Русский текст, Ελληνικά γράμματα, עברית, العربية, हिन्दी, ไทย",
        "emoji 😀🎉👩‍💻🇫🇷 ❤️ ✔︎ ∑∫√∞ ≤≥≠ ½ ⅓ ² ³ ℃ ™ © ®",
        "combining: e\u0301 a\u0308 n\u0303 — NFC é ä ñ; zero width\u200bjoin\u200d",
    ]
    for i in range(1000):
        kind = i % 8
        if kind == 0:
            lines.append(rng.choice(scripts) + " " + str(rng.randrange(10**9)))
        elif kind == 1:
            lines.append(" ".join(str(rng.uniform(-1e6, 1e6)) for _ in range(rng.randrange(1, 6))))
        elif kind == 2:
            lines.append(
                "x" + " " * rng.randrange(1, 17) + "y" + "\t" * rng.randrange(1, 4) + "z" + " " * rng.randrange(0, 5)
            )
        elif kind == 3:
            lines.append("".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(1, 40))))
        elif kind == 4:
            lines.append(f"{rng.randrange(10**12):,} {rng.randrange(100)}% ${rng.randrange(10**6)}.{rng.randrange(100):02d} 0x{rng.randrange(2**32):08x}")
        elif kind == 5:
            lines.append(
                "    def f_%d(self, a=%d):  # comment\treturn a**2 // 3 if a != 0 else {'k': [1, 2]}"
                % (i, rng.randrange(1000))
            )
        elif kind == 6:
            lines.append("  ".join(rng.choice(["<|im_start|>", "<|im_end|>", "user", "assistant", "I'm", "don't", "it's", "we'll"]) for _ in range(rng.randrange(1, 8))))
        else:
            lines.append(unicodedata.normalize("NFD", rng.choice(scripts)) + "   " + "!" * rng.randrange(1, 5))
    return [l.replace("\r", "") for l in lines]


def smollm2(gguf_path):
    gguf_path = Path(gguf_path).resolve()
    folder = OUT / "smollm2"
    folder.mkdir(parents=True, exist_ok=True)
    tok = transformers.AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        gguf_path.parent, gguf_file=gguf_path.name, torch_dtype=torch.float32
    ).eval()

    lines = corpus_lines()
    (folder / "tokenizer-corpus.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ids_all, lengths = [], []
    for line in lines:
        ids = tok.encode(line, add_special_tokens=False)
        ids_all.extend(ids)
        lengths.append(len(ids))
    packed = np.asarray(ids_all, dtype="<u2").tobytes()
    (folder / "tokenizer-ids.json").write_text(
        json.dumps(
            {
                "version": 1,
                "producer": "peers/models/make_references.py smollm2",
                "transformers": transformers.__version__,
                "addSpecialTokens": False,
                "lines": len(lines),
                "lengths": lengths,
                "idsUint16LeBase64": base64.b64encode(packed).decode(),
            }
        )
        + "\n"
    )

    # The long prompt: corpus lines until the chat-formatted prompt passes 1,600 tokens.
    long_lines = []
    while len(tok.encode("\n".join(long_lines), add_special_tokens=False)) < 1600:
        long_lines.append(lines[len(long_lines)])
    long_text = "\n".join(long_lines)
    conversations = [
        [{"role": "user", "content": "What is the capital of France?"}],
        [{"role": "user", "content": "Write a haiku about the sea."}],
        [
            {"role": "system", "content": "You are a terse assistant."},
            {"role": "user", "content": "List three prime numbers."},
        ],
        [{"role": "user", "content": "Translate 'good morning' into Spanish."}],
        [{"role": "user", "content": "def add(a, b):\n    return a + b\n\nWhat does this function do?"}],
        [{"role": "user", "content": "Summarise the following text in one sentence.\n\n" + long_text}],
    ]
    probe_ids = list(range(0, 49152, 769))
    prompts = []
    for messages in conversations:
        ids = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        logits = full_logits(model, ids)
        T = len(ids)
        rows = {}
        for t in sorted({T // 2, T - 1}):
            row = torch.tensor(logits[t])
            top = torch.topk(row, 20)
            rows[str(t)] = {
                "topIds": [int(i) for i in top.indices],
                "topValues": r6(top.values.tolist()),
                "probeValues": r6(row[probe_ids].tolist()),
                "logSumExp": float(torch.logsumexp(row.double(), 0)),
            }
        tokens, margins = greedy(model, ids)
        prompts.append(
            {
                "messages": messages,
                "ids": ids,
                "rows": rows,
                "greedy": tokens,
                "greedyText": tok.decode(tokens),
                "greedyMargins": r6(margins),
            }
        )
        print(f"prompt of {T} tokens: {tok.decode(tokens)!r}")
    ref = {
        "version": 1,
        "producer": "peers/models/make_references.py smollm2",
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "gguf": os.path.basename(gguf_path),
        "probeIds": probe_ids,
        "prompts": prompts,
    }
    (folder / "reference.json").write_text(json.dumps(ref) + "\n")
    for f in folder.iterdir():
        print(f"{f}: {f.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    torch.set_num_threads(1)
    if sys.argv[1:2] == ["tiny"]:
        tiny()
    elif sys.argv[1:2] == ["smollm2"] and len(sys.argv) == 3:
        smollm2(sys.argv[2])
    else:
        sys.exit(__doc__)
