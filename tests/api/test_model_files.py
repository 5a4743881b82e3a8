"""Model files over HTTP: clients upload them to /api/blobs and name them by digest; a file path on
the server's disk is never a model name (#21 items 8 and 18), unless the operator says so with
--allow-paths."""
import hashlib
import os

import ollama
import pytest

from conftest import MODEL, STORIES, Server, http

GREEDY = {"temperature": 0, "num_predict": 8, "seed": 1}


@pytest.fixture
def client(server):
    return ollama.Client(host=server.base)


def digest_of(path):
    with open(path, "rb") as f:
        return "sha256:" + hashlib.sha256(f.read()).hexdigest()


def test_upload_a_gguf_then_create_from_it_with_the_official_client(client, server):
    digest = client.create_blob(STORIES)
    assert digest == digest_of(STORIES)
    status, _ = http(server.base, "HEAD", "/api/blobs/" + digest)
    assert status == 200
    client.create(model="uploaded:v1", files={"stories260K.gguf": digest},
                  parameters={"num_predict": 4}, license="MIT")
    info = client.show("uploaded:v1")
    assert "PARAMETER num_predict 4" in info.modelfile and info.license.strip() == "MIT"
    original = client.generate(model=MODEL, prompt="Once", options=GREEDY).response
    uploaded = client.generate(model="uploaded:v1", prompt="Once", options=GREEDY).response
    assert uploaded == original
    client.delete("uploaded:v1")


def test_blob_upload_checks_the_digest(server):
    with open(STORIES, "rb") as f:
        data = f.read()
    wrong = "sha256:" + "0" * 64
    status, body = http(server.base, "POST", "/api/blobs/" + wrong, raw=data)
    assert status == 400 and "mismatch" in body["error"]
    status, _ = http(server.base, "HEAD", "/api/blobs/" + wrong)
    assert status == 404  # nothing was kept
    status, body = http(server.base, "POST", "/api/blobs/sha256:xyz", raw=b"abc")
    assert status == 400 and "digest" in body["error"]
    small = b"not a model"
    digest = "sha256:" + hashlib.sha256(small).hexdigest()
    assert http(server.base, "POST", "/api/blobs/" + digest, raw=small)[0] == 201
    assert http(server.base, "POST", "/api/blobs/" + digest, raw=small)[0] == 200  # present
    # A blob that is not a GGUF cannot become a model.
    status, body = http(server.base, "POST", "/api/create",
                        {"model": "junk", "files": {"junk.gguf": digest}, "stream": False})
    assert status == 400 and "GGUF" in body["error"]
    status, body = http(server.base, "POST", "/api/create",
                        {"model": "x", "files": {"model.safetensors": digest}, "stream": False})
    assert status == 400 and "safetensors" in body["error"]
    status, body = http(server.base, "POST", "/api/create",
                        {"model": "x", "files": {"m.gguf": "sha256:" + "1" * 64},
                         "stream": False})
    assert status == 404 and "/api/blobs" in body["error"]


def test_upload_larger_than_max_body_is_accepted(server, tmp_path):
    # The server runs with --max-body 100000; model files are far larger than request bodies.
    data = os.urandom(300_000)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    assert http(server.base, "POST", "/api/blobs/" + digest, raw=data)[0] == 201
    assert http(server.base, "HEAD", "/api/blobs/" + digest)[0] == 200


@pytest.mark.parametrize("path", ["/etc/passwd", "/no/such/file.gguf", STORIES,
                                  "../x.gguf", "~/m.gguf"])
def test_file_paths_are_not_model_names_over_http(server, path):
    answers = []
    for route, body in [("/api/generate", {"model": path, "prompt": "hi", "stream": False}),
                        ("/api/show", {"model": path}),
                        ("/v1/chat/completions",
                         {"model": path, "messages": [{"role": "user", "content": "hi"}]})]:
        status, reply = http(server.base, "POST", route, body)
        assert status == 400, (route, reply)
        text = reply["error"]["message"] if isinstance(reply["error"], dict) else reply["error"]
        assert "file path" in text and "--allow-paths" in text
        answers.append(text.replace(path, "PATH"))
    # The same answer whether the file exists or not: nothing to learn about the server's disk.
    assert answers == [a.replace(path, "PATH") for a in answers]
    for modelfile in [f"FROM {path}\n", f"FROM {MODEL}\nADAPTER {path}\n"]:
        status, reply = http(server.base, "POST", "/api/create",
                             {"model": "x", "modelfile": modelfile, "stream": False})
        assert status == 400 and "file path" in reply["error"], reply
    status, reply = http(server.base, "POST", "/api/create",
                         {"model": "x", "from": path, "stream": False})
    assert status == 400 and "file path" in reply["error"], reply


def test_same_refusal_for_existing_and_missing_files(server):
    replies = []
    for path in ["/etc/passwd", "/etc/no-such-file"]:
        replies.append(http(server.base, "POST", "/api/show", {"model": path})[1]["error"]
                       .replace(path, "PATH"))
    assert replies[0] == replies[1]


def test_a_blob_path_from_show_modelfile_recreates_the_model(client, server):
    modelfile = client.show(MODEL).modelfile
    status, reply = http(server.base, "POST", "/api/create",
                         {"model": "again:v1", "modelfile": modelfile, "stream": False})
    assert status == 200, reply
    client.delete("again:v1")


def test_allow_paths_lets_the_operator_load_files(store):
    s = Server(store, "--allow-paths", "-q")
    try:
        status, reply = http(s.base, "POST", "/api/generate",
                             {"model": STORIES, "prompt": "Once", "stream": False,
                              "options": GREEDY})
        assert status == 200, reply
        status, reply = http(s.base, "POST", "/api/create",
                             {"model": "frompath", "from": STORIES, "stream": False})
        assert status == 200, reply
        status, reply = http(s.base, "POST", "/api/generate",
                             {"model": "/no/such/file.gguf", "prompt": "x", "stream": False})
        assert status == 404
    finally:
        s.stop()
