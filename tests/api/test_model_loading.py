"""How the server holds models in memory: a request's num_ctx beyond --ctx grows the model's
context as Ollama's reload does (#21 item 12)."""
import ollama
import pytest

from conftest import MODEL, Server


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
