#!/usr/bin/env python3
"""Writes the GGUF golden files used by tests/io and the fuzz seed corpus.

Run with the reference venv (it has the `gguf` package):
    /opt/ptune-ref/bin/python scripts/reference/make_gguf_golden.py

Outputs (all small, committed):
  tests/data/gguf/quants.gguf   one tensor per ggml type, named after the type ("q4_k"), each
                                followed by "<name>.expected": the F32 values gguf-py's
                                dequantize() gives for it. Blocks come from seeded random data
                                run through gguf.quants.quantize() where gguf-py can quantize the
                                type, and from seeded random bytes (with sane fp16 scales)
                                otherwise, which also reaches every bit pattern of the quants.
                                "q2_k" has no expected tensor: we do not decode Q2_K.
  tests/data/gguf/meta_v3.gguf  v3, every metadata type, arrays of each, nested arrays,
                                general.alignment = 64, two small tensors.
  tests/data/gguf/meta_v2.gguf  the same layout with version 2 and the default alignment.
  fuzz/corpus/gguf/*.gguf       seeds: the two meta files and one-block files per type.
"""
from pathlib import Path

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q
from gguf import GGUFValueType as V

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "gguf"
CORPUS = ROOT / "fuzz" / "corpus" / "gguf"

# Types gguf-py can quantize, and types it can only dequantize (we feed those random bytes).
QUANTIZABLE = [Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q8_0]
BYTES_ONLY = [Q.Q4_K, Q.Q5_K, Q.Q6_K]
# Byte offsets of fp16 scale fields in each block: random bytes there could be inf/NaN.
HALF_FIELDS = {
    Q.Q4_0: [0], Q.Q4_1: [0, 2], Q.Q5_0: [0], Q.Q5_1: [0, 2], Q.Q8_0: [0],
    Q.Q4_K: [0, 2], Q.Q5_K: [0, 2], Q.Q6_K: [208], Q.Q2_K: [80, 82],
}


def write(path: Path, build, alignment=None, version=3):
    w = gguf.GGUFWriter(str(path), arch="test")
    if alignment is not None:
        w.add_custom_alignment(alignment)
    build(w)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    if version != 3:  # v2 and v3 share the layout (v3 only added big-endian files)
        b = bytearray(path.read_bytes())
        b[4:8] = version.to_bytes(4, "little")
        path.write_bytes(bytes(b))
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes")


def random_blocks(rng, qtype, n_blocks):
    """Random block bytes with every fp16 field replaced by a finite, moderate half."""
    _, type_size = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    for off in HALF_FIELDS[qtype]:
        halves = rng.uniform(-0.05, 0.05, size=n_blocks).astype(np.float16)
        raw[:, off:off + 2] = halves.view(np.uint8).reshape(n_blocks, 2)
    return raw


def quant_tensors(rng, rows_per_type):
    """(name, bytes-or-floats, raw_dtype, expected) for every type we decode."""
    out = []
    f32 = rng.standard_normal((2, 16)).astype(np.float32)
    out.append(("f32", f32, Q.F32, f32))
    special = np.array([0.0, -0.0, 1.0, -2.5, 65504.0, -65504.0, 6.1035156e-05, 5.9604645e-08,
                        3.0e-06, np.inf, -np.inf, 1.0 / 3.0], dtype=np.float32)
    f16 = np.concatenate([special, rng.standard_normal(20).astype(np.float32)]).astype(np.float16)
    out.append(("f16", f16.reshape(2, 16), Q.F16, f16.astype(np.float32).reshape(2, 16)))
    bf_src = np.concatenate([special, np.float32([1e-39, -3e38]),
                             rng.standard_normal(18).astype(np.float32)]).reshape(2, 16)
    bf16 = gguf.quants.quantize(bf_src, Q.BF16)
    out.append(("bf16", bf16, Q.BF16, gguf.quants.dequantize(bf16, Q.BF16)))
    for qt in QUANTIZABLE:
        # Two rows of two blocks from data (with an outlier and a constant block), then one row
        # of random bytes.
        data = rng.standard_normal((rows_per_type - 1, 64)).astype(np.float32)
        data[0, 5] = 7.0
        data[-1, 32:] = 0.25
        q = gguf.quants.quantize(data, qt)
        q = np.concatenate([q, random_blocks(rng, qt, 2).reshape(1, -1)])
        out.append((qt.name.lower(), q, qt, gguf.quants.dequantize(q, qt)))
    for qt in BYTES_ONLY:
        q = random_blocks(rng, qt, 4).reshape(2, -1)
        out.append((qt.name.lower(), q, qt, gguf.quants.dequantize(q, qt)))
    return out


def build_quants(w):
    rng = np.random.default_rng(20240601)
    for name, arr, qt, expected in quant_tensors(rng, rows_per_type=3):
        w.add_tensor(name, arr, raw_dtype=qt)
        w.add_tensor(name + ".expected", np.ascontiguousarray(expected, dtype=np.float32))
    w.add_tensor("q2_k", random_blocks(rng, Q.Q2_K, 1), raw_dtype=Q.Q2_K)


def build_meta(w, full=True):
    scalars = [
        ("u8", 200, V.UINT8), ("i8", -100, V.INT8), ("u16", 60000, V.UINT16),
        ("i16", -30000, V.INT16), ("u32", 4000000000, V.UINT32), ("i32", -2000000000, V.INT32),
        ("f32", 1.5, V.FLOAT32), ("bool", True, V.BOOL), ("string", "h\u00e9llo w\u00f6rld", V.STRING),
        ("u64", 2**63 + 5, V.UINT64), ("i64", -2**62, V.INT64), ("f64", 0.1, V.FLOAT64),
    ]
    for name, val, vt in scalars:
        w.add_key_value(f"test.{name}", val, vt)
    if full:
        arrays = [
            ("u8", [0, 1, 255], V.UINT8), ("i8", [-128, 0, 127], V.INT8),
            ("u16", [0, 65535], V.UINT16), ("i16", [-32768, 32767], V.INT16),
            ("u32", [0, 4294967295], V.UINT32), ("i32", [-2147483648, 2147483647], V.INT32),
            ("f32", [0.5, -1.25, 3.0], V.FLOAT32), ("bool", [True, False, True], V.BOOL),
            ("string", ["a", "", "ccc"], V.STRING), ("u64", [0, 2**64 - 1], V.UINT64),
            ("i64", [-2**63, 2**63 - 1], V.INT64), ("f64", [1e300, -2.5e-300], V.FLOAT64),
        ]
        for name, val, vt in arrays:
            w.add_key_value(f"test.arr.{name}", val, V.ARRAY, sub_type=vt)
        w.add_key_value("test.arr.nested", [[1, 2], [3]], V.ARRAY, sub_type=V.ARRAY)
        w.add_key_value("test.arr.nested_str", [["x", "y"], ["z"]], V.ARRAY, sub_type=V.ARRAY)
    w.add_tensor("a", np.arange(6, dtype=np.float32).reshape(2, 3))
    w.add_tensor("b", np.array([1, -2, 0.5, 3, 65504], dtype=np.float16))


def build_seed(qt, rng):
    def build(w):
        block_elems, _ = gguf.GGML_QUANT_SIZES[qt]
        if qt == Q.F32:
            w.add_tensor("t", rng.standard_normal(8).astype(np.float32))
        elif qt in (Q.F16, Q.BF16):
            w.add_tensor("t", gguf.quants.quantize(rng.standard_normal((1, 8)).astype(np.float32), qt)
                         if qt == Q.BF16 else rng.standard_normal(8).astype(np.float16),
                         raw_dtype=qt if qt == Q.BF16 else None)
        else:
            w.add_tensor("t", random_blocks(rng, qt, 1), raw_dtype=qt)
    return build


def main():
    DATA.mkdir(parents=True, exist_ok=True)
    CORPUS.mkdir(parents=True, exist_ok=True)
    write(DATA / "quants.gguf", build_quants)
    write(DATA / "meta_v3.gguf", build_meta, alignment=64)
    write(DATA / "meta_v2.gguf", lambda w: build_meta(w, full=False), version=2)
    for src in ("meta_v3.gguf", "meta_v2.gguf"):
        (CORPUS / src).write_bytes((DATA / src).read_bytes())
    rng = np.random.default_rng(7)
    for qt in [Q.F32, Q.F16, Q.BF16] + QUANTIZABLE + BYTES_ONLY:
        write(CORPUS / f"{qt.name.lower()}.gguf", build_seed(qt, rng), alignment=32)


if __name__ == "__main__":
    main()
