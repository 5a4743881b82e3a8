#!/usr/bin/env python3
"""Quantizes one GGUF model with `lokal quantize` and with llama.cpp's `llama-quantize` for each
type, times both, and compares the output tensors (names, types, shapes, bytes).

    bench/compare_quantize.py --lokal build/lokal --llama-quantize /path/llama-quantize \
        --model in-f16.gguf --threads 2 [--types Q4_0,Q4_K_M] [--workdir /tmp/x] \
        [--imatrix imatrix.gguf]

With --imatrix both tools quantize with that importance matrix (`lokal imatrix` or
llama-imatrix makes one).

Prints one line per type: identical or not (and which tensors differ, by how many bytes), both
tools' wall times. Exit code 1 when any type differs.
"""
import argparse
import os
import struct
import subprocess
import sys
import time

TYPES = ["F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q3_K_M",
         "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "IQ4_NL", "IQ4_XS"]

# ggml type id -> (block elements, block bytes)
BLOCKS = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
          10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
          20: (32, 18), 23: (256, 136), 30: (1, 2)}


def read_tensors(path):
    """name -> (type id, dims, bytes) of a GGUF v3 file (only what the comparison needs)."""
    with open(path, "rb") as f:
        data = f.read()
    off = 0

    def take(fmt):
        nonlocal off
        v = struct.unpack_from("<" + fmt, data, off)
        off += struct.calcsize("<" + fmt)
        return v[0] if len(v) == 1 else v

    def string():
        nonlocal off
        n = take("Q")
        s = data[off:off + n].decode()
        off += n
        return s

    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q",
              12: "d"}

    def value(t):
        if t == 8:
            return string()
        if t == 9:
            et, n = take("I"), take("Q")
            return [value(et) for _ in range(n)]
        return take(scalar[t])

    assert take("I") == 0x46554747, path
    take("I")
    n_tensors, n_kv = take("Q"), take("Q")
    meta = {}
    for _ in range(n_kv):
        k = string()
        meta[k] = value(take("I"))
    infos = []
    for _ in range(n_tensors):
        name = string()
        nd = take("I")
        dims = [take("Q") for _ in range(nd)]
        t = take("I")
        o = take("Q")
        infos.append((name, dims, t, o))
    align = meta.get("general.alignment", 32)
    base = (off + align - 1) // align * align
    out = {}
    for name, dims, t, o in infos:
        n = 1
        for d in dims:
            n *= d
        be, bb = BLOCKS[t]
        size = n // be * bb
        out[name] = (t, dims, data[base + o:base + o + size])
    return out


def run(cmd):
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lokal", required=True)
    ap.add_argument("--llama-quantize", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--types", default=",".join(TYPES))
    ap.add_argument("--workdir", default="/tmp")
    ap.add_argument("--imatrix", help="importance matrix file given to both tools")
    ap.add_argument("--lokal-before", help="another lokal binary to time too (an older build)")
    args = ap.parse_args()
    any_diff = False
    for ty in args.types.split(","):
        ours = os.path.join(args.workdir, f"cmp-lokal-{ty}.gguf")
        theirs = os.path.join(args.workdir, f"cmp-llama-{ty}.gguf")
        im_ours = ["--imatrix", args.imatrix] if args.imatrix else []
        im_theirs = ["--imatrix", args.imatrix] if args.imatrix else []
        t_ours = run([args.lokal, "quantize", "-q", "-t", str(args.threads)] + im_ours +
                     [args.model, ours, ty])
        t_theirs = run([args.llama_quantize] + im_theirs +
                       [args.model, theirs, ty, str(args.threads)])
        before = ""
        if args.lokal_before:
            scratch = os.path.join(args.workdir, f"cmp-before-{ty}.gguf")
            t_before = run([args.lokal_before, "quantize", "-q", "-t", str(args.threads)] +
                           im_ours + [args.model, scratch, ty])
            os.unlink(scratch)
            before = f"   lokal before {t_before:7.2f} s"
        a, b = read_tensors(ours), read_tensors(theirs)
        diffs = []
        if set(a) != set(b):
            diffs.append(f"tensor names differ: {sorted(set(a) ^ set(b))[:5]}")
        for name in sorted(set(a) & set(b)):
            (ta, da, xa), (tb, db, xb) = a[name], b[name]
            if ta != tb or da != db:
                diffs.append(f"{name}: type/shape {ta}{da} vs {tb}{db}")
            elif xa != xb:
                nbytes = sum(1 for i in range(len(xa)) if xa[i] != xb[i]) if len(xa) < 1 << 22 else -1
                diffs.append(f"{name}: {nbytes} of {len(xa)} bytes differ (type {ta})")
        any_diff |= bool(diffs)
        status = "identical" if not diffs else f"DIFFERENT ({len(diffs)} tensors)"
        print(f"{ty:7s} {status:28s} lokal {t_ours:7.2f} s   llama-quantize {t_theirs:7.2f} s"
              f"{before}", flush=True)
        for d in diffs[:5]:
            print("        " + d)
        for p in (ours, theirs):
            os.unlink(p)
    return 1 if any_diff else 0


if __name__ == "__main__":
    sys.exit(main())
