"""The persistent prompt cache, black-box: a restarted server answers the same long prompt from
its KV snapshot on disk (usage's cached_tokens shows it) with the answer a warm in-memory
prefix hit gives (the same KV bytes; the cold first answer may differ in the last bits, since
it evaluated the whole prompt in one pass); `lokal cache ls|clear`;
llama-server's POST /slots/{id}?action=save|restore|erase; LOKAL_CACHE=0 turns it off."""
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import LOKAL, MODEL, Server, http

LONG = "Once upon a time there was a little girl named Lily. " + " ".join(
    f"She liked to play in the park with her friend number {i} and they ran to the big tree."
    for i in range(14))


@pytest.fixture
def cache_dir():
    d = tempfile.mkdtemp(prefix="lokal-prompt-cache-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def serve(store, cache_dir, **env):
    return Server(store, "--parallel", "1", "--ctx", "1024",
                  env=dict(LOKAL_CACHE_DIR=cache_dir, LOKAL_CACHE_MIN_TOKENS="64", **env))


def generate(base):
    """(answer, prompt tokens, of which cached) of the long prompt, greedy."""
    status, r = http(base, "POST", "/v1/completions", {
        "model": MODEL, "prompt": LONG, "max_tokens": 12, "temperature": 0})
    assert status == 200, r
    usage = r["usage"]
    return (r["choices"][0]["text"], usage["prompt_tokens"],
            usage["prompt_tokens_details"]["cached_tokens"])


def snapshot_files(d):
    return [f for f in os.listdir(d) if not f.startswith(".")]


def test_a_restart_restores_the_prompt(store, cache_dir):
    s = serve(store, cache_dir)
    try:
        cold = generate(s.base)
        text, n_prompt, cached = generate(s.base)  # the in-memory hit
    finally:
        assert s.stop() == 0
    assert cold[1] == n_prompt and n_prompt > 100 and cold[2] == 0
    assert cached == n_prompt - 1
    n_files = len(snapshot_files(cache_dir))  # the two answers may differ: one file each
    assert n_files in (1, 2)

    s = serve(store, cache_dir)
    try:
        again = generate(s.base)
    finally:
        s.stop()
    # Everything but the last prompt token came from the snapshot, and the answer is the same.
    assert again == (text, n_prompt, n_prompt - 1)

    env = dict(os.environ, LOKAL_MODELS=store, LOKAL_CACHE_DIR=cache_dir)
    ls = subprocess.run([LOKAL, "cache", "ls"], env=env, capture_output=True, text=True)
    assert ls.returncode == 0, ls.stderr
    assert "sha256-" in ls.stdout and "f16" in ls.stdout, ls.stdout
    clear = subprocess.run([LOKAL, "cache", "clear"], env=env, capture_output=True, text=True)
    assert clear.returncode == 0 and f"removed {n_files} snapshot" in clear.stdout, clear.stdout
    assert snapshot_files(cache_dir) == []


def test_off_with_lokal_cache_0_or_the_flag(store, cache_dir):
    for s in (serve(store, cache_dir, LOKAL_CACHE="0"),
              Server(store, "--parallel", "1", "--no-prompt-cache",
                     env=dict(LOKAL_CACHE_DIR=cache_dir, LOKAL_CACHE_MIN_TOKENS="64"))):
        try:
            assert generate(s.base)[2] == 0
        finally:
            s.stop()
    assert snapshot_files(cache_dir) == []


def test_damaged_snapshots_are_ignored(store, cache_dir):
    s = serve(store, cache_dir)
    try:
        first = generate(s.base)
    finally:
        s.stop()
    assert snapshot_files(cache_dir)
    for name in snapshot_files(cache_dir):
        path = os.path.join(cache_dir, name)
        size = os.path.getsize(path)
        with open(path, "r+b") as f:
            f.truncate(size // 2)
    s = serve(store, cache_dir)
    try:
        again = generate(s.base)
    finally:
        s.stop()
    assert again == first  # nothing cached, the same answer
    assert "ignoring" in s.output()


def test_slots_save_restore_erase(store, cache_dir):
    s = serve(store, cache_dir)
    try:
        generate(s.base)
        first = generate(s.base)  # the in-memory hit, as a restore gives
        status, saved = http(s.base, "POST", "/slots/0?action=save",
                             {"filename": "conversation.bin"})
        assert status == 200, saved
        assert saved["id_slot"] == 0 and saved["filename"] == "conversation.bin"
        assert saved["n_saved"] >= first[1] and saved["n_written"] > 0
        assert "save_ms" in saved["timings"]
        assert os.path.exists(os.path.join(cache_dir, "conversation.bin"))

        for bad in ("../escape.bin", "a/b.bin", ".hidden", "/etc/passwd"):
            status, err = http(s.base, "POST", "/slots/0?action=save", {"filename": bad})
            assert status == 400, (bad, err)
            assert "error" in err
        assert not os.path.exists(os.path.join(os.path.dirname(cache_dir), "escape.bin"))
        status, err = http(s.base, "POST", "/slots/0?action=restore", {"filename": "missing.bin"})
        assert status == 404, err
        status, err = http(s.base, "POST", "/slots/9?action=erase", {})
        assert status == 404, err
        status, err = http(s.base, "POST", "/slots/0?action=fly", {})
        assert status == 400, err

        status, erased = http(s.base, "POST", "/slots/0?action=erase", {})
        assert status == 200 and erased == {"id_slot": 0, "n_erased": saved["n_saved"]}, erased
        status, restored = http(s.base, "POST", "/slots/0?action=restore",
                                {"filename": "conversation.bin"})
        assert status == 200, restored
        assert restored["n_restored"] == saved["n_saved"]
        assert restored["n_read"] == saved["n_written"] and "restore_ms" in restored["timings"]
        assert generate(s.base) == (first[0], first[1], first[1] - 1)
    finally:
        s.stop()
