#!/usr/bin/env python3
"""Generation speed with and without structured output, through a running lokal serve (or any
Ollama-compatible server): the same prompt, greedy, once free and once constrained by a JSON
schema, several times each; prints tokens/s from the server's eval_count / eval_duration.

    bench/constrained_bench.py --url http://127.0.0.1:11434 --model gemma3:270m
"""
import argparse
import json
import statistics
import urllib.request

SCHEMA = {"type": "object", "properties": {
    "title": {"type": "string", "maxLength": 80},
    "characters": {"type": "array", "items": {"type": "object", "properties": {
        "name": {"type": "string", "maxLength": 30}, "age": {"type": "integer"},
        "kind": {"enum": ["human", "animal", "robot"]}}, "required": ["name", "age", "kind"]},
        "maxItems": 6},
    "summary": {"type": "string", "maxLength": 400}},
    "required": ["title", "characters", "summary"]}


def generate(url, model, fmt, n):
    body = {"model": model, "prompt": "Write a short story about a robot and a cat, as JSON.",
            "stream": False, "options": {"temperature": 0, "num_predict": n}}
    if fmt is not None:
        body["format"] = fmt
    req = urllib.request.Request(url + "/api/generate", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    r = json.loads(urllib.request.urlopen(req, timeout=600).read())
    return r["eval_count"] / (r["eval_duration"] / 1e9), r["eval_count"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:11434")
    ap.add_argument("--model", required=True)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("-r", type=int, default=3)
    a = ap.parse_args()
    generate(a.url, a.model, None, 8)  # load the model
    rows = {}
    for name, fmt in (("free", None), ("json_schema", SCHEMA), ("json", "json")):
        rates = [generate(a.url, a.model, fmt, a.n) for _ in range(a.r)]
        rows[name] = statistics.mean(r for r, _ in rates)
        print(f"{name:12s} {rows[name]:7.1f} tok/s  (tokens per run: {[c for _, c in rates]})")
    for name in ("json_schema", "json"):
        print(f"{name} / free = {rows[name] / rows['free']:.2f}")


if __name__ == "__main__":
    main()
