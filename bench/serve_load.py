#!/usr/bin/env python3
"""Load test for an OpenAI-compatible server (lokal serve, or llama-server for comparison).

Runs N concurrent streaming /v1/completions requests (each a different prompt, a fixed number
of generated tokens) for each concurrency level and reports aggregate generated tokens/s and
p50/p95 time to first token. Also measures a chat's second turn: the time to first token of a
~1000-token conversation, then of the same conversation plus one more turn (prefix cache).

    bench/serve_load.py --url http://127.0.0.1:11434 --model gemma3:270m --streams 1,4,8

With --start-lokal MODEL it starts `build/lokal serve` itself; with LLAMA_SERVER=/path/to/
llama-server and --gguf FILE it also starts llama-server -np N on the same file and prints the
ratios.
"""
import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import threading
import time
import urllib.parse

WORDS = ("the cat dog sun tree river house little big happy sad ran jumped saw went "
         "played found day night friend mother garden ball park bird").split()


def prompt(i, n_words=60):
    return " ".join(WORDS[(i * 7 + k * 13) % len(WORDS)] for k in range(n_words))


def stream_completion(url, model, text, n_tokens, chat=False):
    """Returns (ttft_seconds, generated_tokens, total_seconds)."""
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    if chat:
        body = {"model": model, "messages": text, "max_tokens": n_tokens, "temperature": 0,
                "stream": True, "stream_options": {"include_usage": True}}
        path = "/v1/chat/completions"
    else:
        body = {"model": model, "prompt": text, "max_tokens": n_tokens, "temperature": 0,
                "stream": True, "stream_options": {"include_usage": True}}
        path = "/v1/completions"
    t0 = time.perf_counter()
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"{resp.status}: {resp.read()[:300]!r}")
    ttft = None
    tokens = 0
    for raw in resp:
        line = raw.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        if chunk.get("usage"):
            tokens = chunk["usage"].get("completion_tokens", tokens)
        if chunk.get("choices"):
            c = chunk["choices"][0]
            piece = c.get("text") or (c.get("delta") or {}).get("content")
            if piece and ttft is None:
                ttft = time.perf_counter() - t0
    total = time.perf_counter() - t0
    conn.close()
    return ttft if ttft is not None else total, tokens, total


def run_level(url, model, streams, n_tokens, rounds):
    results = []
    lock = threading.Lock()

    def worker(i):
        for r in range(rounds):
            res = stream_completion(url, model, prompt(i * 31 + r), n_tokens)
            with lock:
                results.append(res)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(streams)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ttfts = sorted(r[0] for r in results)
    gen = sum(r[1] for r in results)
    p95 = ttfts[min(len(ttfts) - 1, int(round(0.95 * (len(ttfts) - 1))))]
    return {"streams": streams, "requests": len(results), "tokens": gen,
            "tok_s": gen / wall, "ttft_p50": statistics.median(ttfts), "ttft_p95": p95}


def second_turn(url, model):
    history = [{"role": "user", "content": prompt(1, 700)}]
    t1, _, _ = stream_completion(url, model, history, 16, chat=True)
    history += [{"role": "assistant", "content": "I see."},
                {"role": "user", "content": "Tell me more about the garden."}]
    t2, _, _ = stream_completion(url, model, history, 16, chat=True)
    return t1, t2


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url, proc):
    for _ in range(1200):
        try:
            u = urllib.parse.urlparse(url)
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=2)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("server exited")
        time.sleep(0.1)
    raise RuntimeError("server did not start")


def bench(name, url, model, levels, n_tokens, rounds):
    rows = []
    stream_completion(url, model, prompt(999), 4)  # warm-up: load the model, fault its pages in
    for n in levels:
        r = run_level(url, model, n, n_tokens, rounds)
        rows.append(r)
        print(f"{name:12s} streams={n:2d} requests={r['requests']:3d} "
              f"aggregate={r['tok_s']:7.1f} tok/s  ttft p50={r['ttft_p50'] * 1000:7.1f} ms "
              f"p95={r['ttft_p95'] * 1000:7.1f} ms", flush=True)
    t1, t2 = second_turn(url, model)
    print(f"{name:12s} chat ttft: first turn {t1 * 1000:.0f} ms, second turn {t2 * 1000:.0f} ms "
          f"({t1 / t2:.1f}x)", flush=True)
    return rows, (t1, t2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--model", default="model")
    ap.add_argument("--start-lokal", metavar="MODEL", help="start build/lokal serve with MODEL")
    ap.add_argument("--gguf", help="the same model as a file, for llama-server")
    ap.add_argument("--streams", default="1,4,8")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    levels = [int(x) for x in a.streams.split(",")]
    procs = []
    try:
        url = a.url
        if a.start_lokal:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            procs.append(subprocess.Popen(
                ["build/lokal", "serve", "--port", str(port), "--parallel", str(max(levels)),
                 "--ctx", "2048", "-t", str(a.threads), "-q"]))
            wait_up(url, procs[-1])
            a.model = a.start_lokal
        ours, ours_turn = bench("lokal", url, a.model, levels, a.tokens, a.rounds)
        llama = os.environ.get("LLAMA_SERVER")
        if llama and a.gguf:
            port = free_port()
            lurl = f"http://127.0.0.1:{port}"
            procs.append(subprocess.Popen(
                [llama, "-m", a.gguf, "--port", str(port), "-np", str(max(levels)),
                 "-c", str(2048 * max(levels)), "-t", str(a.threads), "--log-disable"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_up(lurl, procs[-1])
            theirs, theirs_turn = bench("llama-server", lurl, a.model, levels, a.tokens, a.rounds)
            for o, t in zip(ours, theirs):
                print(f"ratio streams={o['streams']}: throughput lokal/llama-server = "
                      f"{o['tok_s'] / t['tok_s']:.2f}")
    finally:
        for p in procs:
            p.terminate()
            p.wait()


if __name__ == "__main__":
    main()
