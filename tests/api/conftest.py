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


def minimal_pdf(pages):
    """A small valid PDF written by hand: one Helvetica text line per string, a page per list."""
    objs = ["<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [%s] /Count %d >>" % (
                " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages))), len(pages)),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    for i, lines in enumerate(pages):
        content = "BT /F1 12 Tf 72 720 Td 14 TL\n" + "".join(f"({s}) Tj T*\n" for s in lines) + "ET\n"
        objs.append("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
                    f"<< /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>")
        objs.append(f"<< /Length {len(content)} >>\nstream\n{content}endstream")
    out, offsets = "%PDF-1.4\n", []
    for i, body in enumerate(objs):
        offsets.append(len(out))
        out += f"{i + 1} 0 obj\n{body}\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n"
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return out.encode("latin-1")
