"""A `lokal rag index` killed with SIGKILL part-way leaves a knowledge base that opens, answers
searches, and that the next index run brings to exactly what a clean index of the folder holds
(each file's chunks are written in one SQLite transaction)."""
import os
import signal
import sqlite3
import subprocess
import tempfile
import time

import pytest

from conftest import LOKAL, TESTDATA

VOCAB = os.path.join(TESTDATA, "tokenizer", "ggml-vocab-bert-bge.gguf")
WORDS = ("harbour lantern meadow copper violin glacier orchard thunder pepper canyon ribbon "
         "falcon marble velvet saddle compass").split()


def write_corpus(folder, n_files):
    for i in range(n_files):
        with open(os.path.join(folder, f"doc{i:04d}.md"), "w") as f:
            for p in range(6):
                words = [WORDS[(i * 7 + p * 3 + k) % len(WORDS)] for k in range(40)]
                f.write(f"## Section {p} of document {i}\n\n" + " ".join(words) + ".\n\n")


def files_done(db):
    """Files committed so far, read the way any other SQLite reader would (WAL: no blocking)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as c:
            return c.execute("SELECT count(*) FROM files").fetchone()[0]
    except sqlite3.Error:
        return 0


def contents(db):
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        rows = c.execute("SELECT f.path, f.hash, c.start_line, c.end_line, c.text, c.vector "
                         "FROM chunks c JOIN files f ON f.id = c.file_id").fetchall()
        fts = c.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]
    return sorted(rows), fts


def run(env, *args):
    r = subprocess.run([LOKAL, "rag", *args], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return r


def test_sigkill_mid_index_leaves_a_usable_base_that_reindexing_completes():
    tool = os.environ.get("LOKAL_MAKE_TINY_BERT", "build/tests/make_tiny_bert")
    if not os.path.exists(tool) or not os.path.exists(VOCAB):
        pytest.skip("make_tiny_bert or the bge vocabulary is missing")
    with tempfile.TemporaryDirectory() as d:
        bert = os.path.join(d, "bert.gguf")
        subprocess.run([tool, bert, VOCAB, "1"], check=True)
        folder = os.path.join(d, "docs")
        os.makedirs(folder)
        env = dict(os.environ, LOKAL_RAG_DIR=os.path.join(d, "rag"))
        db = os.path.join(d, "rag", "kb.sqlite")
        # Kill once a few files are in and the run is still going; a machine fast enough to
        # finish first gets a bigger folder.
        n_files, killed = 200, False
        while not killed and n_files <= 12800:
            write_corpus(folder, n_files)
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.remove(db + suffix)
            p = subprocess.Popen([LOKAL, "rag", "index", folder, "--name", "kb", "--embed", bert,
                                  "-t", "1"], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            while p.poll() is None and files_done(db) < 3:
                time.sleep(0.002)
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                killed = True
            p.wait()
            n_files *= 2
        assert killed, "the indexer always finished before it could be killed"
        assert p.returncode == -signal.SIGKILL
        done = files_done(db)
        assert 3 <= done < n_files // 2

        # The base opens and answers from the files it holds.
        assert "kb" in run(env, "ls").stdout
        hits = run(env, "search", "kb", "harbour lantern", "--json", "-k", "3").stdout
        assert '"path": "doc' in hits

        # Re-indexing completes it; the result equals a clean index of the same folder.
        r = run(env, "index", folder, "--name", "kb", "-t", "1")
        assert f"({n_files // 2 - done} new or changed, {done} unchanged" in r.stderr, r.stderr
        run(env, "index", folder, "--name", "clean", "--embed", bert, "-t", "1")
        resumed, fts_resumed = contents(db)
        clean, fts_clean = contents(os.path.join(d, "rag", "clean.sqlite"))
        assert len(resumed) == len(clean) and fts_resumed == fts_clean == len(clean)
        # Same files, line ranges and texts; vectors bit-equal (same model, same batches, one
        # thread).
        assert resumed == clean
        for q in ("harbour lantern", "violin glacier orchard"):
            a = run(env, "search", "kb", q, "--json", "-k", "5", "--mode", "bm25").stdout
            b = run(env, "search", "clean", q, "--json", "-k", "5", "--mode", "bm25").stdout
            assert a == b
