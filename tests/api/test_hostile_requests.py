"""Seeded random and malformed request bodies against every endpoint: the server must answer
each with a JSON error (or success), never a 500, never hang, and stay up."""
import json
import random

import pytest

from conftest import MODEL, http

ENDPOINTS = [
    ("POST", "/api/generate"), ("POST", "/api/chat"), ("POST", "/api/embed"),
    ("POST", "/api/embeddings"), ("POST", "/api/show"), ("POST", "/api/copy"),
    ("DELETE", "/api/delete"), ("POST", "/api/create"), ("POST", "/v1/chat/completions"),
    ("POST", "/v1/completions"), ("POST", "/v1/embeddings"), ("POST", "/v1/rerank"),
    ("POST", "/tokenize"), ("POST", "/detokenize"),
]
FIELDS = ["model", "prompt", "messages", "options", "format", "stream", "tools", "input",
          "max_tokens", "temperature", "top_p", "stop", "keep_alive", "think", "raw", "system",
          "template", "context", "response_format", "logprobs", "top_logprobs", "seed", "n",
          "tool_choice", "query", "documents", "tokens", "content", "logit_bias", "suffix",
          "images", "num_ctx", "source", "destination", "name", "from", "stream_options"]


def random_value(rng, depth=0):
    kinds = ["str", "int", "float", "bool", "null", "list", "dict", "bigint", "unicode"]
    if depth > 2:
        kinds = kinds[:5]
    k = rng.choice(kinds)
    if k == "str":
        return rng.choice(["", MODEL, "x" * rng.randint(0, 50), "user", "json", "5m", "-1"])
    if k == "int":
        return rng.randint(-5, 70)
    if k == "bigint":
        return rng.choice([2**63, -2**63, 10**30, 2**31])
    if k == "float":
        return rng.choice([0.0, -1.5, 1e308, float("nan") if rng.random() < 0.1 else 0.7])
    if k == "bool":
        return rng.random() < 0.5
    if k == "null":
        return None
    if k == "unicode":
        return rng.choice(["\u0000", "\ud7ff\ue000", "🦙" * 3, "\\u", "<|im_end|>"])
    if k == "list":
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(FIELDS + ["role", "content", "type", "function"]): random_value(rng, depth + 1)
            for _ in range(rng.randint(0, 3))}


def random_body(rng):
    body = {"model": MODEL} if rng.random() < 0.8 else {}
    for _ in range(rng.randint(0, 5)):
        body[rng.choice(FIELDS)] = random_value(rng)
    if "max_tokens" not in body:
        body["max_tokens"] = 4
    body.setdefault("options", {"num_predict": 4})
    if isinstance(body["options"], dict):
        body["options"]["num_predict"] = 4
    body["stream"] = False
    return body


def test_random_bodies_never_break_the_server(server):
    rng = random.Random(20261124)
    for i in range(300):
        method, path = rng.choice(ENDPOINTS)
        if path in ("/api/delete", "/api/copy", "/api/create"):
            continue  # they would change the shared store; covered by their own tests
        body = random_body(rng)
        try:
            raw = json.dumps(body, allow_nan=True).encode()
        except ValueError:
            continue
        status, reply = http(server.base, method, path, raw=raw,
                             headers={"Content-Type": "application/json"})
        assert status < 500 or status == 503, (path, body, status, reply)
        if status >= 400:
            assert isinstance(reply, dict) and "error" in reply, (path, body, reply)
    status, _ = http(server.base, "GET", "/health")
    assert status == 200


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b"null", b"\xff\xfe", b'{"model": 1e999}',
                                 b'{"model": "' + b"a" * 5000 + b'"}', b"{}" * 1000,
                                 b'{"messages": [' + b"[" * 500 + b"]" * 500 + b"]}"])
def test_malformed_json_is_a_400(server, raw):
    for path in ("/api/chat", "/v1/chat/completions", "/api/generate"):
        status, reply = http(server.base, "POST", path, raw=raw,
                             headers={"Content-Type": "application/json"})
        assert status in (400, 404), (path, raw[:40], status, reply)
