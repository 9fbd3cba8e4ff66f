"""Write a Hugging Face tokenizer folder (tokenizer.json + tokenizer_config.json with the chat
template) from a GGUF file's own tokenizer metadata, for `spell eval/generate --tokenizer DIR`
against a llama.cpp server: llama-cpp-python has no vLLM-style /tokenize (its /extras/tokenize
takes plain text and applies no chat template), so the prompt is templated client-side.

    python peers/llamacpp/gguf_tokenizer.py MODEL.gguf OUT_DIR

Only byte-level BPE ("gpt2") vocabularies are handled: SmolLM2's. Its pre-tokenizer ("smollm" in
llama.cpp) is GPT-2's byte-level split after splitting digits one by one, as in SmolLM2's
published tokenizer.json.
"""

import json
import os
import sys

from gguf import GGUFReader

CONTROL = 3


def field(reader, key, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


def main():
    path, out = sys.argv[1], sys.argv[2]
    r = GGUFReader(path)
    model = field(r, "tokenizer.ggml.model")
    if model != "gpt2":
        sys.exit(f"{path}: tokenizer.ggml.model is {model!r}; only byte-level BPE ('gpt2') is handled")
    pre = field(r, "tokenizer.ggml.pre")
    if pre not in ("smollm", "default", "gpt-2"):
        sys.exit(f"{path}: pre-tokenizer {pre!r} is not handled")
    tokens = field(r, "tokenizer.ggml.tokens")
    types = field(r, "tokenizer.ggml.token_type")
    merges = field(r, "tokenizer.ggml.merges")
    bos = field(r, "tokenizer.ggml.bos_token_id")
    eos = field(r, "tokenizer.ggml.eos_token_id")
    template = field(r, "tokenizer.chat_template")
    added = [
        {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for i, t in enumerate(tokens) if types[i] == CONTROL
    ]
    pre_tokenizer = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    if pre == "smollm":
        pre_tokenizer = {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True}, pre_tokenizer]}
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
            "ignore_merges": False,
            "vocab": {t: i for i, t in enumerate(tokens)},
            "merges": [m.split(" ", 1) for m in merges],
        },
    }
    config = {
        "tokenizer_class": "GPT2Tokenizer",
        "add_bos_token": bool(field(r, "tokenizer.ggml.add_bos_token", False)),
        "bos_token": tokens[bos] if bos is not None else None,
        "eos_token": tokens[eos] if eos is not None else None,
        "unk_token": tokens[field(r, "tokenizer.ggml.unknown_token_id", 0)],
        "pad_token": tokens[field(r, "tokenizer.ggml.padding_token_id", eos)],
        "model_max_length": 8192,
        "clean_up_tokenization_spaces": False,
        "chat_template": template,
        "source": f"written by peers/llamacpp/gguf_tokenizer.py from {os.path.basename(path)}",
    }
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        json.dump(tokenizer, f, ensure_ascii=False)
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, ensure_ascii=False, indent=1)
    print(f"wrote {out}: vocab {len(tokens)}, {len(merges)} merges, eos {config['eos_token']!r}")


if __name__ == "__main__":
    main()
