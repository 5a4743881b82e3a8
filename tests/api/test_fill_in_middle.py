"""Fill-in-the-middle (code completion): `suffix` on /api/generate and /v1/completions, with a
random-weight llama model carrying Qwen2's vocabulary (which has <|fim_prefix|> and friends),
written by our own GGUF writer (tests/tools/make_tiny_llama)."""
import os
import subprocess
import tempfile

import openai
import pytest

from conftest import LOKAL, MODEL, TESTDATA, http

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
