#!/usr/bin/env python3
"""Compare `lokal embed` with llama.cpp's `llama-embedding` on the same GGUF and the same texts.

Usage: compare-embedding.py MODEL.gguf --llama-embedding PATH [--lokal build/lokal]
                            [--text FILE] [--count N] [--threads 2] [--tol 1e-3] [--min-cos 0.9999]

The texts are the first N non-empty lines of FILE (default: the shared War and Peace sample),
cut to 400 characters. Prints cosine similarity and the largest element difference per text and
exits 1 when any text is past the tolerance. llama-embedding prints 7 decimals, so differences
below about 1e-7 are its rounding.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def read_texts(path, count):
    texts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                texts.append(line[:400])
            if len(texts) == count:
                break
    return texts


def llama_vectors(binary, model, texts, threads):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(texts) + "\n")
        path = f.name
    try:
        out = subprocess.run([binary, "-m", model, "-f", path, "--embd-output-format", "array",
                              "-t", str(threads), "-c", "512", "-b", "512", "-ub", "512"],
                             check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(path)
    return np.array(json.loads(out[out.index("["):]))


def lokal_vectors(binary, model, texts, threads):
    out = subprocess.run([binary, "embed", "-t", str(threads), model, *texts],
                         check=True, capture_output=True, text=True).stdout
    return np.array(json.loads(out)["embeddings"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--llama-embedding", required=True)
    ap.add_argument("--lokal", default=os.path.join(HERE, "..", "build", "lokal"))
    ap.add_argument("--text", default=os.path.join(HERE, "..", "..", "shared", "testdata", "text",
                                                   "war-and-peace-200k.txt"))
    ap.add_argument("--count", type=int, default=24)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("--min-cos", type=float, default=0.9999)
    args = ap.parse_args()

    texts = read_texts(args.text, args.count)
    theirs = llama_vectors(args.llama_embedding, args.model, texts, args.threads)
    ours = lokal_vectors(args.lokal, args.model, texts, args.threads)
    if theirs.shape != ours.shape:
        sys.exit(f"shapes differ: llama-embedding {theirs.shape}, lokal {ours.shape}")
    worst_cos, worst_diff = 1.0, 0.0
    for i, (a, b) in enumerate(zip(theirs, ours)):
        cos = float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
        diff = float(np.abs(a - b).max())
        worst_cos, worst_diff = min(worst_cos, cos), max(worst_diff, diff)
        print(f"{i:3d}  cos {cos:.7f}  max|diff| {diff:.2e}  {texts[i][:48]!r}")
    ok = worst_cos >= args.min_cos and worst_diff <= args.tol
    print(f"{len(texts)} texts, dim {ours.shape[1]}: worst cosine {worst_cos:.7f}, "
          f"worst max|diff| {worst_diff:.2e} -> {'match' if ok else 'MISMATCH'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
