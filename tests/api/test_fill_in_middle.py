"""Fill-in-the-middle (code completion): `suffix` on /api/generate and /v1/completions, and
llama-server's POST /infill, with a
random-weight llama model carrying Qwen2's vocabulary (which has <|fim_prefix|> and friends),
written by our own GGUF writer (tests/tools/make_tiny_llama)."""
import json
import os
import subprocess
import tempfile
import urllib.request

import openai
import pytest

from conftest import LOKAL, MODEL, TESTDATA, Server, http

VOCAB = os.path.join(TESTDATA, "tokenizer", "ggml-vocab-qwen2.gguf")
CODER = "coder:tiny"
PREFIX = "def add(a, b):\n    return "
SUFFIX = "\n\nprint(add(1, 2))\n"


@pytest.fixture(scope="module")
def coder(server, store):
    tool = os.environ.get("LOKAL_MAKE_TINY_LLAMA", "build/tests/make_tiny_llama")
    if not os.path.exists(tool) or not os.path.exists(VOCAB):
        if os.environ.get("CI") == "true":
            pytest.fail("make_tiny_llama or the qwen2 vocabulary is missing in CI")
        pytest.skip("make_tiny_llama or the qwen2 vocabulary is missing")
    with tempfile.TemporaryDirectory() as d:
        gguf = os.path.join(d, "coder.gguf")
        subprocess.run([tool, gguf, VOCAB], check=True)
        mf = os.path.join(d, "Modelfile")
        with open(mf, "w") as f:
            f.write(f"FROM {gguf}\n")
        subprocess.run([LOKAL, "create", CODER, "-f", mf], check=True, capture_output=True,
                       env=dict(os.environ, LOKAL_MODELS=store))
    return server


def expected_prompt(base):
    text = "<|fim_prefix|>" + PREFIX + "<|fim_suffix|>" + SUFFIX + "<|fim_middle|>"
    return http(base, "POST", "/tokenize", {"model": CODER, "content": text})[1]["tokens"]


def test_suffix_on_api_generate_builds_the_fim_prompt(coder):
    status, r = http(coder.base, "POST", "/api/generate",
                     {"model": CODER, "prompt": PREFIX, "suffix": SUFFIX, "stream": False,
                      "options": {"num_predict": 3, "temperature": 0}})
    assert status == 200, r
    prompt = r["context"][:len(r["context"]) - r["eval_count"]]
    assert prompt == expected_prompt(coder.base)
    assert r["prompt_eval_count"] == len(prompt)


def test_suffix_on_v1_completions(coder):
    client = openai.OpenAI(base_url=coder.base + "/v1", api_key="unused")
    r = client.completions.create(model=CODER, prompt=PREFIX, suffix=SUFFIX, max_tokens=3,
                                  temperature=0)
    assert r.usage.prompt_tokens == len(expected_prompt(coder.base))
    status, whole = http(coder.base, "POST", "/api/generate",
                         {"model": CODER, "prompt": PREFIX, "suffix": SUFFIX, "stream": False,
                          "options": {"num_predict": 3, "temperature": 0}})
    assert r.choices[0].text == whole["response"]


def test_insert_capability_and_models_without_fim_tokens(coder):
    status, info = http(coder.base, "POST", "/api/show", {"model": CODER})
    assert "insert" in info["capabilities"]
    status, info = http(coder.base, "POST", "/api/show", {"model": MODEL})
    assert "insert" not in info["capabilities"]
    status, r = http(coder.base, "POST", "/api/generate",
                     {"model": MODEL, "prompt": "a", "suffix": "b", "stream": False})
    assert status == 400 and "insert" in r["error"]
    # An empty suffix is a plain completion.
    status, r = http(coder.base, "POST", "/api/generate",
                     {"model": MODEL, "prompt": "Once", "suffix": "", "stream": False,
                      "options": {"num_predict": 2}})
    assert status == 200


def infill(base, **body):
    return http(base, "POST", "/infill", {"model": CODER, "n_predict": 3, "temperature": 0,
                                          **body})


def test_infill_answers_in_llama_servers_completion_shape(coder):
    status, r = infill(coder.base, input_prefix=PREFIX, input_suffix=SUFFIX)
    assert status == 200, r
    text = "<|fim_prefix|>" + PREFIX + "<|fim_suffix|>" + SUFFIX + "<|fim_middle|>"
    assert r["prompt"] == text
    assert r["tokens_evaluated"] == len(expected_prompt(coder.base))
    assert r["stop"] is True and r["model"] == CODER
    assert 1 <= r["tokens_predicted"] <= 3
    assert r["stop_type"] in ("limit", "eos")
    assert r["timings"]["predicted_n"] == r["tokens_predicted"]
    assert r["timings"]["prompt_n"] + r["tokens_cached"] == r["tokens_evaluated"]
    # The same prompt as /api/generate's suffix, so the same greedy middle.
    status, whole = http(coder.base, "POST", "/api/generate",
                         {"model": CODER, "prompt": PREFIX, "suffix": SUFFIX, "stream": False,
                          "options": {"num_predict": 3, "temperature": 0}})
    assert r["content"] == whole["response"]


def test_infill_lays_out_input_extra_as_a_repository_and_prompt_starts_the_middle(coder):
    extra = [{"filename": "util.py", "text": "def one():\n    return 1\n"}]
    status, r = infill(coder.base, input_prefix=PREFIX, input_suffix=SUFFIX, input_extra=extra,
                       prompt="a")
    assert status == 200, r
    text = ("<|repo_name|>myproject\n<|file_sep|>util.py\ndef one():\n    return 1\n"
            "<|file_sep|>filename\n<|fim_prefix|>" + PREFIX + "<|fim_suffix|>" + SUFFIX +
            "<|fim_middle|>a")
    assert r["prompt"] == text
    tokens = http(coder.base, "POST", "/tokenize", {"model": CODER, "content": text})[1]["tokens"]
    assert r["tokens_evaluated"] == len(tokens)


def test_infill_streams_server_sent_events(coder):
    status, whole = infill(coder.base, input_prefix=PREFIX, input_suffix=SUFFIX)
    req = urllib.request.Request(
        coder.base + "/infill", method="POST",
        data=json.dumps({"model": CODER, "input_prefix": PREFIX, "input_suffix": SUFFIX,
                         "n_predict": 3, "temperature": 0, "stream": True}).encode())
    with urllib.request.urlopen(req, timeout=120) as resp:
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        events = [json.loads(line[len("data: "):]) for line in resp.read().decode().split("\n")
                  if line.startswith("data: ")]
    assert events[-1]["stop"] is True and events[-1]["stop_type"] == whole["stop_type"]
    assert all(e["stop"] is False for e in events[:-1])
    assert "".join(e["content"] for e in events) == whole["content"]


def test_infill_errors_in_llama_servers_shape(coder):
    status, r = http(coder.base, "POST", "/infill",
                     {"model": MODEL, "input_prefix": "a", "input_suffix": "b"})
    assert status == 400
    assert r["error"]["code"] == 400 and r["error"]["type"] == "invalid_request_error"
    assert "fill-in-the-middle" in r["error"]["message"]
    status, r = infill(coder.base, input_prefix="a", input_extra=[{"filename": "x"}])
    assert status == 400 and "input_extra" in r["error"]["message"]
    status, r = infill(coder.base, input_prefix="a", n_predict="many")
    assert status == 400 and "n_predict" in r["error"]["message"]
    status, r = http(coder.base, "POST", "/infill", {"model": "nope:1", "input_prefix": "a"})
    assert status == 404 and r["error"]["type"] == "not_found_error"


def test_infill_without_a_model_uses_the_one_loaded(coder, store):
    # llama-server serves one model and clients send no name; lokal takes the loaded one.
    s = Server(store)
    try:
        status, r = http(s.base, "POST", "/infill", {"input_prefix": "a"})
        assert status == 400 and "'model' is required" in r["error"]["message"]
        assert infill(s.base, input_prefix=PREFIX)[0] == 200
        status, r = http(s.base, "POST", "/infill", {"input_prefix": PREFIX, "n_predict": 2})
        assert status == 200 and r["model"] == CODER, r
    finally:
        s.stop()
