#!/usr/bin/env python3
"""lokal bench beside llama-bench on the same random-weight models of real models' shapes.

Generates the models with build/bench/make_bench_model (our GGUF writer and quantizer) into
--dir (never into the repository), then for each model runs `lokal bench` and, when
LLAMA_BENCH=/path/to/llama-bench is set, llama-bench with the same prompt/generation sizes and
threads, alternating the two programs, and prints tokens/s and the lokal/llama.cpp ratios, and
each program's peak resident memory over its runs of that model (GNU time's %M). After each
generation row, the bytes each program streams per second (tg tok/s x model file size) as a
fraction of the machine's read bandwidth, measured by build/bench/bench_bandwidth just before
that model's runs: how close generation comes to the memory bound.

    bench/compare_llama.py --shapes qwen-0.5b,llama-1b --types q4_0,q4_k_m,q8_0 -p 512 -n 128

Every run is checked for contention: CPU time that other processes (or the hypervisor, as steal
time) took during it, from /proc/stat against the run's own CPU time. Past 10% of one core a
warning names the run on stderr and in a list at the end, since its figures are then low.

--cache-type q8_0 runs both programs with that KV cache type (llama.cpp with flash attention,
which its quantized V cache needs) and -d N starts every test after N tokens of context.
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

VOCABS = {"llama-1b": "ggml-vocab-llama-bpe.gguf", "qwen-0.5b": "ggml-vocab-qwen2.gguf"}


PEAK_RSS = {}  # program -> peak resident KiB over the runs of the current model
CONTENDED = []  # warnings about runs that shared the CPU
CONTENTION_LIMIT = 0.10  # other processes' share of one core that makes a run suspect


def busy_cpu_seconds():
    """CPU time all processes have used, and the hypervisor's steal time, since boot."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


def children_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def warn_if_contended(what, wall, busy, steal, own):
    others = max(0.0, busy - own) + steal
    if wall > 0 and others / wall > CONTENTION_LIMIT:
        msg = (f"warning: contention during {what}: other processes took {others:.1f} CPU-s "
               f"({100 * others / wall:.0f}% of a core; steal {steal:.1f} s) in {wall:.1f} s")
        print(msg, file=sys.stderr, flush=True)
        CONTENDED.append(msg)


def run_json(program, cmd):
    busy0, steal0 = busy_cpu_seconds()
    own0, t0 = children_cpu_seconds(), time.monotonic()
    with tempfile.NamedTemporaryFile("r") as rss:
        out = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name] + cmd, check=True,
                             capture_output=True, text=True).stdout
        kib = int(rss.read().split()[-1])
    busy1, steal1 = busy_cpu_seconds()
    warn_if_contended(f"{program} {os.path.basename(cmd[cmd.index('-m') + 1]) if '-m' in cmd else os.path.basename(cmd[2])}",
                      time.monotonic() - t0, busy1 - busy0, steal1 - steal0,
                      children_cpu_seconds() - own0)
    PEAK_RSS[program] = max(PEAK_RSS.get(program, 0), kib)
    return json.loads(out)


def lokal_rates(model, p, n, t, r, cache, depth):
    rows = run_json("lokal", ["build/lokal", "bench", model, "-p", str(p), "-n", str(n),
                              "--cache-type", cache, "-d", str(depth),
                              "-t", str(t), "-r", str(r), "--json"])
    return {row["test"]: (row["avg_ts"], row["stddev_ts"]) for row in rows}


def read_bandwidth_gbs(threads):
    out = subprocess.run(["build/bench/bench_bandwidth", "-t", str(threads)], check=True,
                         capture_output=True, text=True).stdout
    return float(re.search(r"read bandwidth: ([0-9.]+) GB/s", out).group(1))


def stream_share(tokens_per_s, model_gb, bandwidth_gbs):
    gbs = tokens_per_s * model_gb
    return f"{gbs:.1f} GB/s = {100 * gbs / bandwidth_gbs:.0f}%"


def llama_rates(llama_bench, model, p, n, t, r, cache, depth):
    rates = {}
    at = f" @ d{depth}" if depth else ""
    for test, pp, gg in ((f"pp{p}{at}", p, 0), (f"tg{n}{at}", 0, n)):
        if (pp or gg) == 0:
            continue
        cmd = [llama_bench, "-m", model, "-p", str(pp), "-n", str(gg), "-t", str(t), "-r", str(r),
               "-d", str(depth), "-o", "json"]
        if cache != "f16":  # a quantized V cache needs llama.cpp's flash attention (lokal's only)
            cmd += ["-ctk", cache, "-ctv", cache, "-fa", "1"]
        rows = run_json("llama.cpp", cmd)
        rates[test] = (rows[0]["avg_ts"], rows[0]["stddev_ts"])
    return rates


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default="qwen-0.5b,llama-1b")
    ap.add_argument("--types", default="q4_0,q4_k_m,q8_0")
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("-t", type=int, default=2)
    ap.add_argument("-r", type=int, default=3)
    ap.add_argument("--cache-type", default="f16", help="KV cache: f16, q8_0 or f32 (both programs)")
    ap.add_argument("-d", "--depth", type=int, default=0, help="context tokens before each test")
    ap.add_argument("--dir", default="/tmp/lokal-bench-models")
    ap.add_argument("--testdata", default="../shared/testdata")
    ap.add_argument("--models", default="", help="real GGUF files to bench too, comma-separated")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    llama_bench = os.environ.get("LLAMA_BENCH")
    print(f"| model | test | lokal t/s | llama.cpp t/s | ratio |")
    print(f"| --- | --- | ---: | ---: | ---: |")
    runs = [(f"{shape} {typ}", os.path.join(a.dir, f"{shape}-{typ}.gguf"), shape, typ)
            for shape in a.shapes.split(",") if shape for typ in a.types.split(",")]
    runs += [(os.path.basename(m), m, None, None) for m in a.models.split(",") if m]
    for label, path, shape, typ in runs:
        if not os.path.exists(path) and shape:
            vocab = os.path.join(a.testdata, "tokenizer", VOCABS[shape])
            subprocess.run(["build/bench/make_bench_model", "--shape", shape, "--type", typ,
                            "--vocab", vocab, "-o", path], check=True)
        PEAK_RSS.clear()
        bandwidth = read_bandwidth_gbs(a.t)
        model_gb = os.path.getsize(path) / 1e9
        ours = lokal_rates(path, a.p, a.n, a.t, a.r, a.cache_type, a.depth)
        theirs = (llama_rates(llama_bench, path, a.p, a.n, a.t, a.r, a.cache_type, a.depth)
                  if llama_bench else {})
        for test, (ts, sd) in ours.items():
            line = f"| {label} | {test} | {ts:.1f} ± {sd:.1f} |"
            if test in theirs:
                lts, lsd = theirs[test]
                line += f" {lts:.1f} ± {lsd:.1f} | {ts / lts:.2f} |"
            else:
                line += " | |"
            print(line, flush=True)
            if test.startswith("tg"):
                line = f"| {label} | {test} of {bandwidth:.1f} GB/s read |"
                line += f" {stream_share(ts, model_gb, bandwidth)} |"
                if test in theirs:
                    line += f" {stream_share(theirs[test][0], model_gb, bandwidth)} | |"
                else:
                    line += " | |"
                print(line, flush=True)
        rss = {k: v / 1024 for k, v in PEAK_RSS.items()}
        line = f"| {label} | peak RSS MiB | {rss['lokal']:.0f} |"
        if "llama.cpp" in rss:
            line += f" {rss['llama.cpp']:.0f} | {rss['lokal'] / rss['llama.cpp']:.2f} |"
        else:
            line += " | |"
        print(line, flush=True)
    if CONTENDED:
        print(f"\n{len(CONTENDED)} run(s) shared the CPU with other work; their figures are low:")
        for msg in CONTENDED:
            print("  " + msg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
