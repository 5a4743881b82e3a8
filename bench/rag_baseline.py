#!/usr/bin/env python3
"""The plain Python baseline for bench/rag_eval.py: the same corpus (the eval source split into
files of `lines_per_file` lines), cut into sentence chunks, embedded by llama.cpp's
`llama-embedding` with the same GGUF, ranked by numpy cosine. Scored as rag_eval.py scores lokal:
a hit is a chunk of the expected file whose line range overlaps the expected one.

    bench/rag_baseline.py --embed /tmp/minilm.gguf --llama-embedding PATH/llama-embedding
"""
import argparse
import json
import os
import re
import subprocess
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SEP = "<#sep#>"
# A sentence ends at . ! or ? (and any closing quotes/brackets) followed by white space.
SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s+")


def sentence_chunks(text, max_sentences):
    """(start_line, end_line, text) for runs of up to max_sentences sentences (1-based lines)."""
    bounds, start = [], 0
    for m in SENTENCE_END.finditer(text):
        bounds.append((start, m.end()))
        start = m.end()
    if start < len(text):
        bounds.append((start, len(text)))
    line_of = lambda pos: text.count("\n", 0, pos) + 1
    out = []
    for i in range(0, len(bounds), max_sentences):
        a, b = bounds[i][0], bounds[min(i + max_sentences, len(bounds)) - 1][1]
        body = " ".join(text[a:b].split())
        if body:
            lead = len(text[a:b]) - len(text[a:b].lstrip())
            out.append((line_of(a + lead), line_of(max(a, b - 1)), body))
    return out


def embed(binary, model, texts, threads):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(SEP.join(texts))
        path = f.name
    try:
        r = subprocess.run([binary, "-m", model, "-f", path, "--embd-separator", SEP,
                            "--embd-output-format", "array", "--embd-normalize", "2",
                            "-t", str(threads), "-c", "8192", "-b", "8192", "-ub", "8192",
                            "-np", "256", "--no-warmup"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"llama-embedding failed:\n{r.stderr[-2000:]}")
        v = np.array(json.loads(r.stdout[r.stdout.index("["):]), dtype=np.float32)
    finally:
        os.unlink(path)
    if len(v) != len(texts):
        raise SystemExit(f"llama-embedding returned {len(v)} vectors for {len(texts)} texts")
    return v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--embed", required=True, help="embedding model .gguf")
    ap.add_argument("--llama-embedding", default="/tmp/llama.cpp-build/bin/llama-embedding")
    ap.add_argument("--eval", default=os.path.join(HERE, "rag_eval.json"))
    ap.add_argument("--text", default=os.path.join(HERE, "..", "..", "shared", "testdata", "text"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sentences", type=int, default=1, help="sentences per chunk")
    args = ap.parse_args()
    spec = json.load(open(args.eval))
    lines = open(os.path.join(args.text, spec["source"])).read().split("\n")
    n = spec["lines_per_file"]
    chunks = []  # (file, start_line, end_line, text)
    for i in range(0, len(lines), n):
        text = "\n".join(lines[i:i + n]) + "\n"
        name = f"part_{i // n:03d}.txt"
        chunks += [(name, a, b, t) for a, b, t in sentence_chunks(text, args.sentences)]
    questions = spec["questions"]
    t0 = time.monotonic()
    vectors = embed(args.llama_embedding, args.embed, [c[3] for c in chunks], args.threads)
    seconds = time.monotonic() - t0
    queries = embed(args.llama_embedding, args.embed, [q["question"] for q in questions],
                    args.threads)
    ranks = []
    for q, qv in zip(questions, queries):
        order = np.argsort(-(vectors @ qv), kind="stable")[:10]
        rank = 0
        for i, c in enumerate(order):
            name, a, b, _ = chunks[c]
            if name == q["file"] and a <= q["end_line"] and b >= q["start_line"]:
                rank = i + 1
                break
        ranks.append(rank)
    total = len(ranks)
    recall = lambda k: sum(1 for x in ranks if 0 < x <= k) / total
    mrr = sum(1.0 / x for x in ranks if x) / total
    print(f"{len(chunks)} sentence chunks ({args.sentences} sentence(s) each) embedded by "
          f"llama-embedding in {seconds:.1f} s ({len(chunks) / seconds:.1f} chunks/s, "
          f"{args.threads} threads, process start included)\n")
    print("| retrieval | recall@1 | recall@5 | recall@10 | MRR |")
    print("|---|---|---|---|---|")
    print(f"| python baseline (numpy cosine) | {recall(1):.3f} | {recall(5):.3f} | "
          f"{recall(10):.3f} | {mrr:.3f} |")


if __name__ == "__main__":
    main()
