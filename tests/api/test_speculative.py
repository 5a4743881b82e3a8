"""Speculative decoding through the server: the answer is the same with guesses (prompt lookup)
as without (draft_num_predict 0); /metrics counts the guesses."""
import os
import subprocess

import ollama
import pytest

from conftest import LOKAL, MODEL, STORIES, TESTDATA, Server, http
from test_serving import metric

STORY = ("Once upon a time, there was a little girl named Lily. She loved to play outside. "
         "One day, Lily saw a big dog. Once upon a time, there was a little girl named Lily.")


def generate(server, **options):
    client = ollama.Client(host=server.base)
    options = {"temperature": 0, "num_predict": 96, "repeat_penalty": 1.0, **options}
    return client.generate(model=MODEL, prompt=STORY, raw=True, options=options)


def test_guesses_keep_the_answer_and_are_counted(server):
    before = metric(server.base, "lokal_draft_tokens_total")
    kept_before = metric(server.base, "lokal_draft_tokens_accepted_total")
    plain = generate(server, draft_num_predict=0)
    assert metric(server.base, "lokal_draft_tokens_total") == before
    guessed = generate(server)
    assert guessed.response == plain.response
    assert guessed.eval_count == plain.eval_count
    drafted = metric(server.base, "lokal_draft_tokens_total") - before
    kept = metric(server.base, "lokal_draft_tokens_accepted_total") - kept_before
    assert drafted > 0 and 0 < kept <= drafted


def test_bad_draft_option_is_a_400(server):
    try:
        generate(server, draft_num_predict=-3)
    except ollama.ResponseError as e:
        assert e.status_code == 400 and "draft_num_predict" in str(e)
    else:
        raise AssertionError("accepted")


def test_a_models_own_draft_guesses_for_it(tmp_path):
    # A model created with a DRAFT (here its own weights, so every guess is right) is served
    # with that draft: /metrics counts guesses that were all kept, and the answer is unchanged.
    gemma = os.path.join(TESTDATA, "models", "tiny-gemma3-q4_k_m.gguf")
    if not os.path.exists(STORIES) or not os.path.exists(gemma):
        pytest.skip("test models not found")
    store = str(tmp_path / "models")
    for name, path in ((MODEL, STORIES), ("gemma:tiny", gemma)):
        (tmp_path / "Modelfile").write_text(f"FROM {path}\n")
        subprocess.run([LOKAL, "create", name, "-f", str(tmp_path / "Modelfile")],
                       env=dict(os.environ, LOKAL_MODELS=store), check=True, capture_output=True)
    server = Server(store, "--parallel", "1", "--ctx", "512", env={
        "LOKAL_CACHE_DIR": str(tmp_path / "cache")})
    try:
        status, body = http(server.base, "POST", "/api/create",
                            {"model": "stories:drafted", "stream": False,
                             "modelfile": f"FROM {MODEL}\nDRAFT {MODEL}\n"})
        assert status == 200, body
        shown = ollama.Client(host=server.base).show("stories:drafted")
        assert "\nDRAFT " in shown.modelfile
        options = {"temperature": 0, "num_predict": 48, "repeat_penalty": 1.0}
        client = ollama.Client(host=server.base)
        plain = client.generate(model="stories:drafted", prompt="Once upon a time", raw=True,
                                options={**options, "draft_num_predict": 0})
        before = metric(server.base, "lokal_draft_tokens_total")
        kept_before = metric(server.base, "lokal_draft_tokens_accepted_total")
        guessed = client.generate(model="stories:drafted", prompt="Once upon a time", raw=True,
                                  options=options)
        assert guessed.response == plain.response
        drafted = metric(server.base, "lokal_draft_tokens_total") - before
        kept = metric(server.base, "lokal_draft_tokens_accepted_total") - kept_before
        assert drafted > 0 and kept == drafted, (drafted, kept)
        assert "draft model" in server.output()
        # A draft with another vocabulary is refused at create, and nothing is stored.
        status, body = http(server.base, "POST", "/api/create",
                            {"model": "stories:bad", "stream": False, "from": MODEL,
                             "draft": "gemma:tiny"})
        assert status == 400 and "must share the model's vocabulary" in body["error"], body
        assert http(server.base, "POST", "/api/show", {"model": "stories:bad"})[0] == 404
    finally:
        server.stop()
