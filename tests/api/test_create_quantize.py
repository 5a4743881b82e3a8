"""/api/create with "quantize" (issue 23): the official client's create(quantize=...) stores a
quantized model; a bad type or an already-quantized source is a 400 and adds nothing."""
import ollama
import pytest

from conftest import STORIES, http


@pytest.fixture
def client(server):
    return ollama.Client(host=server.base)


def test_create_with_quantize_stores_a_quantized_model(client, server):
    digest = client.create_blob(STORIES)
    client.create(model="stories-q8:v1", files={"stories260K.gguf": digest}, quantize="q8_0")
    info = client.show("stories-q8:v1")
    assert info.details.quantization_level == "Q8_0"
    out = client.generate(model="stories-q8:v1", prompt="Once",
                          options={"temperature": 0, "num_predict": 4}).response
    assert out
    # The quantized model cannot be quantized again on create.
    with pytest.raises(ollama.ResponseError) as e:
        client.create(model="stories-q4:v1", from_="stories-q8:v1", quantize="q4_0")
    assert e.value.status_code == 400 and "already quantized" in e.value.error
    names = [m.model for m in client.list().models]
    assert "stories-q4:v1" not in names and not any("quantizing" in n for n in names)
    client.delete("stories-q8:v1")


def test_create_with_an_unknown_quantize_type_is_a_400(client, server):
    digest = client.create_blob(STORIES)
    status, body = http(server.base, "POST", "/api/create",
                        {"model": "bad", "files": {"stories260K.gguf": digest},
                         "quantize": "q9_z", "stream": False})
    assert status == 400 and "unknown quantization type" in body["error"]
    status, body = http(server.base, "POST", "/api/create",
                        {"model": "bad", "files": {"stories260K.gguf": digest},
                         "quantize": 4, "stream": False})
    assert status == 400 and "quantize" in body["error"]
