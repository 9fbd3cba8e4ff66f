"""llama.cpp's token ids for the SmolLM2 tokenizer corpus (a second reference beside transformers).

transformers builds its tokenizer from the GGUF without SmolLM2's digit-splitting pre-tokenizer
step, while llama.cpp implements `tokenizer.ggml.pre = smollm` (digits split, then GPT-2's regex),
as the model's own tokenizer.json does. spell follows the model; this file lets the test check
every line against llama.cpp and show where transformers' GGUF conversion differs.

Usage (llama-cpp-python venv, after make_references.py smollm2):
  python peers/models/llamacpp_tokenize.py /path/to/SmolLM2-135M-Instruct.Q4_1.gguf
"""

import base64
import json
import sys
from pathlib import Path

import llama_cpp
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DIR = ROOT / "tests" / "fixtures" / "models" / "smollm2"


def main(gguf_path):
    llm = llama_cpp.Llama(model_path=gguf_path, vocab_only=True, verbose=False)
    lines = (DIR / "tokenizer-corpus.txt").read_text(encoding="utf-8").split("\n")[:-1]
    ids_all, lengths = [], []
    for line in lines:
        ids = llm.tokenize(line.encode("utf-8"), add_bos=False, special=True)
        ids_all.extend(ids)
        lengths.append(len(ids))
    (DIR / "tokenizer-ids-llamacpp.json").write_text(
        json.dumps(
            {
                "version": 1,
                "producer": "peers/models/llamacpp_tokenize.py",
                "llama_cpp_python": llama_cpp.__version__,
                "lines": len(lines),
                "lengths": lengths,
                "idsUint16LeBase64": base64.b64encode(np.asarray(ids_all, dtype="<u2").tobytes()).decode(),
            }
        )
        + "\n"
    )
    print(f"{len(lines)} lines, {len(ids_all)} ids")


if __name__ == "__main__":
    main(sys.argv[1])
