"""Serving many clients: batch invariance, cancellation, queue limits, API keys, metrics,
pulling through the server, graceful shutdown."""
import concurrent.futures
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import ollama
import pytest

from conftest import LOKAL, MODEL, STORIES, Server, http

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import registry_server  # noqa: E402

PROMPTS = ["Once upon a time", "The cat", "Lily wanted", "One day, a big", "Tom and Sue",
           "The sun was", "A little bird", "There was a"]


def read_lines(sock, n):
    """Reads from a raw HTTP connection until n NDJSON lines of the body have arrived."""
    got = b""
    while got.count(b"\n{") < n:
        chunk = sock.recv(4096)
        assert chunk, "the server closed the connection: " + got.decode(errors="replace")
        got += chunk
    return got


def metric(base, name):
    _, text = http(base, "GET", "/metrics")
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise KeyError(name)


def test_concurrent_greedy_requests_match_the_same_request_alone(server):
    client = ollama.Client(host=server.base)
    opts = {"temperature": 0, "num_predict": 24}
    alone = [client.generate(model=MODEL, prompt=p, options=opts, raw=True).response
             for p in PROMPTS]
    with concurrent.futures.ThreadPoolExecutor(len(PROMPTS)) as pool:
        together = list(pool.map(
            lambda p: ollama.Client(host=server.base).generate(
                model=MODEL, prompt=p, options=opts, raw=True).response, PROMPTS))
    assert together == alone


def test_client_disconnect_frees_its_slot(server):
    body = json.dumps({"model": MODEL, "prompt": "Once upon a time", "raw": True,
                       "options": {"num_predict": 100000, "num_ctx": 256}}).encode()
    s = socket.create_connection(("127.0.0.1", server.port))
    s.sendall(b"POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    read_lines(s, 3)
    assert metric(server.base, "lokal_num_requests_running") >= 1
    s.close()
    deadline = time.monotonic() + 30
    while metric(server.base, "lokal_num_requests_running") > 0:
        assert time.monotonic() < deadline, "the sequence kept running after the disconnect"
        time.sleep(0.02)


def test_metrics_exposes_gateway_protocol_names(server):
    _, text = http(server.base, "GET", "/metrics")
    for name in ["lokal_num_requests_waiting", "lokal_num_requests_running",
                 "lokal_kv_cache_usage_perc", "lokal_lora_requests_info",
                 "lokal_requests_total", "lokal_generated_tokens_total"]:
        assert name in text
    assert 0.0 <= metric(server.base, "lokal_kv_cache_usage_perc") <= 1.0


def test_full_queue_is_503_with_retry_after(store):
    s = Server(store, "--parallel", "1", "--max-queue", "0", "--ctx", "256", "-q")
    try:
        body = json.dumps({"model": MODEL, "prompt": "Once", "raw": True,
                           "options": {"num_predict": 100000}}).encode()
        sock = socket.create_connection(("127.0.0.1", s.port))
        sock.sendall(b"POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                     str(len(body)).encode() + b"\r\n\r\n" + body)
        read_lines(sock, 2)
        req = urllib.request.Request(s.base + "/api/generate", method="POST",
                                     data=json.dumps({"model": MODEL, "prompt": "x"}).encode())
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=60)
        assert e.value.code == 503 and e.value.headers["Retry-After"]
        sock.close()
    finally:
        assert s.stop() == 0


def test_api_key(store):
    s = Server(store, "--api-key", "sekret", "-q")
    try:
        assert http(s.base, "GET", "/api/tags")[0] == 401
        status, body = http(s.base, "GET", "/v1/models")
        assert status == 401 and body["error"]["type"] == "authentication_error"
        assert http(s.base, "GET", "/api/tags", headers={"Authorization": "Bearer sekret"})[0] == 200
        assert http(s.base, "GET", "/api/tags", headers={"Authorization": "Bearer wrong"})[0] == 401
        assert http(s.base, "GET", "/health")[0] == 200
        assert http(s.base, "GET", "/metrics")[0] == 401
    finally:
        s.stop()


def test_metrics_public_leaves_the_rest_behind_the_key(store):
    s = Server(store, "--api-key", "sekret", "--metrics-public", "-q")
    try:
        status, text = http(s.base, "GET", "/metrics")
        assert status == 200 and "lokal_" in text
        assert http(s.base, "GET", "/api/tags")[0] == 401
    finally:
        s.stop()


def test_pull_through_the_server(tmp_path):
    reg = registry_server.Registry()
    with open(STORIES, "rb") as f:
        reg.add_model("stories", [(registry_server.MODEL_TYPE, f.read())], tag="pulled")
    base = reg.start()
    s = Server(str(tmp_path / "models"), "-q", env={"LOKAL_REGISTRY": base})
    try:
        client = ollama.Client(host=s.base)
        events = list(client.pull("stories:pulled", stream=True))
        assert events[-1].status == "success"
        assert [e.status for e in events].count("pulling manifest") == 1
        assert [e.status for e in events].count("success") == 1
        assert any(e.completed and e.total and e.completed == e.total for e in events)
        assert "stories:pulled" in [m.model for m in client.list().models]
        r = client.generate(model="stories:pulled", prompt="Once", options={"num_predict": 4})
        assert r.eval_count == 4
        with pytest.raises(ollama.ResponseError):
            client.pull("missing:latest")
        # A registry named by host:port over plain http: only with insecure.
        by_host = base.removeprefix("http://") + "/library/stories:pulled"
        with pytest.raises(ollama.ResponseError, match="--insecure"):
            client.pull(by_host)
        assert client.pull(by_host, insecure=True).status == "success"
    finally:
        s.stop()
        reg.stop()


def test_graceful_shutdown_ends_streams_and_exits_0(store):
    s = Server(store, "-q")
    body = json.dumps({"model": MODEL, "prompt": "Once", "raw": True,
                       "options": {"num_predict": 100000}}).encode()
    sock = socket.create_connection(("127.0.0.1", s.port))
    sock.sendall(b"POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                 str(len(body)).encode() + b"\r\n\r\n" + body)
    got = [read_lines(sock, 2)]

    def read_to_the_end():
        while chunk := sock.recv(65536):
            got.append(chunk)
    reader = concurrent.futures.ThreadPoolExecutor(1).submit(read_to_the_end)
    assert s.stop() == 0
    reader.result(timeout=60)
    sock.close()
    got = b"".join(got)
    # The cut stream ends with an error line, not with a done object that looks complete.
    last = [line for line in got.split(b"\n") if line.startswith(b"{")][-1]
    assert b"shutting down" in last and b'"done":true' not in last, got[-600:]


def test_tls(store, tmp_path):
    import shutil
    import ssl
    import subprocess
    if not shutil.which("openssl"):
        pytest.skip("no openssl command")
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True)
    port = None
    s = None
    try:
        s = TlsServer(store, cert, key)
        port = s.port
        ctx = ssl.create_default_context(cafile=cert)
        ctx.check_hostname = False
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/api/tags", context=ctx,
                                    timeout=60) as r:
            assert MODEL in [m["name"] for m in json.loads(r.read())["models"]]
    finally:
        if s:
            s.stop()
    bad = subprocess.run([os.environ.get("LOKAL_BIN", "build/lokal"), "serve", "--tls-cert", cert,
                          "--tls-key", str(tmp_path / "missing.pem")], capture_output=True,
                         env=dict(os.environ, LOKAL_MODELS=store), timeout=60)
    assert bad.returncode == 1 and b"TLS" in bad.stderr


class TlsServer(Server):
    """Server() polls plain http; this one waits for the TLS port instead."""

    def __init__(self, store, cert, key):
        import subprocess
        import tempfile
        from conftest import LOKAL, free_port
        self.port = free_port()
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([LOKAL, "serve", "--port", str(self.port), "--tls-cert", cert,
                                      "--tls-key", key, "-q"],
                                     env=dict(os.environ, LOKAL_MODELS=store), stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert self.proc.poll() is None and time.monotonic() < deadline, self.output()
                time.sleep(0.05)


def test_a_second_server_on_the_same_port_fails(server, store):
    # No silent port sharing (SO_REUSEPORT): the second one says the address is in use.
    env = dict(os.environ, LOKAL_MODELS=store)
    r = subprocess.run([LOKAL, "serve", "--port", str(server.port)], env=env,
                       capture_output=True, timeout=60)
    assert r.returncode != 0
    assert "address already in use" in r.stderr.decode()
    assert http(server.base, "GET", "/api/version")[0] == 200


def test_large_form_encoded_body_is_read_as_json(server):
    # curl -d @file.json sends application/x-www-form-urlencoded; over 8 KiB it used to be 413.
    body = json.dumps({"model": MODEL, "prompt": "Once upon a time " + "x" * 12000,
                       "stream": False, "options": {"num_predict": 2}}).encode()
    status, reply = http(server.base, "POST", "/api/generate", raw=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status != 413, reply
    assert status in (200, 400), reply
    assert isinstance(reply, dict)


def test_a_chat_longer_than_the_context_drops_its_oldest_turns(server):
    # As Ollama: /api/chat truncates by default; truncate: false asks for the 400 instead.
    turns = []
    for i in range(60):
        turns.append({"role": "user", "content": f"Once upon a time there was a cat number {i}."})
        turns.append({"role": "assistant", "content": "The cat sat on the mat and was happy."})
    turns.append({"role": "user", "content": "What happened next?"})
    body = {"model": MODEL, "messages": turns, "stream": False, "options": {"num_predict": 4}}
    status, reply = http(server.base, "POST", "/api/chat", body)
    assert status == 200, reply
    assert reply["prompt_eval_count"] < 1024
    status, reply = http(server.base, "POST", "/api/chat", dict(body, truncate=False))
    assert status == 400, reply
    assert "context" in reply["error"]


def test_serve_listens_where_ollama_host_says(store):
    from conftest import free_port
    port = free_port()
    env = dict(os.environ, LOKAL_MODELS=store, OLLAMA_HOST=f"http://127.0.0.1:{port}")
    env.pop("LOKAL_HOST", None)
    proc = subprocess.Popen([LOKAL, "serve"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        for _ in range(600):  # until it answers (or exits)
            if proc.poll() is not None:
                break
            try:
                if http(f"http://127.0.0.1:{port}", "GET", "/api/version")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        assert http(f"http://127.0.0.1:{port}", "GET", "/api/version")[0] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=60)



def test_lokal_origins_adds_allowed_origins(store):
    s = Server(store, "-q", env={"LOKAL_ORIGINS": "https://*.example.com"})
    try:
        ok, _ = http(s.base, "GET", "/api/tags", headers={"Origin": "https://chat.example.com"})
        refused, _ = http(s.base, "GET", "/api/tags", headers={"Origin": "https://example.org"})
        assert (ok, refused) == (200, 403)
    finally:
        s.stop()


def test_health_answers_while_many_clients_send_their_headers_slowly(store):
    # Slow clients (a header line now and then, never finished) each hold a connection; /health
    # and real requests are still served beside 100 of them (#21 item 19, in part).
    s = Server(store, "-q")
    slow = []
    try:
        for _ in range(100):
            c = socket.create_connection(("127.0.0.1", s.port))
            c.sendall(b"GET /api/tags HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n")
            slow.append(c)
        assert http(s.base, "GET", "/health")[0] == 200
        assert http(s.base, "GET", "/api/tags")[0] == 200
    finally:
        for c in slow:
            c.close()
        s.stop()


def test_removed_models_are_unloaded(tmp_path):
    # `lokal rm` in another process, and /api/delete: the server stops serving the model and
    # unloads it (its blob's space is freed), and does not list it in /api/ps.
    models = str(tmp_path / "models")
    mf = tmp_path / "Modelfile"
    mf.write_text(f"FROM {STORIES}\n")
    env = dict(os.environ, LOKAL_MODELS=models)
    for name in ("one:x", "two:x"):
        subprocess.run([LOKAL, "create", name, "-f", str(mf)], env=env, check=True,
                       capture_output=True)
    s = Server(models, "-q")
    try:
        client = ollama.Client(host=s.base)
        for name in ("one:x", "two:x"):
            client.generate(model=name, prompt="Once", options={"num_predict": 1})
        assert sorted(m.model for m in client.ps().models) == ["one:x", "two:x"]
        # Names ignore case (as in Ollama): one model, one load.
        client.generate(model="ONE:X", prompt="Once", options={"num_predict": 1})
        assert sorted(m.model for m in client.ps().models) == ["one:x", "two:x"]
        subprocess.run([LOKAL, "rm", "one:x"], env=env, check=True, capture_output=True)
        assert [m.model for m in client.ps().models] == ["two:x"]
        with pytest.raises(ollama.ResponseError) as e:
            client.generate(model="one:x", prompt="Once", options={"num_predict": 1})
        assert e.value.status_code == 404
        client.delete("two:x")
        assert client.ps().models == []
    finally:
        s.stop()


def test_ps_and_stop_ask_the_running_server(store):
    s = Server(store, "-q")
    env = dict(os.environ, LOKAL_HOST=f"127.0.0.1:{s.port}")
    try:
        ollama.Client(host=s.base).generate(model=MODEL, prompt="Once",
                                            options={"num_predict": 1}, keep_alive=-1)
        ps = subprocess.run([LOKAL, "ps"], env=env, capture_output=True, text=True)
        assert ps.returncode == 0, ps.stderr
        header, row = ps.stdout.splitlines()[:2]
        assert header.split()[:3] == ["NAME", "ID", "SIZE"]
        assert row.startswith(MODEL) and "100% CPU" in row and "Forever" in row
        stop = subprocess.run([LOKAL, "stop", MODEL], env=env, capture_output=True, text=True)
        assert stop.returncode == 0, stop.stderr
        assert http(s.base, "GET", "/api/ps")[1]["models"] == []
        missing = subprocess.run([LOKAL, "stop", "no-such:model"], env=env, capture_output=True,
                                 text=True)
        assert missing.returncode == 1 and "not found" in missing.stderr
    finally:
        s.stop()
    gone = subprocess.run([LOKAL, "ps"], env=env, capture_output=True, text=True)
    assert gone.returncode == 1 and "no lokal serve is answering" in gone.stderr
