#!/usr/bin/env python3
"""Retrieval quality and indexing speed of `lokal rag` on bench/rag_eval.json: questions whose
answer lies in one known passage of ../shared/testdata/text/war-and-peace-200k.txt, split into
files of `lines_per_file` lines. A hit counts when it is the expected file and its line range
overlaps the expected one. Reports recall@1/5/10 and MRR for vector-only, BM25 and hybrid
retrieval, and the indexing throughput (chunks/s).

    bench/rag_eval.py --embed /tmp/minilm.gguf [--lokal build/lokal] [--threads 2]
"""
import argparse
import json
import os
import re
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--embed", required=True, help="embedding model (.gguf or store name)")
    ap.add_argument("--lokal", default=os.path.join(HERE, "..", "build", "lokal"))
    ap.add_argument("--eval", default=os.path.join(HERE, "rag_eval.json"))
    ap.add_argument("--text", default=os.path.join(HERE, "..", "..", "shared", "testdata", "text"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--chunk-chars", type=int, default=400)
    args = ap.parse_args()
    spec = json.load(open(args.eval))
    lines = open(os.path.join(args.text, spec["source"])).read().split("\n")
    n = spec["lines_per_file"]
    with tempfile.TemporaryDirectory() as d:
        folder = os.path.join(d, "corpus")
        os.makedirs(folder)
        for i in range(0, len(lines), n):
            with open(os.path.join(folder, f"part_{i // n:03d}.txt"), "w") as f:
                f.write("\n".join(lines[i:i + n]) + "\n")
        env = dict(os.environ, LOKAL_RAG_DIR=os.path.join(d, "rag"))
        t0 = time.monotonic()
        r = subprocess.run([args.lokal, "rag", "index", folder, "--name", "eval", "--embed",
                            args.embed, "-t", str(args.threads),
                            "--chunk-chars", str(args.chunk_chars)], env=env, capture_output=True,
                           text=True, check=True)
        wall = time.monotonic() - t0
        m = re.search(r"(\d+) chunks embedded in ([\d.]+) s \(([\d.]+) chunks/s\)", r.stderr)
        print(f"indexed {len(os.listdir(folder))} files, {m.group(1)} chunks in {wall:.1f} s wall "
              f"({m.group(3)} chunks/s embedding+storing, {args.threads} threads, chunks of at most "
              f"{args.chunk_chars} characters)")
        rows = []
        for mode in ("vector", "bm25", "hybrid"):
            ranks = []
            for q in spec["questions"]:
                out = subprocess.run([args.lokal, "rag", "search", "eval", q["question"], "--json",
                                      "-k", "10", "--mode", mode, "-t", str(args.threads)],
                                     env=env, capture_output=True, text=True, check=True).stdout
                rank = 0
                for i, h in enumerate(json.loads(out)):
                    if (h["path"] == q["file"] and h["start_line"] <= q["end_line"]
                            and h["end_line"] >= q["start_line"]):
                        rank = i + 1
                        break
                ranks.append(rank)
            total = len(ranks)
            recall = lambda k: sum(1 for x in ranks if 0 < x <= k) / total
            mrr = sum(1.0 / x for x in ranks if x) / total
            rows.append((mode, recall(1), recall(5), recall(10), mrr))
        print(f"\n{len(spec['questions'])} questions\n")
        print("| retrieval | recall@1 | recall@5 | recall@10 | MRR |")
        print("|---|---|---|---|---|")
        for mode, r1, r5, r10, mrr in rows:
            print(f"| {mode} | {r1:.3f} | {r5:.3f} | {r10:.3f} | {mrr:.3f} |")


if __name__ == "__main__":
    main()
