#!/usr/bin/env python3
"""Compare two GGUF files: metadata (keys and values) and tensors (name, type, shape, bytes).

Usage: PYTHONPATH=path/to/llama.cpp/gguf-py compare-gguf.py OURS.gguf THEIRS.gguf [--ignore KEY...]
Prints every difference; exits 1 when there is one.
"""
import sys

import numpy as np
from gguf import GGUFReader


def field_value(f):
    if not f.types:
        return None
    if f.types[0].name == "ARRAY":
        return [bytes(f.parts[i]).decode("utf-8", "replace") if f.types[-1].name == "STRING"
                else f.parts[i].tolist() for i in f.data]
    if f.types[0].name == "STRING":
        return bytes(f.parts[f.data[0]]).decode("utf-8", "replace")
    return f.parts[f.data[0]].tolist()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    ignore = set()
    if "--ignore" in sys.argv:
        ignore = set(sys.argv[sys.argv.index("--ignore") + 1:])
        args = sys.argv[1:sys.argv.index("--ignore")]
    a, b = GGUFReader(args[0]), GGUFReader(args[1])
    diffs = 0
    fa = {k: field_value(v) for k, v in a.fields.items() if not k.startswith("GGUF.")}
    fb = {k: field_value(v) for k, v in b.fields.items() if not k.startswith("GGUF.")}
    for k in sorted(set(fa) | set(fb)):
        if k in ignore:
            continue
        if k not in fa:
            print(f"metadata only in {args[1]}: {k} = {str(fb[k])[:120]}")
            diffs += 1
        elif k not in fb:
            print(f"metadata only in {args[0]}: {k} = {str(fa[k])[:120]}")
            diffs += 1
        elif fa[k] != fb[k]:
            va, vb = fa[k], fb[k]
            if isinstance(va, list) and isinstance(vb, list) and len(va) == len(vb):
                first = next(i for i in range(len(va)) if va[i] != vb[i])
                print(f"metadata differs: {k}[{first}]: {va[first]!r} vs {vb[first]!r}")
            else:
                print(f"metadata differs: {k}: {str(va)[:120]} vs {str(vb)[:120]}")
            diffs += 1
    ta = {t.name: t for t in a.tensors}
    tb = {t.name: t for t in b.tensors}
    for name in sorted(set(ta) | set(tb)):
        if name not in ta or name not in tb:
            print(f"tensor only in one file: {name}")
            diffs += 1
            continue
        x, y = ta[name], tb[name]
        if x.tensor_type != y.tensor_type or list(x.shape) != list(y.shape):
            print(f"tensor {name}: {x.tensor_type.name}{list(x.shape)} vs {y.tensor_type.name}{list(y.shape)}")
            diffs += 1
        elif not np.array_equal(np.asarray(x.data).view(np.uint8), np.asarray(y.data).view(np.uint8)):
            print(f"tensor {name}: bytes differ")
            diffs += 1
    print(f"{len(ta)} tensors, {len(fa)} keys compared: {diffs} differences")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
