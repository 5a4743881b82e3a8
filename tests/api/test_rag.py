"""`lokal rag index|search|ask|ls|rm` as a user runs them: a folder indexed with a random-weight
tiny BERT (tests/tools/make_tiny_bert) and the real bge vocabulary, answers from the stories
model (its prompt must hold the retrieved chunks; the sources it lists must be real lines)."""
import json
import os
import re
import subprocess
import tempfile

import pytest

from conftest import LOKAL, STORIES, TESTDATA, minimal_pdf

VOCAB = os.path.join(TESTDATA, "tokenizer", "ggml-vocab-bert-bge.gguf")

FILES = {
    "notes/lighthouse.md": "# Lighthouse\n\nThe keeper polished the brass lamp every evening.\n\n"
                           "## Storms\n\nIn winter storms the foghorn sounded all night.\n",
    "notes/bread.txt": "To bake bread mix flour, water, salt and yeast.\nKnead it for ten minutes.\n",
    "src/trains.py": "def next_train(hour):\n    # trains leave the station every hour\n"
                     "    return hour + 1\n",
    "site/page.html": "<html><style>.x{}</style><body><p>Volcanoes erupt molten lava &amp; ash."
                      "</p><script>var hidden = 1;</script></body></html>",
}


@pytest.fixture(scope="module")
def env():
    tool = os.environ.get("LOKAL_MAKE_TINY_BERT", "build/tests/make_tiny_bert")
    if not os.path.exists(tool) or not os.path.exists(VOCAB):
        pytest.skip("make_tiny_bert or the bge vocabulary is missing")
    with tempfile.TemporaryDirectory() as d:
        bert = os.path.join(d, "bert.gguf")
        subprocess.run([tool, bert, VOCAB, "1"], check=True)
        folder = os.path.join(d, "kb")
        for rel, text in FILES.items():
            os.makedirs(os.path.dirname(os.path.join(folder, rel)), exist_ok=True)
            with open(os.path.join(folder, rel), "w") as f:
                f.write(text)
        with open(os.path.join(folder, "blob.txt"), "wb") as f:
            f.write(b"\x00\x01binary")
        with open(os.path.join(folder, "fake.pdf"), "w") as f:
            f.write("not a pdf")
        with open(os.path.join(folder, ".gitignore"), "w") as f:
            f.write("ignored/\n")
        os.makedirs(os.path.join(folder, "ignored"))
        with open(os.path.join(folder, "ignored", "x.txt"), "w") as f:
            f.write("should not be indexed\n")
        os.symlink(folder, os.path.join(folder, "notes", "loop"))
        e = dict(os.environ, LOKAL_RAG_DIR=os.path.join(d, "rag"),
                 LOKAL_MODELS=os.path.join(d, "models"))
        yield {"env": e, "bert": bert, "folder": folder}


def lokal(env, *args, check=True):
    r = subprocess.run([LOKAL, "rag", *args], env=env["env"], capture_output=True, text=True,
                       timeout=300)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def search(env, query, *extra):
    return json.loads(lokal(env, "search", "kb", query, "--json", *extra).stdout)


def lines_of(env, path, start, end):
    with open(os.path.join(env["folder"], path)) as f:
        return f.read().split("\n")[start - 1:end]


def test_index_search_ls_and_hostile_files(env):
    r = lokal(env, "index", env["folder"], "--embed", env["bert"])
    assert "skipped blob.txt: binary" in r.stderr
    assert "skipped fake.pdf: not a PDF that can be read" in r.stderr
    assert re.search(r"skipped notes/loop: .*loop", r.stderr)
    assert "chunks/s" in r.stderr
    hits = search(env, "foghorn storms", "--mode", "bm25", "-k", "3")
    assert hits[0]["path"] == "notes/lighthouse.md"
    # The hit's text is exactly the lines it names.
    h = hits[0]
    assert h["text"].split("\n") == lines_of(env, h["path"], h["start_line"], h["end_line"])
    paths = {h["path"] for h in search(env, "anything at all", "-k", "50")}
    assert paths == set(FILES), paths  # no binary, PDF, ignored or looped-in files
    html = search(env, "volcanoes lava", "--mode", "bm25")[0]
    assert html["path"] == "site/page.html" and "lava & ash" in html["text"]
    assert "hidden" not in html["text"]
    ls = lokal(env, "ls").stdout
    assert re.search(r"^kb\s+4\s+\d+\s+" + re.escape(env["folder"]), ls, re.M), ls


def test_reindex_after_change_and_delete(env):
    path = os.path.join(env["folder"], "notes", "bread.txt")
    with open(path, "w") as f:
        f.write("Sourdough needs a starter fed with rye flour.\n")
    os.remove(os.path.join(env["folder"], "src", "trains.py"))
    r = lokal(env, "index", env["folder"])  # the stored --embed is reused
    assert "1 new or changed" in r.stderr and "1 removed" in r.stderr, r.stderr
    paths = {h["path"] for h in search(env, "bread train station", "-k", "50")}
    assert "src/trains.py" not in paths
    assert search(env, "sourdough rye", "--mode", "bm25")[0]["path"] == "notes/bread.txt"
    assert search(env, "yeast knead", "--mode", "bm25") == []


def test_ask_puts_the_chunks_in_the_prompt_and_lists_real_sources(env):
    if not os.path.exists(STORIES):
        pytest.skip("stories260K.gguf not found")
    r = lokal(env, "ask", "kb", "What did the keeper polish?", "--model", STORIES, "-k", "2",
              "--show-prompt", "-n", "8", "--temperature", "0", "--mode", "bm25")
    prompt = r.stderr.split("--- prompt ---", 1)[1].split("--- end of prompt ---", 1)[0]
    assert "The keeper polished the brass lamp every evening." in prompt
    assert "Question: What did the keeper polish?" in prompt
    sources = re.findall(r"^\[(\d+)\] (\S+):(\d+)(?:-(\d+))?$",
                         r.stdout.split("Sources:", 1)[1], re.M)
    assert sources and sources[0][1] == "notes/lighthouse.md"
    for _, path, start, end in sources:
        start, end = int(start), int(end or start)
        text = "\n".join(lines_of(env, path, start, end))
        assert text and text in prompt  # each cited range is what the model was shown


def test_errors_and_rm(env):
    r = lokal(env, "search", "nope", "x", check=False)
    assert r.returncode == 1 and "no knowledge base 'nope'" in r.stderr
    r = lokal(env, "index", env["folder"], "--name", "../evil", "--embed", env["bert"], check=False)
    assert r.returncode == 1 and "not a knowledge base name" in r.stderr
    assert "deleted 'kb'" in lokal(env, "rm", "kb").stdout
    assert not re.search(r"^kb\s", lokal(env, "ls").stdout, re.M)


def test_pdf_pages_are_indexed_and_cited_by_page(env):
    folder = os.path.join(os.path.dirname(env["folder"]), "pdfs")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "manual.pdf"), "wb") as f:
        f.write(minimal_pdf([["Unpacking the kettle."],
                             ["Descale the kettle with vinegar monthly.", "Rinse it twice."]]))
    with open(os.path.join(folder, "broken.pdf"), "wb") as f:
        f.write(b"%PDF-1.4\n1 0 obj garbage")
    r = lokal(env, "index", folder, "--name", "pdfkb", "--embed", env["bert"])
    assert "skipped broken.pdf: not a PDF that can be read" in r.stderr, r.stderr
    hit = json.loads(lokal(env, "search", "pdfkb", "vinegar", "--json", "--mode", "bm25").stdout)[0]
    assert hit["path"] == "manual.pdf" and hit["page"] == 2 and hit["start_line"] == 1
    assert "Rinse it twice." in hit["text"] and "Unpacking" not in hit["text"]
    r = lokal(env, "ask", "pdfkb", "How do I descale?", "--model", STORIES, "-k", "1", "-n", "1",
              "--mode", "bm25", "--show-prompt", check=False)
    if os.path.exists(STORIES):
        assert r.returncode == 0, r.stderr
        assert re.search(r"^\[1\] manual\.pdf:p2:1-\d+$", r.stdout, re.M), r.stdout
    lokal(env, "rm", "pdfkb")


def test_rerank_reorders_the_candidates_with_a_reranker_model(env):
    tool = os.environ.get("LOKAL_MAKE_TINY_BERT", "build/tests/make_tiny_bert")
    reranker = os.path.join(os.path.dirname(env["bert"]), "reranker.gguf")
    subprocess.run([tool, reranker, VOCAB, "4"], check=True)
    lokal(env, "index", env["folder"], "--name", "rr", "--embed", env["bert"])
    query = ["search", "rr", "keeper lamp storms bread", "--json"]
    candidates = json.loads(lokal(env, *query, "-k", "20").stdout)
    ranked = json.loads(lokal(env, *query, "-k", "3", "--rerank", reranker,
                              "--rerank-candidates", "20").stdout)
    assert len(ranked) == min(3, len(candidates))
    keys = {(h["path"], h["start_line"]) for h in candidates}
    assert all((h["path"], h["start_line"]) in keys for h in ranked)
    scores = [h["score"] for h in ranked]
    assert scores == sorted(scores, reverse=True)
    best = json.loads(lokal(env, *query, "-k", "1", "--rerank", reranker,
                            "--rerank-candidates", "20").stdout)
    assert [(h["path"], h["start_line"], h["score"]) for h in best] == \
        [(h["path"], h["start_line"], h["score"]) for h in ranked[:1]]
    r = lokal(env, *query, "--rerank", env["bert"], check=False)
    assert r.returncode == 1 and "is not a reranker" in r.stderr
    lokal(env, "rm", "rr")
