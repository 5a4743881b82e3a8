"""How the server holds models in memory: a request's num_ctx beyond --ctx grows the model's
context as Ollama's reload does (#21 item 12); LOKAL_MAX_LOADED_MODELS counts model files, not
names."""
import os
import subprocess
import threading

import ollama
import pytest

from conftest import LOKAL, MODEL, STORIES, TESTDATA, Server


def context_length(client, name):
    return next(m.context_length for m in client.ps().models if m.model == name)


def test_num_ctx_above_the_server_context_grows_it(store):
    s = Server(store, "--parallel", "1", "--ctx", "64", "-q")
    try:
        client = ollama.Client(host=s.base)
        prompt = "Once upon a time " + "the cat sat on the mat. " * 12
        with pytest.raises(ollama.ResponseError) as refused:
            client.generate(model=MODEL, prompt=prompt, options={"num_predict": 4})
        assert refused.value.status_code == 400
        assert context_length(client, MODEL) == 64

        r = client.generate(model=MODEL, prompt=prompt,
                            options={"num_predict": 4, "num_ctx": 256, "temperature": 0})
        assert r.done and 64 < r.prompt_eval_count < 256 and r.eval_count == 4
        assert context_length(client, MODEL) == 256
        # The grown context serves requests that do not ask for one, too.
        again = client.generate(model=MODEL, prompt=prompt, options={"num_predict": 4,
                                                                     "temperature": 0})
        assert again.response == r.response

        # More than the model was trained for is clamped to its training context, as in Ollama.
        trained = client.show(MODEL).modelinfo["llama.context_length"]
        assert trained > 256
        big = client.chat(model=MODEL, messages=[{"role": "user", "content": "Hi"}],
                          options={"num_predict": 2, "num_ctx": 10 ** 6})
        assert big.done
        assert context_length(client, MODEL) == trained
    finally:
        s.stop()


def test_max_loaded_models_counts_files_not_names(tmp_path):
    other = os.path.join(TESTDATA, "models", "tiny-llama-h64-q4_0.gguf")
    if not os.path.exists(STORIES) or not os.path.exists(other):
        pytest.skip("test models not found")
    models = str(tmp_path / "models")
    env = dict(os.environ, LOKAL_MODELS=models)
    for name, source in (("a", STORIES), ("b", STORIES), ("other", other)):
        mf = tmp_path / (name + ".Modelfile")
        mf.write_text(f"FROM {source}\n")
        subprocess.run([LOKAL, "create", name, "-f", str(mf)], env=env, check=True,
                       capture_output=True)
    s = Server(models, "--parallel", "1", "--ctx", "64", "-q",
               env={"LOKAL_MAX_LOADED_MODELS": "2"})
    try:
        client = ollama.Client(host=s.base)
        for name in ("a", "b", "other"):
            client.generate(model=name, prompt="Once", raw=True, options={"num_predict": 1})
        # a and b share one file: two files are loaded, within the limit of two.
        assert sorted(m.model for m in client.ps().models) == [
            "a:latest", "b:latest", "other:latest"]
    finally:
        s.stop()


def test_num_gpu_moves_layers_between_the_gpu_and_the_cpu(store):
    """Ollama's num_gpu per request: on a GPU the model is made again with that many layers there
    (size_vram follows); on the CPU it is accepted and changes nothing. The answer is the same."""
    s = Server(store, "-q")
    try:
        client = ollama.Client(host=s.base)
        opts = {"num_predict": 8, "temperature": 0}
        first = client.generate(model=MODEL, prompt="Once upon a time", options=opts)
        loaded = next(m for m in client.ps().models if m.model == MODEL)
        on_gpu = loaded.size_vram > 0
        n_layer = client.show(MODEL).modelinfo["llama.block_count"]
        one = client.generate(model=MODEL, prompt="Once upon a time",
                              options=dict(opts, num_gpu=1))
        after = next(m for m in client.ps().models if m.model == MODEL)
        if on_gpu:
            assert loaded.size_vram == loaded.size
            assert after.size_vram == int(loaded.size * 1 / n_layer)
        else:
            assert after.size_vram == 0
        assert one.response == first.response
        none = client.generate(model=MODEL, prompt="Once upon a time",
                               options=dict(opts, num_gpu=0))
        assert none.response == first.response
        assert next(m for m in client.ps().models if m.model == MODEL).size_vram == 0
        with pytest.raises(ollama.ResponseError) as bad:
            client.generate(model=MODEL, prompt="hi", options={"num_gpu": -5})
        assert bad.value.status_code == 400
    finally:
        s.stop()


def test_embed_and_generate_on_one_model_at_once(store):
    """A chat model used for /api/embed gets a context of its own beside the scheduler's; on a
    GPU both share one copy of the weights (size_vram is the model's size, not twice it), and
    embeddings and answers made at the same time are those made one after the other."""
    s = Server(store, "--parallel", "1", "--ctx", "128", "-q")
    try:
        client = ollama.Client(host=s.base)
        opts = {"num_predict": 6, "temperature": 0}
        answer = client.generate(model=MODEL, prompt="Once upon a time", options=opts).response
        vector = client.embed(model=MODEL, input="a cat on a mat").embeddings[0]
        loaded = next(m for m in client.ps().models if m.model == MODEL)
        assert loaded.size_vram in (0, loaded.size)
        results = {}

        def embed():
            results["embed"] = [client.embed(model=MODEL, input="a cat on a mat").embeddings[0]
                                for _ in range(3)]

        def generate():
            results["generate"] = [client.generate(model=MODEL, prompt="Once upon a time",
                                                   options=opts).response for _ in range(3)]

        threads = [threading.Thread(target=embed), threading.Thread(target=generate)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results["embed"] == [vector] * 3
        assert results["generate"] == [answer] * 3
        after = next(m for m in client.ps().models if m.model == MODEL)
        assert after.size_vram == loaded.size_vram
    finally:
        s.stop()
