#!/usr/bin/env python3
"""Indexing throughput of `lokal rag index` on a folder of mixed text, and the cost of re-indexing
after one file changes.

The folder (--mb megabytes, 10 by default): this repository's tracked source and documentation
(C++, GLSL, Python, CMake, Markdown, JSON: about 3 MB), then copies of the prose in
../shared/testdata/text (War and Peace, 200 KB), each copy cut into files of 400 lines, until the
folder holds --mb MB. The copies differ only in their file names: the indexer embeds every file's
chunks, so repeated prose costs what new prose would.

    bench/rag_index_bench.py --embed /tmp/minilm.gguf [--lokal build/lokal] [--threads 2] [--mb 10]
"""
import argparse
import os
import re
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SOURCE_EXT = (".cpp", ".h", ".py", ".md", ".comp", ".glsl", ".cmake", ".json", ".txt", ".sh")
STATS = re.compile(r"\((\d+) new or changed.*?(\d+) chunks embedded in ([\d.]+) s \(([\d.]+) chunks/s\)")


def build_corpus(folder, megabytes, text_dir):
    limit = int(megabytes * (1 << 20))
    total = 0
    files = subprocess.run(["git", "-C", REPO, "ls-files"], capture_output=True, text=True,
                           check=True).stdout.split()
    for rel in sorted(files):
        if not rel.endswith(SOURCE_EXT) or total >= limit:
            continue
        data = open(os.path.join(REPO, rel), "rb").read()[:limit - total]
        dst = os.path.join(folder, "src", rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        open(dst, "wb").write(data)
        total += len(data)
    source_bytes = total
    prose = []
    for name in sorted(os.listdir(text_dir)):
        prose += open(os.path.join(text_dir, name), encoding="utf-8").read().split("\n")
    copy = 0
    while total < limit:
        for i in range(0, len(prose), 400):
            if total >= limit:
                break
            data = ("\n".join(prose[i:i + 400]) + "\n").encode()[:limit - total]
            dst = os.path.join(folder, "prose", f"copy{copy:03d}", f"part{i // 400:03d}.txt")
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            open(dst, "wb").write(data)
            total += len(data)
        copy += 1
    return source_bytes, total - source_bytes, copy


def index(args, env, folder):
    t0 = time.monotonic()
    r = subprocess.run([args.lokal, "rag", "index", folder, "--name", "bench", "--embed", args.embed,
                        "-t", str(args.threads)], env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    m = STATS.search(r.stderr)
    return int(m.group(1)), int(m.group(2)), float(m.group(3)), float(m.group(4)), wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--embed", required=True, help="embedding model (.gguf or store name)")
    ap.add_argument("--lokal", default=os.path.join(REPO, "build", "lokal"))
    ap.add_argument("--text", default=os.path.join(REPO, "..", "shared", "testdata", "text"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--mb", type=float, default=10.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        folder = os.path.join(d, "corpus")
        source, prose, copies = build_corpus(folder, args.mb, args.text)
        n_files = sum(len(f) for _, _, f in os.walk(folder))
        print(f"corpus: {n_files} files, {(source + prose) / (1 << 20):.1f} MB: "
              f"{source / (1 << 20):.1f} MB of this repository's source and docs, "
              f"{prose / (1 << 20):.1f} MB of prose ({copies} copies of {args.text})")
        env = dict(os.environ, LOKAL_RAG_DIR=os.path.join(d, "rag"))
        files, chunks, seconds, rate, wall = index(args, env, folder)
        print(f"first index: {files} files, {chunks} chunks embedded in {seconds:.1f} s: "
              f"{rate:.1f} chunks/s on {args.threads} threads ({wall:.1f} s wall, "
              f"{(source + prose) / (1 << 20) / wall:.2f} MB/s)")
        touched = next(os.path.join(r, f[0]) for r, _, f in sorted(os.walk(folder)) if f)
        with open(touched, "a") as f:
            f.write("One more line, so this file changes.\n")
        files, chunks, seconds, _, wall = index(args, env, folder)
        print(f"after touching one file: {files} file re-embedded ({chunks} chunks) in "
              f"{wall:.1f} s wall")


if __name__ == "__main__":
    main()
