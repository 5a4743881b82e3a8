"""Ollama's API through the official `ollama` Python client, plus raw HTTP for details."""
import urllib.request

import ollama
import pytest

from conftest import MODEL, http

GREEDY = {"temperature": 0, "num_predict": 16, "seed": 1}


@pytest.fixture
def client(server):
    return ollama.Client(host=server.base)


def test_root_and_version(server):
    assert http(server.base, "GET", "/")[0] == 200
    status, body = http(server.base, "GET", "/api/version")
    assert status == 200 and body["version"]


def test_generate_non_streaming_and_streaming_agree(client):
    r = client.generate(model=MODEL, prompt="Once upon a time", options=GREEDY)
    assert r.done and r.done_reason == "length"
    assert r.eval_count == 16 and r.prompt_eval_count > 0
    assert len(r.response) > 0 and r.context
    parts = list(client.generate(model=MODEL, prompt="Once upon a time", options=GREEDY,
                                 stream=True))
    assert parts[-1].done and not any(p.done for p in parts[:-1])
    assert "".join(p.response for p in parts) == r.response
    assert parts[-1].eval_count == 16


def test_generate_context_continues(client):
    first = client.generate(model=MODEL, prompt="Once upon a time", options=GREEDY, raw=True)
    second = client.generate(model=MODEL, prompt=" Then", context=first.context,
                             options=GREEDY, raw=True)
    assert second.prompt_eval_count > len(first.context)
    assert second.context[: len(first.context)] == first.context


def test_chat_streaming_and_not(client):
    msgs = [{"role": "user", "content": "Tell me a story about a cat."}]
    r = client.chat(model=MODEL, messages=msgs, options=GREEDY)
    assert r.message.role == "assistant" and r.message.content
    parts = list(client.chat(model=MODEL, messages=msgs, options=GREEDY, stream=True))
    assert "".join(p.message.content for p in parts) == r.message.content
    assert parts[-1].done and parts[-1].done_reason == "length"


def test_stop_strings(client):
    full = client.generate(model=MODEL, prompt="Once upon a time", raw=True,
                           options={**GREEDY, "num_predict": 40}).response
    words = full.split()
    assert len(words) > 3
    stop = words[3]
    r = client.generate(model=MODEL, prompt="Once upon a time", raw=True,
                        options={**GREEDY, "num_predict": 40, "stop": [stop]})
    assert stop not in r.response and r.done_reason == "stop"
    assert full.startswith(r.response)


def test_embed_shape_and_normalisation(client):
    r = client.embed(model=MODEL, input=["a cat", "a dog", "the sun"])
    assert len(r.embeddings) == 3
    dim = len(r.embeddings[0])
    assert dim > 0 and all(len(e) == dim for e in r.embeddings)
    for e in r.embeddings:
        assert abs(sum(x * x for x in e) - 1.0) < 1e-3
    one = client.embeddings(model=MODEL, prompt="a cat")
    assert one.embedding == pytest.approx(r.embeddings[0], abs=1e-5)


def test_list_show_copy_delete(client):
    names = [m.model for m in client.list().models]
    assert MODEL in names
    info = client.show(MODEL)
    assert info.details.family == "llama" and info.details.format == "gguf"
    assert "completion" in info.capabilities
    client.copy(MODEL, "stories-copy:latest")
    assert "stories-copy:latest" in [m.model for m in client.list().models]
    client.delete("stories-copy:latest")
    assert "stories-copy:latest" not in [m.model for m in client.list().models]
    with pytest.raises(ollama.ResponseError) as e:
        client.delete("stories-copy:latest")
    assert e.value.status_code == 404


def test_keep_alive_zero_unloads(client, server):
    client.generate(model=MODEL, prompt="Hi", options=GREEDY)
    assert MODEL in [m.model for m in client.ps().models]
    r = client.generate(model=MODEL, prompt="", keep_alive=0)
    assert r.done_reason == "unload"
    assert MODEL not in [m.model for m in client.ps().models]
    client.generate(model=MODEL, prompt="", keep_alive="10m")  # loads again
    assert MODEL in [m.model for m in client.ps().models]


def test_unknown_model_is_404(client):
    with pytest.raises(ollama.ResponseError) as e:
        client.generate(model="no-such-model", prompt="hi")
    assert e.value.status_code == 404
    assert "no-such-model" in str(e.value)


def test_bad_requests_are_400_naming_the_field(server):
    base = server.base
    status, body = http(base, "POST", "/api/generate", raw=b"{not json")
    assert status == 400 and "JSON" in body["error"]
    status, body = http(base, "POST", "/api/generate",
                        {"model": MODEL, "prompt": "x", "options": {"temperature": "hot"}})
    assert status == 400 and "temperature" in body["error"]
    status, body = http(base, "POST", "/api/generate",
                        {"model": MODEL, "prompt": "x", "options": {"top_p": 7}})
    assert status == 400 and "top_p" in body["error"]
    status, body = http(base, "POST", "/api/chat", {"model": MODEL, "messages": "hello"})
    assert status == 400 and "messages" in body["error"]
    status, body = http(base, "POST", "/api/generate", {"prompt": "x"})
    assert status == 400 and "model" in body["error"]


def test_prompt_longer_than_context_is_400(server):
    status, body = http(server.base, "POST", "/api/generate",
                        {"model": MODEL, "prompt": "the cat sat " * 600, "raw": True,
                         "stream": False})
    assert status == 400
    assert "tokens" in body["error"] and "1024" in body["error"]


def test_oversized_body_is_413(server):
    status, _ = http(server.base, "POST", "/api/generate",
                     {"model": MODEL, "prompt": "x" * 200000})
    assert status == 413


def test_tokenize_detokenize(server):
    status, t = http(server.base, "POST", "/tokenize", {"model": MODEL, "content": "Once upon a time"})
    assert status == 200 and len(t["tokens"]) > 0
    status, d = http(server.base, "POST", "/detokenize", {"model": MODEL, "tokens": t["tokens"]})
    assert status == 200 and d["content"].strip() == "Once upon a time"


def prompt_text_of(server, body):
    """The prompt the model saw: /api/generate's context minus the answer, detokenized."""
    status, r = http(server.base, "POST", "/api/generate",
                     {"model": MODEL, "stream": False, "options": {"num_predict": 1, **GREEDY},
                      **body})
    assert status == 200, r
    prompt_ids = r["context"][:len(r["context"]) - r["eval_count"]]
    status, d = http(server.base, "POST", "/detokenize", {"model": MODEL, "tokens": prompt_ids})
    return d["content"]


GO = ("{{ if .System }}<sys>{{ .System }}</sys>{{ end }}"
      "{{- range .Messages }}{{ if eq .Role \"user\" }}<u>{{ .Content }}</u>{{ end }}{{ end }}<a>")
JINJA = ("{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}"
         "{% if add_generation_prompt %}[assistant]{% endif %}")


def test_request_template_overrides_the_models(server):
    text = prompt_text_of(server, {"prompt": "Once upon a time", "system": "Be brief.",
                                   "template": JINJA})
    assert "[system] Be brief.\n[user] Once upon a time\n[assistant]" in text
    # Ollama's Go text/template syntax works too.
    text = prompt_text_of(server, {"prompt": "Once upon a time", "system": "Be brief.",
                                   "template": GO})
    assert "<sys>Be brief.</sys><u>Once upon a time</u><a>" in text
    status, r = http(server.base, "POST", "/api/generate",
                     {"model": MODEL, "prompt": "x", "template": "{{ if .System }}"})
    assert status == 400 and "{{end}}" in r["error"]
    status, r = http(server.base, "POST", "/api/generate",
                     {"model": MODEL, "prompt": "x", "template": "{% for %}"})
    assert status == 400 and "template" in r["error"]


@pytest.mark.parametrize("template,expected", [(JINJA, "[user] The cat\n[assistant]"),
                                               (GO, "<u>The cat</u><a>")])
def test_stored_template_is_used(server, client, template, expected):
    client.create(model="templated:1", from_=MODEL, template=template)
    try:
        status, r = http(server.base, "POST", "/api/generate",
                         {"model": "templated:1", "prompt": "The cat", "stream": False,
                          "options": {"num_predict": 1, **GREEDY}})
        assert status == 200, r
        status, d = http(server.base, "POST", "/detokenize",
                         {"model": "templated:1",
                          "tokens": r["context"][:len(r["context"]) - r["eval_count"]]})
        assert expected in d["content"]
    finally:
        client.delete("templated:1")


def test_images_and_thinking_on_a_text_model_are_400(server):
    # Not silently ignored: the story model reads text only and has no reasoning template.
    status, r = http(server.base, "POST", "/api/generate",
                     {"model": MODEL, "prompt": "What is this?", "images": ["aGVsbG8="],
                      "stream": False})
    assert status == 400 and "images" in r["error"], r
    status, r = http(server.base, "POST", "/api/chat",
                     {"model": MODEL, "stream": False, "messages": [
                         {"role": "user", "content": "What is this?", "images": ["aGVsbG8="]}]})
    assert status == 400 and "images" in r["error"], r
    status, r = http(server.base, "POST", "/api/chat",
                     {"model": MODEL, "stream": False, "think": True,
                      "messages": [{"role": "user", "content": "Hi"}]})
    assert status == 400 and "thinking" in r["error"], r
    status, r = http(server.base, "POST", "/api/chat",
                     {"model": MODEL, "stream": False, "think": False, "images": [],
                      "messages": [{"role": "user", "content": "Hi"}],
                      "options": {"num_predict": 2}})
    assert status == 200, r


@pytest.mark.parametrize("think,expected", [(True, "[thinking on]"), (False, "[thinking off]"),
                                            (None, "[thinking unset]")])
def test_think_reaches_the_template_as_enable_thinking(server, client, think, expected):
    # As llama.cpp and Ollama pass it: Qwen3-style templates switch reasoning on enable_thinking.
    template = ("{# <think> #}{% if enable_thinking is not defined %}[thinking unset]"
                "{% elif enable_thinking %}[thinking on]{% else %}[thinking off]{% endif %}"
                + JINJA)
    client.create(model="thinker:1", from_=MODEL, template=template)
    try:
        body = {"model": "thinker:1", "prompt": "The cat", "stream": False,
                "options": {"num_predict": 1, **GREEDY}}
        if think is not None:
            body["think"] = think
        status, r = http(server.base, "POST", "/api/generate", body)
        assert status == 200, r
        status, d = http(server.base, "POST", "/detokenize",
                         {"model": "thinker:1",
                          "tokens": r["context"][:len(r["context"]) - r["eval_count"]]})
        assert expected in d["content"]
    finally:
        client.delete("thinker:1")


def test_cors_local_pages_allowed_others_refused(server):
    status, _ = http(server.base, "GET", "/api/tags", headers={"Origin": "http://localhost:3000"})
    assert status == 200
    req = urllib.request.Request(server.base + "/api/chat", method="OPTIONS", headers={
        "Origin": "http://127.0.0.1:5173", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, authorization"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 204
        assert r.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:5173"
        assert "POST" in r.headers["Access-Control-Allow-Methods"]
        assert r.headers["Access-Control-Allow-Headers"] == "content-type, authorization"
    status, body = http(server.base, "POST", "/api/generate",
                        {"model": MODEL, "prompt": "hi", "stream": False},
                        headers={"Origin": "https://evil.example"})
    assert status == 403 and "LOKAL_ORIGINS" in body["error"]
    # Without an Origin (curl, SDKs) nothing changes.
    assert http(server.base, "GET", "/api/tags")[0] == 200


def test_digests_are_full_and_forever_is_far_future(client):
    tag = next(m for m in client.list().models if m.model == MODEL)
    assert len(tag.digest) == 64 and all(c in "0123456789abcdef" for c in tag.digest)
    client.generate(model=MODEL, prompt="", keep_alive=-1)
    loaded = next(m for m in client.ps().models if m.model == MODEL)
    assert loaded.digest == tag.digest
    assert loaded.expires_at.year > 2100
    client.generate(model=MODEL, prompt="", keep_alive="5m")
