#!/usr/bin/python3
"""Loads a .safetensors file with numpy and with torch, independently of ablate's reader, and
prints what each saw as one JSON object:

  {"metadata": {...}, "tensors": {"name": {"dtype": "F32", "shape": [2, 3],
                                           "numpy_sum": 1.5, "torch_sum": 1.5}, ...}}

Run it with /usr/bin/python3 (Debian's python3-numpy and python3-torch):
  /usr/bin/python3 tools/safetensors_check.py checkpoints/last.safetensors
Exits 1, saying why, when the file breaks the format or the two libraries disagree.
"""
import json
import struct
import sys

import numpy as np
import torch

NUMPY_DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "U8": np.uint8,
                "F16": np.float16, "I32": np.int32, "I16": np.int16, "I8": np.int8,
                "BOOL": np.bool_}
TORCH_DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64,
                "U8": torch.uint8, "F16": torch.float16, "BF16": torch.bfloat16,
                "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "BOOL": torch.bool}


def fail(message):
    print(f"safetensors_check: {message}", file=sys.stderr)
    sys.exit(1)


def main(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        fail("shorter than the header size field")
    (header_size,) = struct.unpack("<Q", data[:8])
    if 8 + header_size > len(data):
        fail("truncated header")
    if (8 + header_size) % 8 != 0:
        fail("tensor data does not start at a multiple of 8")
    header = json.loads(data[8:8 + header_size].decode("utf-8"))
    body = bytearray(data[8 + header_size:])  # writable, as torch.frombuffer wants
    metadata = header.pop("__metadata__", {})

    tensors = {}
    covered = 0
    for name, entry in sorted(header.items(), key=lambda item: item[1]["data_offsets"]):
        begin, end = entry["data_offsets"]
        if begin != covered:
            fail(f"{name}: data starts at {begin}, expected {covered}")
        covered = end
        shape = entry["shape"]
        count = int(np.prod(shape, dtype=np.int64))
        array = np.frombuffer(body, dtype=NUMPY_DTYPES[entry["dtype"]], count=count,
                              offset=begin).reshape(shape)
        tensor = torch.frombuffer(body, dtype=TORCH_DTYPES[entry["dtype"]], count=count,
                                  offset=begin).reshape(shape) if count else \
            torch.empty(shape, dtype=TORCH_DTYPES[entry["dtype"]])
        if array.nbytes != end - begin:
            fail(f"{name}: shape {shape} of {entry['dtype']} is not {end - begin} bytes")
        numpy_sum = array.astype(np.float64).sum().item()
        torch_sum = tensor.to(torch.float64).sum().item()
        if not np.array_equal(array, tensor.numpy()):
            fail(f"{name}: numpy and torch read different values")
        tensors[name] = {"dtype": entry["dtype"], "shape": list(tensor.shape),
                         "numpy_sum": numpy_sum, "torch_sum": torch_sum}
    if covered != len(body):
        fail(f"{len(body) - covered} bytes after the last tensor")
    print(json.dumps({"metadata": metadata, "tensors": tensors}))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        fail("usage: safetensors_check.py FILE.safetensors")
    main(sys.argv[1])
