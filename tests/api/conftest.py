"""Starts real `lokal serve` processes on free loopback ports with real models from
../shared/testdata, in a private model store."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

LOKAL = os.path.abspath(os.environ.get("LOKAL_BIN", "build/lokal"))
TESTDATA = os.path.abspath(os.environ.get("LOKAL_TESTDATA", "../shared/testdata"))
STORIES = os.path.join(TESTDATA, "models", "stories260K.gguf")
MODEL = "stories:260k"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, store, *args, env=None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, LOKAL_MODELS=store, **(env or {}))
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([LOKAL, "serve", "--port", str(self.port), *args],
                                     env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.base + "/", timeout=5).read()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("lokal serve did not start:\n" + self.output())
                time.sleep(0.05)

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self, sig=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def http(base, method, path, body=None, headers=None, raw=None):
    """(status, parsed JSON or text) without raising on HTTP errors."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


@pytest.fixture(scope="session")
def store():
    if not os.path.exists(STORIES):
        if os.environ.get("CI") == "true":
            pytest.fail(f"test data missing in CI: {STORIES}")
        pytest.skip("stories260K.gguf not found")
    d = tempfile.mkdtemp(prefix="lokal-api-test-")
    mf = os.path.join(d, "Modelfile")
    with open(mf, "w") as f:
        f.write(f"FROM {STORIES}\n")
    env = dict(os.environ, LOKAL_MODELS=os.path.join(d, "models"))
    subprocess.run([LOKAL, "create", MODEL, "-f", mf], env=env, check=True, capture_output=True)
    yield os.path.join(d, "models")
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def server(store):
    s = Server(store, "--parallel", "4", "--ctx", "1024", "--max-body", "100000")
    yield s
    s.stop()
