"""POST /v1/rerank with a random-weight BERT reranker written by our own GGUF writer
(tests/tools/make_tiny_bert) and the real bge vocabulary."""
import os
import subprocess
import tempfile

import pytest

from conftest import LOKAL, MODEL, TESTDATA, http

VOCAB = os.path.join(TESTDATA, "tokenizer", "ggml-vocab-bert-bge.gguf")
RERANKER = "reranker:tiny"
DOCS = ["the cat sat on the mat", "stock prices fell sharply", "a kitten is a young cat",
        "rain is expected tomorrow"]


@pytest.fixture(scope="module")
def reranker(server, store):
    tool = os.environ.get("LOKAL_MAKE_TINY_BERT", "build/tests/make_tiny_bert")
    if not os.path.exists(tool) or not os.path.exists(VOCAB):
        pytest.skip("make_tiny_bert or the bge vocabulary is missing")
    with tempfile.TemporaryDirectory() as d:
        gguf = os.path.join(d, "reranker.gguf")
        subprocess.run([tool, gguf, VOCAB, "4"], check=True)
        mf = os.path.join(d, "Modelfile")
        with open(mf, "w") as f:
            f.write(f"FROM {gguf}\n")
        subprocess.run([LOKAL, "create", RERANKER, "-f", mf], check=True, capture_output=True,
                       env=dict(os.environ, LOKAL_MODELS=store))
    return server


def rerank(base, **body):
    return http(base, "POST", "/v1/rerank", {"model": RERANKER, **body})


def test_rerank_orders_documents_by_score(reranker):
    status, r = rerank(reranker.base, query="what is a cat", documents=DOCS)
    assert status == 200, r
    assert r["object"] == "list" and r["model"] == RERANKER
    results = r["results"]
    assert sorted(x["index"] for x in results) == list(range(len(DOCS)))
    scores = [x["relevance_score"] for x in results]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == len(DOCS)  # different documents, different scores
    assert r["usage"]["prompt_tokens"] > 0
    assert "document" not in results[0]


def test_rerank_score_of_a_document_does_not_depend_on_the_others(reranker):
    _, all_docs = rerank(reranker.base, query="what is a cat", documents=DOCS)
    by_index = {x["index"]: x["relevance_score"] for x in all_docs["results"]}
    for i, doc in enumerate(DOCS):
        status, one = rerank(reranker.base, query="what is a cat", documents=[doc])
        assert status == 200
        assert one["results"][0]["relevance_score"] == by_index[i]


def test_rerank_top_n_and_documents(reranker):
    status, r = http(reranker.base, "POST", "/rerank",
                     {"model": RERANKER, "query": "cat", "top_n": 2, "return_documents": True,
                      "documents": [{"text": d} for d in DOCS]})
    assert status == 200, r
    assert len(r["results"]) == 2
    for x in r["results"]:
        assert x["document"]["text"] == DOCS[x["index"]]


@pytest.mark.parametrize("body,param", [
    ({"documents": DOCS}, "query"),
    ({"query": "cat", "documents": "not a list"}, "documents"),
    ({"query": "cat", "documents": [1, 2]}, "documents"),
    ({"query": "cat", "documents": DOCS, "top_n": 0}, "top_n"),
])
def test_rerank_bad_requests(reranker, body, param):
    status, r = rerank(reranker.base, **body)
    assert status == 400, r
    assert param in r["error"]["message"]


def test_rerank_needs_a_reranker(reranker):
    status, r = http(reranker.base, "POST", "/v1/rerank",
                     {"model": MODEL, "query": "cat", "documents": DOCS})
    assert status == 400 and "not a reranker" in r["error"]["message"]
    status, r = http(reranker.base, "POST", "/v1/rerank",
                     {"model": "nope:1", "query": "cat", "documents": DOCS})
    assert status == 404
