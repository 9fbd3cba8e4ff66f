"""Test vectors for spell's GGUF reader and dequantisation, written by the `gguf` package.

Writes tests/fixtures/gguf/types.gguf — metadata of every GGUF value type and one 2x256 tensor of
each supported ggml type (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K) made of
random block bytes with valid f16 scales — and tests/fixtures/gguf/types.json with what
gguf.quants.dequantize makes of each tensor (float32 bits, base64), the reference the TypeScript
kernels must equal.

Usage (from the repository root, with the `reference` venv):
  python peers/models/make_gguf_vectors.py
"""

import base64
import json
from pathlib import Path

import gguf
import numpy as np
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType as T

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "gguf"
TYPES = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"]
# Byte offsets of the f16 scale fields inside one block (everything else is random bytes).
F16_FIELDS = {
    "Q8_0": [0], "Q4_0": [0], "Q4_1": [0, 2], "Q5_0": [0], "Q5_1": [0, 2],
    "Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208],
}
ROWS, COLS = 2, 256


def raw_tensor(rng, name):
    qtype = T[name]
    if name == "F32":
        return rng.standard_normal((ROWS, COLS)).astype(np.float32)
    if name == "F16":
        return rng.standard_normal((ROWS, COLS)).astype(np.float16)
    if name == "BF16":
        return gguf.quants.quantize(rng.standard_normal((ROWS, COLS)).astype(np.float32), qtype)
    block, size = GGML_QUANT_SIZES[qtype]
    n_blocks = ROWS * COLS // block
    raw = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    for off in F16_FIELDS[name]:
        scales = (rng.standard_normal(n_blocks) * 0.05).astype(np.float16)
        raw[:, off : off + 2] = scales.view(np.uint8).reshape(n_blocks, 2)
    return raw.reshape(ROWS, -1)


def main():
    rng = np.random.default_rng(1919)
    OUT.mkdir(parents=True, exist_ok=True)
    w = gguf.GGUFWriter(OUT / "types.gguf", "llama")
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4_000_000_000)
    w.add_int32("test.i32", -2_000_000_000)
    w.add_float32("test.f32", 0.25)
    w.add_bool("test.bool", True)
    w.add_string("test.string", "héllo ✓")
    w.add_array("test.strings", ["a", "", "ß"])
    w.add_array("test.ints", [1, -2, 3])
    w.add_uint64("test.u64", 2**40 + 1)
    w.add_int64("test.i64", -(2**40))
    w.add_float64("test.f64", 1.5e300)
    expected = []
    for name in TYPES:
        data = raw_tensor(rng, name)
        qtype = T[name]
        if name in ("F32", "F16"):
            w.add_tensor(f"t.{name}", data)
            floats = data.astype(np.float32)
        else:
            w.add_tensor(f"t.{name}", data, raw_dtype=qtype)
            floats = gguf.quants.dequantize(data, qtype).astype(np.float32)
        assert floats.shape == (ROWS, COLS), (name, floats.shape)
        expected.append(
            {
                "name": f"t.{name}",
                "type": name,
                "shape": [COLS, ROWS],
                "float32Base64": base64.b64encode(floats.astype("<f4").tobytes()).decode(),
            }
        )
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    (OUT / "types.json").write_text(
        json.dumps(
            {
                "version": 1,
                "producer": "peers/models/make_gguf_vectors.py",
                "gguf": gguf.__version__ if hasattr(gguf, "__version__") else "0.19.0",
                "tensors": expected,
            },
            indent=1,
        )
        + "\n"
    )
    for f in OUT.iterdir():
        print(f, f.stat().st_size)


if __name__ == "__main__":
    main()
