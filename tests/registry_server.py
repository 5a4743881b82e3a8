"""A small Ollama-style registry on 127.0.0.1 for tests, with fault injection.

Serves GET /v2/<ns>/<model>/manifests/<tag> and /v2/<ns>/<model>/blobs/<digest> (with Range),
plus /files/<name> for direct-URL pulls. Faults, each keyed by blob digest (or path):
  drop_once     send half the body, then drop the connection (once)
  stall_once    send half the body, then wait until release() (once; to SIGKILL a client)
  corrupt       serve the blob with one byte flipped
  fail_500      {path substring: n}: answer 500 n times
  redirect      blobs answer 307 to /cdn/<digest> (on redirect_host, e.g. "localhost", when set:
                another origin, which must never receive the registry token)
  no_range      ignore Range headers (always 200 with the whole body)
  fault_start   {key: offset}: drop_once/stall_once only hit a request whose range starts there
  throttle_bps  per-connection send rate in bytes/s (0: unlimited), to make parallelism visible
Auth (require_auth=True): /v2/ answers 401 with a Bearer challenge unless the request carries
"Authorization: Bearer <token>"; GET /token?service=..&scope=.. issues `token` (as
token_field, "token" or "access_token"), or 401 when deny_token is set; issue_token overrides
what is issued (a wrong token); realm overrides the challenge's realm. token_requests counts
token fetches.
served[digest] counts the body bytes actually sent; requests lists (path, Range, Authorization);
ranged lists (key, start, end, bytes sent) per ranged body; max_active is the most blob bodies
sent at once.

Push (the OCI distribution upload flow): HEAD /v2/<ns>/<model>/blobs/<digest>; POST
/v2/<ns>/<model>/blobs/uploads/ answers 202 with a Location (/upload/<uuid>?_state=x); PUT
<location>&digest=<digest> stores the body when its sha256 matches (else 400 DIGEST_INVALID);
PUT /v2/<ns>/<model>/manifests/<tag> stores a manifest whose blobs are all present (else 400
MANIFEST_BLOB_UNKNOWN), so a later pull gets it. uploads[digest] counts stored uploads,
upload_posts the upload sessions started; upload_host (e.g. "localhost") makes the Location
absolute on another origin, which must never receive the registry token; corrupt_upload (digests) flips a byte of a received
body (a wrong-digest upload). With require_auth, writes need a push token: the token server
issues `token`+"-push" when the scope asks for push, and the challenge of a write names
"<repo>:push,pull". fail_500 applies to every method.

Run alone: python3 tests/registry_server.py MODEL.gguf [NAME[:TAG]] prints the base URL.
"""
import collections
import hashlib
import time
import urllib.parse
import http.server
import json
import re
import socket
import sys
import threading

MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
MODEL_TYPE = "application/vnd.ollama.image.model"


def digest_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Registry:
    def __init__(self):
        self.manifests = {}  # "ns/model/tag" -> bytes
        self.blobs = {}  # digest -> bytes
        self.files = {}  # name -> bytes (direct URLs)
        self.drop_once = set()
        self.stall_once = set()
        self.corrupt = set()
        self.fail_500 = {}
        self.redirect = False
        self.no_range = False
        self.redirect_host = None
        self.fault_start = {}
        self.throttle_bps = 0
        self.require_auth = False
        self.token = "s3cret-token"
        self.issue_token = None
        self.token_field = "token"
        self.deny_token = False
        self.token_requests = 0
        self.token_queries = []
        self.realm = None  # the realm the challenge names; default: /token on this server
        self.ranged = []
        self.active = 0
        self.max_active = 0
        self.served = collections.Counter()
        self.requests = []
        self.uploads = collections.Counter()
        self.upload_posts = 0
        self.sessions = {}  # uuid -> repository
        self.corrupt_upload = set()
        self.manifest_types = []  # Content-Type of each manifest PUT
        self.upload_host = None  # upload Locations on this host (another origin), unauthenticated
        self.lock = threading.Lock()
        self.stalled = threading.Event()  # set when a stalled response has sent its half
        self.released = threading.Event()
        self._server = None

    def add_blob(self, data):
        d = digest_of(data)
        self.blobs[d] = data
        return d

    def add_model(self, name, layers, tag="latest", ns="library"):
        """layers: [(media_type, bytes)]. Returns the manifest bytes."""
        config = json.dumps({"model_format": "gguf"}).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {"mediaType": CONFIG_TYPE, "digest": self.add_blob(config),
                       "size": len(config)},
            "layers": [{"mediaType": t, "digest": self.add_blob(b), "size": len(b)}
                       for t, b in layers],
        }
        body = json.dumps(manifest, indent=2).encode()
        self.manifests[f"{ns}/{name}/{tag}"] = body
        return body

    def release(self):
        self.released.set()

    def start(self):
        registry = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def injected_500(self):
                with registry.lock:
                    registry.requests.append((self.path, self.headers.get("Range"),
                                              self.headers.get("Authorization")))
                    for key, n in list(registry.fail_500.items()):
                        if key in self.path and n > 0:
                            registry.fail_500[key] = n - 1
                            self.plain(500, b'{"errors":[{"code":"UNKNOWN",'
                                            b'"message":"injected failure"}]}')
                            return True
                return False

            def authorized(self, write):
                """False (after answering 401) when auth is required and missing."""
                if not registry.require_auth:
                    return True
                auth = self.headers.get("Authorization")
                push = "Bearer " + registry.token + "-push"
                if auth == push or (not write and auth == "Bearer " + registry.token):
                    return True
                self.challenge("push,pull" if write else "pull")
                return False

            def read_body(self):
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def do_HEAD(self):
                if self.injected_500():
                    return
                if not self.authorized(write=False):
                    return
                m = re.fullmatch(r"/v2/[^/]+/[^/]+/blobs/(sha256:[0-9a-f]{64})", self.path)
                data = registry.blobs.get(m.group(1)) if m else None
                self.send_response(200 if data is not None else 404)
                self.send_header("Content-Length", str(len(data) if data is not None else 0))
                self.end_headers()

            def do_POST(self):
                self.read_body()
                if self.injected_500():
                    return
                m = re.fullmatch(r"/v2/([^/]+/[^/]+)/blobs/uploads/", self.path)
                if not m:
                    return self.plain(404, b"not found")
                if not self.authorized(write=True):
                    return
                uid = f"u{len(registry.sessions)}"
                with registry.lock:
                    registry.upload_posts += 1
                    registry.sessions[uid] = m.group(1)
                self.send_response(202)
                loc = f"/upload/{uid}?_state=x"
                if registry.upload_host:
                    loc = f"http://{registry.upload_host}:{self.server.server_address[1]}" + loc
                self.send_header("Location", loc)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_PUT(self):
                body = self.read_body()
                if self.injected_500():
                    return
                url = urllib.parse.urlparse(self.path)
                # Uploads elsewhere (upload_host) are authorised by their URL alone, like signed
                # URLs to storage.
                elsewhere = registry.upload_host and url.path.startswith("/upload/")
                if not elsewhere and not self.authorized(write=True):
                    return
                m = re.fullmatch(r"/upload/([^/]+)", url.path)
                if m:
                    if m.group(1) not in registry.sessions:
                        return self.plain(404, b'{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN",'
                                               b'"message":"blob upload unknown"}]}')
                    want = urllib.parse.parse_qs(url.query).get("digest", [""])[0]
                    if want in registry.corrupt_upload and body:
                        body = bytes([body[0] ^ 0xFF]) + body[1:]
                    if digest_of(body) != want:
                        return self.plain(400, b'{"errors":[{"code":"DIGEST_INVALID","message":'
                                               b'"provided digest did not match uploaded '
                                               b'content"}]}')
                    with registry.lock:
                        registry.blobs[want] = body
                        registry.uploads[want] += 1
                    self.send_response(201)
                    self.send_header("Location", f"/v2/{registry.sessions[m.group(1)]}/blobs/{want}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                m = re.fullmatch(r"/v2/([^/]+)/([^/]+)/manifests/([^/]+)", url.path)
                if not m:
                    return self.plain(404, b"not found")
                try:
                    doc = json.loads(body)
                    digests = [doc["config"]["digest"]] + [l["digest"] for l in doc["layers"]]
                except (ValueError, KeyError, TypeError):
                    return self.plain(400, b'{"errors":[{"code":"MANIFEST_INVALID",'
                                           b'"message":"manifest invalid"}]}')
                if any(d not in registry.blobs for d in digests):
                    return self.plain(400, b'{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN",'
                                           b'"message":"blob unknown to registry"}]}')
                with registry.lock:
                    registry.manifests["/".join(m.groups())] = body
                    registry.manifest_types.append(self.headers.get("Content-Type"))
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):
                if self.injected_500():
                    return
                if self.path.startswith("/token"):
                    return self.issue()
                if self.path.startswith("/v2/") and not self.authorized(write=False):
                    return
                m = re.fullmatch(r"/v2/([^/]+)/([^/]+)/manifests/([^/]+)", self.path)
                if m:
                    body = registry.manifests.get("/".join(m.groups()))
                    if body is None:
                        return self.plain(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
                    return self.send_body(body, MANIFEST_TYPE, None)
                m = re.fullmatch(r"/v2/[^/]+/[^/]+/blobs/(sha256:[0-9a-f]{64})", self.path)
                if m and registry.redirect:
                    self.send_response(307)
                    loc = "/cdn/" + m.group(1)
                    if registry.redirect_host:
                        loc = f"http://{registry.redirect_host}:{self.server.server_address[1]}" + loc
                    self.send_header("Location", loc)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if not m:
                    m = re.fullmatch(r"/cdn/(sha256:[0-9a-f]{64})", self.path)
                if m:
                    d = m.group(1)
                    data = registry.blobs.get(d)
                    if data is None:
                        return self.plain(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
                    if d in registry.corrupt:
                        data = bytes([data[0] ^ 0xFF]) + data[1:]
                    return self.send_body(data, "application/octet-stream", d)
                m = re.fullmatch(r"/files/([^/?]+)(\?.*)?", self.path)
                if m and m.group(1) in registry.files:
                    return self.send_body(registry.files[m.group(1)], "application/octet-stream",
                                          "file:" + m.group(1))
                return self.plain(404, b"not found")

            def challenge(self, actions="pull"):
                m = re.match(r"/v2/([^/]+/[^/]+)/", self.path)
                port = self.server.server_address[1]
                realm = registry.realm or f"http://127.0.0.1:{port}/token"
                value = (f'Bearer realm="{realm}",service="lokal-test",'
                         f'scope="repository:{m.group(1) if m else ""}:{actions}"')
                body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
                self.send_response(401)
                self.send_header("WWW-Authenticate", value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def issue(self):
                q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                with registry.lock:
                    registry.token_requests += 1
                    registry.token_queries.append(q)
                if registry.deny_token:
                    return self.plain(401, b'{"errors":[{"code":"DENIED",'
                                           b'"message":"bad credentials"}]}')
                tok = registry.issue_token or registry.token
                if not registry.issue_token and "push" in q.get("scope", [""])[0]:
                    tok += "-push"
                return self.plain(200, json.dumps({registry.token_field: tok}).encode())

            def plain(self, code, body):
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def send_body(self, data, ctype, key):
                start = 0
                end = len(data)  # exclusive
                rng = self.headers.get("Range")
                ranged = bool(rng and not registry.no_range)
                if ranged:
                    mm = re.fullmatch(r"bytes=(\d+)-(\d*)", rng.strip())
                    if not mm:
                        return self.plain(416, b"bad range")
                    start = int(mm.group(1))
                    if mm.group(2):
                        end = min(end, int(mm.group(2)) + 1)
                    if start >= len(data) or end <= start:
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:end]
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                fault = None
                with registry.lock:
                    for name in ("drop_once", "stall_once"):
                        s = getattr(registry, name)
                        want = registry.fault_start.get(key)
                        if key in s and (want is None or (ranged and start == want)):
                            s.discard(key)
                            fault = name
                if fault:
                    half = body[: len(body) // 2]
                    self.count(key, half, ranged, start, end)
                    self.wfile.write(half)
                    self.wfile.flush()
                    if fault == "stall_once":
                        registry.stalled.set()
                        registry.released.wait()
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    self.close_connection = True
                    return
                with registry.lock:
                    registry.active += 1
                    registry.max_active = max(registry.max_active, registry.active)
                sent = 0
                try:
                    step = 64 * 1024
                    t0 = time.monotonic()
                    while sent < len(body):
                        chunk = body[sent:sent + step]
                        self.wfile.write(chunk)
                        sent += len(chunk)
                        if registry.throttle_bps:
                            ahead = t0 + sent / registry.throttle_bps - time.monotonic()
                            if ahead > 0:
                                time.sleep(ahead)
                except OSError:
                    pass
                finally:
                    with registry.lock:
                        registry.active -= 1
                    self.count(key, body[:sent], ranged, start, end)

            def count(self, key, chunk, ranged=False, start=0, end=0):
                if key:
                    with registry.lock:
                        registry.served[key] += len(chunk)
                        if ranged:
                            registry.ranged.append((key, start, end, len(chunk)))

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self):
        self.released.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: registry_server.py MODEL.gguf [NAME[:TAG]]")
    with open(sys.argv[1], "rb") as f:
        gguf = f.read()
    name, _, tag = (sys.argv[2] if len(sys.argv) > 2 else "test").partition(":")
    reg = Registry()
    reg.add_model(name, [(MODEL_TYPE, gguf)], tag=tag or "latest")
    print(reg.start(), flush=True)
    threading.Event().wait()
