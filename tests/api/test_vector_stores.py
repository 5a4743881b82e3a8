"""/v1/files, /v1/vector_stores and the file_search tool through the official `openai` client:
a random-weight tiny BERT (tests/tools/make_tiny_bert, real bge vocabulary) embeds, so retrieval
leans on the BM25 half of the hybrid search; stories:260k generates. Raw HTTP for malformed
uploads."""
import json
import os
import shutil
import subprocess
import tempfile
import urllib.request

import openai
import pytest

from conftest import LOKAL, MODEL, STORIES, TESTDATA, Server, http, minimal_pdf

VOCAB = os.path.join(TESTDATA, "tokenizer", "ggml-vocab-bert-bge.gguf")
EMBED = "tiny-bert:latest"
MAX_BODY = 200000

DOCS = {
    "zeppelin.md": "# Travel\n\nThe purple zeppelin docked at the harbour of Quillon at dawn.\n",
    "bread.txt": "To bake bread mix flour, water, salt and yeast.\nKnead it for ten minutes.\n",
    "lighthouse.md": "# Lighthouse\n\nThe keeper polished the brass lamp every evening.\n",
}


def create_model(store, name, gguf):
    d = tempfile.mkdtemp()
    mf = os.path.join(d, "Modelfile")
    with open(mf, "w") as f:
        f.write(f"FROM {gguf}\n")
    subprocess.run([LOKAL, "create", name, "-f", mf], check=True, capture_output=True,
                   env=dict(os.environ, LOKAL_MODELS=store))
    shutil.rmtree(d)


@pytest.fixture(scope="module")
def rag_store():
    tool = os.environ.get("LOKAL_MAKE_TINY_BERT", "build/tests/make_tiny_bert")
    if not os.path.exists(tool) or not os.path.exists(VOCAB) or not os.path.exists(STORIES):
        pytest.skip("make_tiny_bert, the bge vocabulary or stories260K is missing")
    d = tempfile.mkdtemp(prefix="lokal-vs-test-")
    store = os.path.join(d, "models")
    bert = os.path.join(d, "bert.gguf")
    subprocess.run([tool, bert, VOCAB, "1"], check=True)
    create_model(store, MODEL, STORIES)
    create_model(store, EMBED, bert)
    yield store
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def srv(rag_store):
    # No --embed-model: new stores get the store's first embedding model (the tiny BERT).
    s = Server(rag_store, "--ctx", "1024", "--max-body", str(MAX_BODY))
    yield s
    s.stop()


def client(s):
    return openai.OpenAI(base_url=s.base + "/v1", api_key="unused", max_retries=0)


@pytest.fixture(scope="module")
def uploaded(srv):
    c = client(srv)
    return {name: c.files.create(file=(name, text.encode()), purpose="assistants")
            for name, text in DOCS.items()}


@pytest.fixture(scope="module")
def vs(srv, uploaded):
    c = client(srv)
    return c.vector_stores.create(name="docs", file_ids=[f.id for f in uploaded.values()])


def test_files_upload_list_retrieve_content_delete(srv, uploaded):
    c = client(srv)
    f = uploaded["bread.txt"]
    assert f.id.startswith("file-") and f.object == "file"
    assert f.filename == "bread.txt" and f.purpose == "assistants"
    assert f.bytes == len(DOCS["bread.txt"])
    assert {x.id for x in uploaded.values()} <= {x.id for x in c.files.list()}
    assert c.files.retrieve(f.id).filename == "bread.txt"
    assert c.files.content(f.id).read() == DOCS["bread.txt"].encode()
    extra = c.files.create(file=("extra.txt", b"temporary"), purpose="user_data")
    assert c.files.delete(extra.id).deleted
    assert extra.id not in {x.id for x in c.files.list()}
    with pytest.raises(openai.NotFoundError):
        c.files.retrieve(extra.id)


def test_vector_store_indexes_files_with_the_default_embedding_model(srv, vs):
    assert vs.id.startswith("vs_") and vs.object == "vector_store" and vs.name == "docs"
    assert vs.file_counts.completed == len(DOCS) and vs.file_counts.failed == 0
    assert vs.usage_bytes > 0
    raw = http(srv.base, "GET", f"/v1/vector_stores/{vs.id}")[1]
    assert raw["embedding_model"] == EMBED
    c = client(srv)
    files = c.vector_stores.files.list(vector_store_id=vs.id)
    assert len(files.data) == len(DOCS) and all(f.status == "completed" for f in files.data)


def test_search_finds_the_file_with_the_sentence(srv, vs, uploaded):
    c = client(srv)
    page = c.vector_stores.search(vector_store_id=vs.id, query="purple zeppelin harbour",
                                  max_num_results=2)
    assert 1 <= len(page.data) <= 2
    top = page.data[0]
    assert top.file_id == uploaded["zeppelin.md"].id and top.filename == "zeppelin.md"
    assert "Quillon" in top.content[0].text and top.content[0].type == "text"
    assert 0 < top.score <= 1


def test_lists_are_paged_with_cursors(srv):
    c = client(srv)
    made = [c.vector_stores.create(name=f"page{i}", extra_body={"embedding_model": EMBED}).id
            for i in range(3)]
    newest_first = [s.id for s in c.vector_stores.list()]  # the client follows the cursors
    assert set(made) <= set(newest_first)
    first = c.vector_stores.list(limit=2)
    assert [s.id for s in first.data] == newest_first[:2] and first.has_more
    rest = c.vector_stores.list(limit=100, after=first.data[-1].id)
    assert [s.id for s in rest.data] == newest_first[2:] and not rest.has_more
    assert [s.id for s in c.vector_stores.list(order="asc")] == newest_first[::-1]
    with pytest.raises(openai.BadRequestError):
        c.vector_stores.list(limit=1000)
    for vs_id in made:
        c.vector_stores.delete(vs_id)


def test_list_retrieve_modify_delete_store(srv, uploaded):
    c = client(srv)
    other = c.vector_stores.create(name="tmp", extra_body={"embedding_model": EMBED})
    assert other.file_counts.total == 0
    assert other.id in {x.id for x in c.vector_stores.list()}
    assert c.vector_stores.retrieve(other.id).name == "tmp"
    assert c.vector_stores.update(other.id, name="renamed").name == "renamed"
    assert c.vector_stores.retrieve(other.id).name == "renamed"
    assert c.vector_stores.delete(other.id).deleted
    with pytest.raises(openai.NotFoundError):
        c.vector_stores.retrieve(other.id)


def test_removing_a_file_from_a_store_removes_it_from_search(srv, uploaded):
    c = client(srv)
    zep = uploaded["zeppelin.md"]
    s = c.vector_stores.create(name="rm", file_ids=[zep.id, uploaded["bread.txt"].id])
    hits = c.vector_stores.search(vector_store_id=s.id, query="purple zeppelin")
    assert zep.id in {h.file_id for h in hits.data}
    assert c.vector_stores.files.retrieve(file_id=zep.id, vector_store_id=s.id).status == \
        "completed"
    assert c.vector_stores.files.delete(file_id=zep.id, vector_store_id=s.id).deleted
    hits = c.vector_stores.search(vector_store_id=s.id, query="purple zeppelin")
    assert zep.id not in {h.file_id for h in hits.data}
    assert c.vector_stores.retrieve(s.id).file_counts.total == 1
    with pytest.raises(openai.NotFoundError):
        c.vector_stores.files.retrieve(file_id=zep.id, vector_store_id=s.id)


def test_adding_a_file_to_a_store(srv, uploaded):
    c = client(srv)
    s = c.vector_stores.create(name="add")
    f = c.vector_stores.files.create(vector_store_id=s.id, file_id=uploaded["lighthouse.md"].id)
    assert f.status == "completed" and f.vector_store_id == s.id and f.last_error is None
    hits = c.vector_stores.search(vector_store_id=s.id, query="brass lamp keeper")
    assert hits.data[0].filename == "lighthouse.md"


def test_a_binary_file_fails_with_its_reason(srv):
    c = client(srv)
    b = c.files.create(file=("blob.dat", b"\x00\x01\x02binary"), purpose="assistants")
    s = c.vector_stores.create(name="bin")
    f = c.vector_stores.files.create(vector_store_id=s.id, file_id=b.id)
    assert f.status == "failed" and "binary" in f.last_error.message
    assert c.vector_stores.retrieve(s.id).file_counts.failed == 1


def test_a_pdf_is_indexed_page_by_page_and_a_broken_one_fails(srv):
    c = client(srv)
    pdf = c.files.create(file=("manual.pdf", minimal_pdf([["Unpacking the kettle."],
                                                          ["Descale the kettle with vinegar."]])),
                         purpose="assistants")
    broken = c.files.create(file=("broken.pdf", b"%PDF-1.4\n1 0 obj garbage"), purpose="assistants")
    s = c.vector_stores.create(name="pdf", file_ids=[pdf.id])
    hits = c.vector_stores.search(vector_store_id=s.id, query="descale vinegar")
    assert hits.data[0].filename == "manual.pdf"
    assert "vinegar" in hits.data[0].content[0].text
    f = c.vector_stores.files.create(vector_store_id=s.id, file_id=broken.id)
    assert f.status == "failed" and "not a PDF that can be read" in f.last_error.message


def test_responses_file_search(srv, vs, uploaded):
    c = client(srv)
    r = c.responses.create(model=MODEL, input="Where did the purple zeppelin dock?",
                           tools=[{"type": "file_search", "vector_store_ids": [vs.id],
                                   "max_num_results": 2}],
                           include=["file_search_call.results"], max_output_tokens=16)
    call, msg = r.output[0], r.output[1]
    assert call.type == "file_search_call" and call.status == "completed"
    assert call.queries == ["Where did the purple zeppelin dock?"]
    assert call.results and call.results[0].file_id == uploaded["zeppelin.md"].id
    assert "Quillon" in call.results[0].text
    assert msg.type == "message"
    notes = msg.content[0].annotations
    assert notes and all(a.type == "file_citation" for a in notes)
    assert uploaded["zeppelin.md"].id in {a.file_id for a in notes}
    assert r.tools[0].type == "file_search"
    # The chunks were in the prompt: far more input tokens than the question alone.
    plain = c.responses.create(model=MODEL, input="Where did the purple zeppelin dock?",
                               max_output_tokens=16)
    assert r.usage.input_tokens > plain.usage.input_tokens + 20
    # Without include, the call is listed without its results.
    r2 = c.responses.create(model=MODEL, input="purple zeppelin",
                            tools=[{"type": "file_search", "vector_store_ids": [vs.id]}],
                            max_output_tokens=4)
    assert r2.output[0].type == "file_search_call" and r2.output[0].results is None


def test_responses_file_search_streams_its_events(srv, vs):
    c = client(srv)
    events = list(c.responses.create(
        model=MODEL, input="purple zeppelin", stream=True, max_output_tokens=8,
        tools=[{"type": "file_search", "vector_store_ids": [vs.id]}]))
    types = [e.type for e in events]
    fs = ["response.file_search_call.in_progress", "response.file_search_call.searching",
          "response.file_search_call.completed"]
    assert [t for t in types if t.startswith("response.file_search_call")] == fs
    assert types[-1] in ("response.completed", "response.incomplete")
    assert types.index(fs[-1]) < types.index("response.output_item.added", types.index(fs[-1]))
    deltas = [i for i, t in enumerate(types) if t == "response.output_text.delta"]
    assert not deltas or types.index(fs[-1]) < deltas[0]
    done = events[-1].response
    assert done.output[0].type == "file_search_call" and done.output[1].type == "message"
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_chat_completions_file_search_extension(srv, vs):
    body = {"model": MODEL, "max_tokens": 4,
            "messages": [{"role": "user", "content": "Where did the purple zeppelin dock?"}]}
    status, plain = http(srv.base, "POST", "/v1/chat/completions", body)
    assert status == 200, plain
    tool = {"type": "file_search", "file_search": {"vector_store_ids": [vs.id]}}
    status, grounded = http(srv.base, "POST", "/v1/chat/completions", {**body, "tools": [tool]})
    assert status == 200, grounded
    assert grounded["usage"]["prompt_tokens"] > plain["usage"]["prompt_tokens"] + 20
    status, err = http(srv.base, "POST", "/v1/chat/completions",
                       {**body, "tools": [{"type": "file_search",
                                           "file_search": {"vector_store_ids": ["vs_0bad"]}}]})
    assert status == 404 and err["error"]["type"] == "not_found_error"


def test_bad_ids_answer_404_in_openai_shape(srv, vs):
    c = client(srv)
    for call in (lambda: c.files.retrieve("file-0123"),
                 lambda: c.files.content("file-0123"),
                 lambda: c.files.delete("../etc"),
                 lambda: c.vector_stores.retrieve("vs_0123"),
                 lambda: c.vector_stores.delete("vs_0123"),
                 lambda: c.vector_stores.search(vector_store_id="vs_0123", query="x"),
                 lambda: c.vector_stores.files.create(vector_store_id=vs.id,
                                                      file_id="file-0123"),
                 lambda: c.vector_stores.create(name="x", file_ids=["file-0123"])):
        with pytest.raises(openai.NotFoundError) as e:
            call()
        err = e.value.body
        assert set(err) >= {"message", "type", "param", "code"}, err
        assert err["type"] == "not_found_error"
    with pytest.raises(openai.NotFoundError):
        c.responses.create(model=MODEL, input="x", max_output_tokens=2,
                           tools=[{"type": "file_search", "vector_store_ids": ["vs_0123"]}])
    with pytest.raises(openai.BadRequestError):
        c.responses.create(model=MODEL, input="x", max_output_tokens=2,
                           tools=[{"type": "file_search", "vector_store_ids": []}])


def multipart(fields, boundary="XyZbOuNdArY"):
    out = b""
    for name, (filename, data) in fields.items():
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disp}\r\n\r\n".encode() + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def post_raw(base, body, content_type="multipart/form-data; boundary=XyZbOuNdArY"):
    return http(base, "POST", "/v1/files", raw=body, headers={"Content-Type": content_type})


def test_malformed_uploads_answer_400(srv):
    status, r = post_raw(srv.base, b"--XyZbOuNdArY\r\nContent-Disposition: form-data\r\n\r\nbroken")
    assert status == 400 and "error" in r and r["error"]["type"] == "invalid_request_error", r
    status, r = post_raw(srv.base, json.dumps({"file": "x"}).encode(), "application/json")
    assert status == 400 and "multipart" in r["error"]["message"]
    status, r = post_raw(srv.base, multipart({"purpose": (None, b"assistants")}))
    assert status == 400 and r["error"]["param"] == "file"
    status, r = post_raw(srv.base, multipart({"file": ("a.txt", b"hi")}))
    assert status == 400 and r["error"]["param"] == "purpose"
    status, r = post_raw(srv.base, multipart({"file": ("a.txt", b"hi"),
                                              "purpose": (None, b"nonsense")}))
    assert status == 400 and r["error"]["param"] == "purpose"


def test_oversized_file_answers_413(srv):
    body = multipart({"file": ("big.txt", b"x" * (MAX_BODY + 1)),
                      "purpose": (None, b"assistants")})
    status, r = post_raw(srv.base, body)
    assert status == 413 and r["error"]["type"] == "invalid_request_error", r
    with pytest.raises(openai.APIStatusError) as e:
        client(srv).files.create(file=("big.txt", b"y" * (MAX_BODY + 1)), purpose="assistants")
    assert e.value.status_code == 413


def test_no_embedding_model_answers_400():
    if not os.path.exists(STORIES):
        pytest.skip("stories260K.gguf not found")
    with tempfile.TemporaryDirectory() as d:
        store = os.path.join(d, "models")
        create_model(store, MODEL, STORIES)
        s = Server(store)
        try:
            status, r = http(s.base, "POST", "/v1/vector_stores", {"name": "x"})
            assert status == 400 and r["error"]["param"] == "embedding_model", r
            status, r = http(s.base, "POST", "/v1/vector_stores",
                             {"name": "x", "embedding_model": "missing:model"})
            assert status == 400 and r["error"]["param"] == "embedding_model", r
        finally:
            s.stop()


def test_restart_keeps_stores_and_files(rag_store, srv, vs, uploaded):
    # Runs last in this module: it stops the shared server and serves the same store anew.
    srv.stop()
    s = Server(rag_store, "--ctx", "1024", "--embed-model", EMBED)
    try:
        c = client(s)
        assert c.vector_stores.retrieve(vs.id).file_counts.completed == len(DOCS)
        assert c.files.retrieve(uploaded["zeppelin.md"].id).filename == "zeppelin.md"
        hits = c.vector_stores.search(vector_store_id=vs.id, query="purple zeppelin")
        assert hits.data[0].file_id == uploaded["zeppelin.md"].id
    finally:
        s.stop()
