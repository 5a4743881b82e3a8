"""Black-box tests of the model store: pull from a mock registry on 127.0.0.1, list, run by name,
resume, corrupted blobs, SIGKILL mid-download, concurrent pulls, parallel range downloads,
registry token auth, cp, rm, create, push (CLI and /api/push)."""
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import socket
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import registry_server  # noqa: E402

LOKAL = os.environ.get("LOKAL_BIN", "build/lokal")
# A prompt cache of our own: snapshots left in ~/.lokal/cache by other runs would change what
# the prompt evaluates (prompt token counts), and these runs must not leave any there.
os.environ.setdefault("LOKAL_CACHE_DIR", tempfile.mkdtemp(prefix="lokal-test-cache-"))
TESTDATA = os.environ.get("LOKAL_TESTDATA", "../shared/testdata")
STORIES = os.path.join(TESTDATA, "models", "stories260K.gguf")
IN_CI = os.environ.get("CI") == "true"
MODEL = registry_server.MODEL_TYPE


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def tiny_gguf(arch="llama", pad=200000):
    """A valid GGUF with metadata only (no tensors), padded to `pad` bytes of metadata."""
    kv = [("general.architecture", arch), ("general.name", "x" * pad)]
    out = struct.pack("<IIQQ", 0x46554747, 3, 0, len(kv))
    for k, v in kv:
        out += gguf_string(k) + struct.pack("<I", 8) + gguf_string(v)
    return out


def model_bytes():
    if os.path.exists(STORIES):
        with open(STORIES, "rb") as f:
            return f.read(), True
    if IN_CI:
        raise AssertionError(f"test data missing in CI: {STORIES}")
    return tiny_gguf(), False


def tiny_bert_folder(path, arch="BertModel"):
    """A Hugging Face BERT folder (random weights as safetensors, WordPiece tokenizer.json)."""
    import random
    rng = random.Random(5)
    E, F, V, P = 8, 16, 10, 16
    shapes = {"embeddings.word_embeddings.weight": [V, E],
              "embeddings.position_embeddings.weight": [P, E],
              "embeddings.token_type_embeddings.weight": [2, E],
              "embeddings.LayerNorm.weight": [E], "embeddings.LayerNorm.bias": [E]}
    for name, (o, i) in {"attention.self.query": (E, E), "attention.self.key": (E, E),
                         "attention.self.value": (E, E), "attention.output.dense": (E, E),
                         "intermediate.dense": (F, E), "output.dense": (E, F)}.items():
        shapes["encoder.layer.0.%s.weight" % name] = [o, i]
        shapes["encoder.layer.0.%s.bias" % name] = [o]
    for name in ("attention.output.LayerNorm", "output.LayerNorm"):
        shapes["encoder.layer.0.%s.weight" % name] = [E]
        shapes["encoder.layer.0.%s.bias" % name] = [E]
    header, data = {}, b""
    for name, shape in shapes.items():
        n = 1
        for d in shape:
            n *= d
        values = [1.0 + rng.uniform(-0.1, 0.1) if "LayerNorm.weight" in name
                  else rng.uniform(-0.5, 0.5) for _ in range(n)]
        header[name] = {"dtype": "F32", "shape": shape,
                        "data_offsets": [len(data), len(data) + 4 * n]}
        data += struct.pack("<%df" % n, *values)
    h = json.dumps(header).encode()
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s", "the", "cat"]
    tok = {"model": {"type": "WordPiece", "vocab": {w: i for i, w in enumerate(words)}},
           "added_tokens": [{"id": i, "content": w, "special": True}
                            for i, w in enumerate(words[:5])]}
    config = {"architectures": [arch], "hidden_size": E, "intermediate_size": F,
              "num_hidden_layers": 1, "num_attention_heads": 2, "max_position_embeddings": P,
              "type_vocab_size": 2, "layer_norm_eps": 1e-12}
    for name, value in (("tokenizer.json", tok), ("config.json", config),
                        ("tokenizer_config.json", {"cls_token": "[CLS]", "sep_token": "[SEP]"})):
        with open(os.path.join(path, name), "w") as f:
            json.dump(value, f)


class StoreTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="lokal-store-test-")
        self.models = os.path.join(self.tmp, "models")
        self.reg = registry_server.Registry()
        self.gguf, self.runnable = model_bytes()
        self.template = b"{{ .Prompt }}"
        self.params = b'{"temperature":0}'
        self.reg.add_model("stories", [(MODEL, self.gguf),
                                       ("application/vnd.ollama.image.template", self.template),
                                       ("application/vnd.ollama.image.params", self.params)],
                           tag="260k")
        self.digest = registry_server.digest_of(self.gguf)
        self.base = self.reg.start()
        self.env = dict(os.environ, LOKAL_MODELS=self.models, LOKAL_REGISTRY=self.base,
                        LOKAL_PULL_BACKOFF_MS="1", LOKAL_PULL_RETRIES="4")
        self.env.pop("LOKAL_REGISTRY_HOSTS", None)

    def tearDown(self):
        self.reg.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def lokal(self, *args, **kw):
        return subprocess.run([LOKAL, *args], capture_output=True, env=self.env, timeout=300, **kw)

    def ok(self, *args):
        r = self.lokal(*args)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return r

    def user_error(self, r, *needles):
        self.assertEqual(r.returncode, 1, r.stderr)
        err = r.stderr.decode()
        self.assertIn("lokal: error: ", err)
        for n in needles:
            self.assertIn(n, err)
        return err

    def store_files(self):
        out = []
        for root, _, files in os.walk(self.models):
            out += [os.path.relpath(os.path.join(root, f), self.models) for f in files]
        return sorted(out)

    def blob_files(self):
        return sorted(f for f in self.store_files() if f.startswith("blobs"))

    def referenced_blobs(self):
        digests = set()
        for f in self.store_files():
            if f.startswith("manifests"):
                with open(os.path.join(self.models, f)) as fh:
                    m = json.load(fh)
                for layer in [m["config"], *m["layers"]]:
                    digests.add(os.path.join("blobs", layer["digest"].replace(":", "-")))
        return sorted(digests)

    def blob_path(self, digest):
        return os.path.join(self.models, "blobs", digest.replace(":", "-"))

    def listed_names(self):
        lines = self.ok("list").stdout.decode().splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "ID", "SIZE", "MODIFIED"])
        return [l.split()[0] for l in lines[1:]]

    # --- pull ---------------------------------------------------------------------------------

    def test_pull_list_run(self):
        r = self.ok("pull", "stories:260k")
        err = r.stderr.decode()
        self.assertIn("pulling manifest", err)
        self.assertIn("100%", err)
        self.assertIn("success", err)
        self.assertEqual(self.listed_names(), ["stories:260k"])
        manifest = os.path.join(self.models, "manifests", "registry.ollama.ai", "library",
                                "stories", "260k")
        with open(manifest, "rb") as f:
            self.assertEqual(f.read(), self.reg.manifests["library/stories/260k"])
        with open(self.blob_path(self.digest), "rb") as f:
            self.assertEqual(f.read(), self.gguf)
        self.assertEqual(self.reg.served[self.digest], len(self.gguf))
        # A second pull downloads nothing.
        self.ok("pull", "-q", "stories:260k")
        self.assertEqual(self.reg.served[self.digest], len(self.gguf))
        if not self.runnable:
            self.skipTest(f"{STORIES} not found: cannot run the pulled model")
        r = self.ok("run", "stories:260k", "--raw", "-p", "Once upon a time", "-n", "8",
                    "--temperature", "0")
        direct = subprocess.run([LOKAL, "run", STORIES, "--raw", "-p", "Once upon a time", "-n",
                                 "8", "--temperature", "0"], capture_output=True, timeout=300)
        self.assertEqual(r.stdout, direct.stdout)
        self.assertTrue(r.stdout.strip())
        self.ok("show", "stories:260k")

    def test_run_pulls_a_missing_model_first(self):
        if not self.runnable:
            self.skipTest(f"{STORIES} not found: cannot run the pulled model")
        r = self.ok("run", "stories:260k", "--raw", "-p", "Once upon a time", "-n", "8",
                    "--temperature", "0")
        self.assertIn("pulling it", r.stderr.decode())
        self.assertEqual(self.listed_names(), ["stories:260k"])
        self.assertTrue(r.stdout.strip())
        # An unknown model is a clear error, and nothing is stored.
        r = self.lokal("run", "nosuch:model", "-p", "hi")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(self.listed_names(), ["stories:260k"])

    def test_quiet(self):
        r = self.ok("pull", "--quiet", "stories:260k")
        self.assertEqual(r.stderr, b"")
        self.assertEqual(r.stdout, b"")

    def test_resume_after_dropped_connection(self):
        self.reg.drop_once.add(self.digest)
        self.ok("pull", "-q", "stories:260k")
        # Every byte was sent exactly once: the retry resumed where the drop cut it.
        self.assertEqual(self.reg.served[self.digest], len(self.gguf))
        ranges = [rg for p, rg, _ in self.reg.requests if self.digest in p and rg]
        self.assertEqual(ranges, [f"bytes={len(self.gguf) // 2}-"])
        with open(self.blob_path(self.digest), "rb") as f:
            self.assertEqual(f.read(), self.gguf)

    def test_retries_500s_and_follows_redirects(self):
        self.reg.fail_500 = {"/manifests/": 2, "/blobs/": 2}
        self.reg.redirect = True
        self.ok("pull", "-q", "stories:260k")
        self.assertTrue(any(p.startswith("/cdn/") for p, _, _ in self.reg.requests))
        self.assertEqual(self.listed_names(), ["stories:260k"])

    def test_server_ignoring_range_restarts_cleanly(self):
        self.reg.drop_once.add(self.digest)
        self.reg.no_range = True
        self.ok("pull", "-q", "stories:260k")
        with open(self.blob_path(self.digest), "rb") as f:
            self.assertEqual(f.read(), self.gguf)

    def test_corrupted_blob_rejected(self):
        self.reg.corrupt.add(self.digest)
        err = self.user_error(self.lokal("pull", "stories:260k"), "sha256 mismatch", self.digest)
        self.assertNotIn("Traceback", err)
        # Nothing of the model: no manifest, no model blob, no partial file.
        files = self.store_files()
        self.assertFalse([f for f in files if f.startswith("manifests")], files)
        self.assertFalse([f for f in files if self.digest[7:] in f], files)
        self.assertEqual(self.listed_names(), [])
        self.user_error(self.lokal("show", "stories:260k"), "not found",
                        "lokal pull stories:260k")
        # `run` pulls a missing model first; the corrupt blob fails it the same clean way.
        self.user_error(self.lokal("run", "stories:260k", "-p", "x"), "sha256 mismatch")
        self.assertEqual(self.listed_names(), [])

    def test_sigkill_mid_download_then_resume(self):
        self.reg.stall_once.add(self.digest)
        p = subprocess.Popen([LOKAL, "pull", "-q", "stories:260k"], env=self.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.assertTrue(self.reg.stalled.wait(120))
            # The half-downloaded model is not listed and cannot be run.
            self.assertEqual(self.listed_names(), [])
            # The blob is still a partial file (created before the request was sent).
            partial = self.blob_path(self.digest) + "-partial"
            self.assertTrue(os.path.exists(partial))
        finally:
            p.send_signal(signal.SIGKILL)
            p.wait()
        self.reg.release()
        half = os.path.getsize(partial)
        self.ok("pull", "-q", "stories:260k")
        self.assertEqual(self.listed_names(), ["stories:260k"])
        # The second pull only fetched what the first had not stored.
        self.assertEqual(self.reg.served[self.digest], len(self.gguf) // 2 + len(self.gguf) - half)
        with open(self.blob_path(self.digest), "rb") as f:
            self.assertEqual(f.read(), self.gguf)
        self.assertFalse(os.path.exists(partial))

    def test_concurrent_pulls(self):
        self.reg.stall_once.add(self.digest)
        first = subprocess.Popen([LOKAL, "pull", "-q", "stories:260k"], env=self.env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertTrue(self.reg.stalled.wait(120))
        # The first holds the blob's lock mid-download; the second waits for it.
        second = subprocess.Popen([LOKAL, "pull", "-q", "stories:260k"], env=self.env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.reg.release()  # the first's connection drops; it resumes and finishes
        for p in (first, second):
            _, err = p.communicate(timeout=300)
            self.assertEqual(p.returncode, 0, err.decode())
        self.assertEqual(self.listed_names(), ["stories:260k"])
        blobs = [f for f in self.store_files() if f.startswith("blobs/")]
        self.assertEqual(len(blobs), 4, blobs)  # config, model, template, params; no partials
        with open(self.blob_path(self.digest), "rb") as f:
            self.assertEqual(f.read(), self.gguf)

    def test_unknown_model_and_bad_references(self):
        self.user_error(self.lokal("pull", "nosuch"), "model 'nosuch' not found in registry",
                        self.base)
        for bad in ["../evil", "/etc/passwd", "a/b/c/d", "a b", "ns/..:x", "m:../../x", "x:"]:
            self.user_error(self.lokal("pull", bad), "invalid model name")
        self.user_error(self.lokal("cp", "stories:260k", "../x"), "invalid model name")
        self.assertEqual(self.store_files(), [])

    def test_plain_http_only_to_loopback(self):
        env = dict(self.env, LOKAL_REGISTRY="http://example.com")
        r = subprocess.run([LOKAL, "pull", "stories:260k"], capture_output=True, env=env,
                           timeout=60)
        self.user_error(r, "refusing plain http")

    def test_insecure_registry_host(self):
        # A registry named by host:port speaks https unless --insecure: a plain-http one fails at
        # once (a TLS error is not retried) with a hint, and --insecure pulls over http.
        host = self.base.removeprefix("http://")
        name = host + "/library/stories:260k"
        r = self.lokal("pull", name)
        self.user_error(r, "--insecure")
        self.assertNotIn("retrying", r.stderr.decode())
        self.ok("pull", "--insecure", name)
        self.assertEqual(self.listed_names(), [name])

    def test_failed_url_pull_leaves_no_file(self):
        r = self.lokal("pull", self.base + "/files/gone.gguf")
        self.user_error(r, "not found")
        self.assertEqual(self.store_files(), [])

    def test_malformed_manifest(self):
        self.reg.manifests["library/broken/latest"] = b'{"schemaVersion":2,"layers":[{"x":1}]}'
        self.user_error(self.lokal("pull", "broken"), "bad manifest")
        self.assertEqual(self.listed_names(), [])

    def test_missing_blob(self):
        del self.reg.blobs[self.digest]
        self.user_error(self.lokal("pull", "stories:260k"), "not found")
        self.assertEqual(self.listed_names(), [])
        # Nothing at all is left behind, not even the (small, already fetchable) config blob.
        self.assertEqual(self.store_files(), [])

    def test_direct_url(self):
        self.reg.files["Stories-260K.gguf"] = self.gguf
        self.reg.drop_once.add("file:Stories-260K.gguf")
        r = self.ok("pull", self.base + "/files/Stories-260K.gguf")
        self.assertIn("stored as stories-260k:latest", r.stderr.decode())
        self.assertEqual(self.listed_names(), ["stories-260k:latest"])
        with open(self.blob_path(self.digest), "rb") as f:
            self.assertEqual(f.read(), self.gguf)
        self.reg.files["junk.gguf"] = b"not a model" * 100
        self.user_error(self.lokal("pull", self.base + "/files/junk.gguf"), "not a GGUF file")

    # --- parallel range downloads ---------------------------------------------------------------

    PARTS = 4

    def add_big(self, size=1 << 20):
        """A model whose one blob is fetched in parts (the threshold is set below its size)."""
        self.big = tiny_gguf(pad=size)
        self.reg.add_model("big", [(MODEL, self.big)])
        self.big_digest = registry_server.digest_of(self.big)
        self.env.update(LOKAL_PULL_PARTS=str(self.PARTS), LOKAL_PULL_PART_MIN_BYTES="100000")
        n = len(self.big)
        length = -(-n // self.PARTS)
        return [(s, min(n, s + length)) for s in range(0, n, length)]

    def check_big(self):
        with open(self.blob_path(self.big_digest), "rb") as f:
            self.assertEqual(f.read(), self.big)
        left = [f for f in self.store_files() if "partial" in f or ".parts" in f]
        self.assertEqual(left, [])

    def part_requests(self):
        """(start, end) of the ranged blob requests other than the 1-byte probe."""
        return sorted((s, e) for k, s, e, _ in self.reg.ranged
                      if k == self.big_digest and (s, e) != (0, 1))

    def test_multipart_pull(self):
        parts = self.add_big(2 << 20)
        self.reg.throttle_bps = 8 << 20  # per connection: parts overlap in time
        r = self.ok("pull", "big")
        self.assertIn("100%", r.stderr.decode())
        self.check_big()
        self.assertEqual(self.part_requests(), parts)
        self.assertGreaterEqual(self.reg.max_active, 2)
        # One probe byte, then every byte exactly once.
        self.assertEqual(self.reg.served[self.big_digest], len(self.big) + 1)
        self.assertEqual(self.listed_names(), ["big:latest"])
        # Small blobs stay a single stream: no ranged request for the config blob.
        self.assertEqual({k for k, *_ in self.reg.ranged}, {self.big_digest})

    def test_multipart_drop_resumes_the_part(self):
        parts = self.add_big()
        s2, e2 = parts[2]
        self.reg.drop_once.add(self.big_digest)
        self.reg.fault_start[self.big_digest] = s2
        self.ok("pull", "-q", "big")
        self.check_big()
        self.assertEqual(self.reg.served[self.big_digest], len(self.big) + 1)
        half = (e2 - s2) // 2
        self.assertIn((s2 + half, e2), self.part_requests())

    def read_sidecar(self, path):
        try:
            with open(path) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return None
        return [tuple(map(int, l.split()[1:])) for l in lines if l.startswith("part ")]

    def test_multipart_sigkill_then_resume(self):
        parts = self.add_big()
        s1, e1 = parts[1]
        self.reg.stall_once.add(self.big_digest)
        self.reg.fault_start[self.big_digest] = s1
        partial = self.blob_path(self.big_digest) + "-partial"
        sidecar = partial + ".parts"
        expect = len(self.big) - (e1 - s1) + (e1 - s1) // 2
        p = subprocess.Popen([LOKAL, "pull", "-q", "big"], env=self.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.assertTrue(self.reg.stalled.wait(120))
            deadline = time.time() + 60
            while time.time() < deadline:
                st = self.read_sidecar(sidecar)
                if st and sum(d for _, _, d in st) == expect:
                    break
                time.sleep(0.05)
            self.assertEqual(sum(d for _, _, d in self.read_sidecar(sidecar)), expect)
            self.assertEqual(self.listed_names(), [])
        finally:
            p.send_signal(signal.SIGKILL)
            p.wait()
        self.reg.release()
        self.ok("pull", "-q", "big")
        self.check_big()
        # The resume fetched only the unfinished half of part 1 (and no second probe).
        self.assertEqual(self.reg.served[self.big_digest], len(self.big) + 1)
        self.assertIn((s1 + (e1 - s1) // 2, e1), self.part_requests())

    def test_multipart_server_without_ranges(self):
        self.add_big()
        self.reg.no_range = True
        self.ok("pull", "-q", "big")
        self.check_big()
        self.assertEqual(self.reg.ranged, [])

    def test_corrupt_sidecar_restarts_cleanly(self):
        self.add_big()
        os.makedirs(os.path.join(self.models, "blobs"))
        partial = self.blob_path(self.big_digest) + "-partial"
        with open(partial, "wb") as f:
            f.write(b"\xff" * 5000)
        with open(partial + ".parts", "w") as f:
            f.write("lokal-parts 1\nsize 12\npart 0 9999999999 5\n")
        self.ok("pull", "-q", "big")
        self.check_big()
        self.assertEqual(self.reg.served[self.big_digest], len(self.big) + 1)

    def test_multipart_corrupt_blob_rejected(self):
        self.add_big()
        self.reg.corrupt.add(self.big_digest)
        self.user_error(self.lokal("pull", "big"), "sha256 mismatch", self.big_digest)
        self.assertFalse([f for f in self.store_files() if self.big_digest[7:] in f])
        self.assertEqual(self.listed_names(), [])

    # --- registry token auth --------------------------------------------------------------------

    def test_auth_token_flow_and_no_token_to_redirect_target(self):
        self.add_big()
        self.reg.require_auth = True
        self.reg.redirect = True
        self.reg.redirect_host = "localhost"  # another origin than 127.0.0.1:port
        self.ok("pull", "-q", "big")
        self.check_big()
        self.assertEqual(self.reg.token_requests, 1)  # one token, reused by every request
        q = self.reg.token_queries[0]
        self.assertEqual(q["service"], ["lokal-test"])
        self.assertEqual(q["scope"], ["repository:library/big:pull"])
        v2 = [a for p, _, a in self.reg.requests if p.startswith("/v2/")]
        self.assertEqual(v2[0], None)
        self.assertTrue(all(a == "Bearer " + self.reg.token for a in v2[1:]), v2)
        cdn = [a for p, _, a in self.reg.requests if p.startswith("/cdn/")]
        self.assertTrue(cdn)
        self.assertEqual([a for a in cdn if a], [])

    def test_auth_access_token_field_and_env_token(self):
        self.reg.require_auth = True
        self.reg.token_field = "access_token"
        self.env["LOKAL_REGISTRY_TOKEN"] = "stale"  # refused, then replaced from the realm
        self.ok("pull", "-q", "stories:260k")
        self.assertEqual(self.reg.token_requests, 1)
        self.assertEqual(self.listed_names(), ["stories:260k"])
        self.env["LOKAL_REGISTRY_TOKEN"] = self.reg.token  # a good one needs no token request
        self.ok("rm", "stories:260k")
        self.ok("pull", "-q", "stories:260k")
        self.assertEqual(self.reg.token_requests, 1)

    def test_auth_failures_are_clear_and_store_unchanged(self):
        self.reg.require_auth = True
        self.reg.deny_token = True
        self.user_error(self.lokal("pull", "stories:260k"),
                        f"registry {self.base} refused access to model 'stories:260k'",
                        "bad credentials")
        self.assertEqual(self.store_files(), [])
        self.reg.deny_token = False
        self.reg.issue_token = "not-the-right-one"
        self.user_error(self.lokal("pull", "stories:260k"), "refused access to model",
                        "HTTP 401", "authentication required")
        self.assertEqual(self.store_files(), [])
        # A realm over plain http to a non-loopback host is refused like any other URL.
        self.reg.issue_token = None
        self.reg.realm = "http://example.com/token"
        self.user_error(self.lokal("pull", "stories:260k"), "refused access to model",
                        "refusing plain http")
        self.assertEqual(self.reg.token_requests, 2)
        self.assertEqual(self.store_files(), [])

    # --- cp, rm, create -------------------------------------------------------------------------

    def test_cp_and_rm_keep_shared_blobs(self):
        self.ok("pull", "-q", "stories:260k")
        self.ok("cp", "stories:260k", "mine/story:v1")
        self.assertEqual(sorted(self.listed_names()), ["mine/story:v1", "stories:260k"])
        self.user_error(self.lokal("cp", "nothere", "x"), "model 'nothere' not found")
        r = self.ok("rm", "stories:260k")
        self.assertIn("deleted 'stories:260k'", r.stdout.decode())
        self.assertTrue(os.path.exists(self.blob_path(self.digest)))  # still used by the copy
        self.user_error(self.lokal("rm", "stories:260k"), "not found")
        if self.runnable:
            self.ok("run", "mine/story:v1", "--raw", "-p", "Once", "-n", "2", "--temperature", "0")
        self.ok("rm", "mine/story:v1")
        self.assertEqual(self.listed_names(), [])
        self.assertEqual(self.store_files(), [])

    def test_create_from_hugging_face_folder(self):
        folder = os.path.join(self.tmp, "hf-bert")
        tiny_bert_folder(folder)
        mf = os.path.join(self.tmp, "Modelfile")
        with open(mf, "w") as f:
            f.write("FROM ./hf-bert\n")
        self.ok("create", "tinybert", "-f", mf)
        self.assertEqual(self.listed_names(), ["tinybert:latest"])
        r = self.ok("embed", "tinybert", "hello worlds")
        self.assertEqual(len(json.loads(r.stdout)["embeddings"][0]), 8)
        before = self.store_files()
        # Hostile folders: one clear error each, and nothing new in the store.
        tiny_bert_folder(os.path.join(self.tmp, "hf-mamba"), arch="MambaForCausalLM")
        with open(mf, "w") as f:
            f.write("FROM ./hf-mamba\n")
        self.user_error(self.lokal("create", "bad", "-f", mf),
                        "unsupported architecture 'MambaForCausalLM'")
        os.makedirs(os.path.join(self.tmp, "empty-dir"))
        with open(mf, "w") as f:
            f.write("FROM ./empty-dir\n")
        self.user_error(self.lokal("create", "bad", "-f", mf), "no config.json")
        with open(os.path.join(folder, "model.safetensors"), "r+b") as f:
            f.truncate(200)
        with open(mf, "w") as f:
            f.write("FROM ./hf-bert\n")
        self.user_error(self.lokal("create", "bad", "-f", mf), "past the end of the file")
        self.assertEqual(self.store_files(), before)

    def test_create_from_modelfile(self):
        src = os.path.join(self.tmp, "m.gguf")
        with open(src, "wb") as f:
            f.write(self.gguf)
        mf = os.path.join(self.tmp, "Modelfile")
        with open(mf, "w") as f:
            f.write('FROM ./m.gguf\nSYSTEM """Be brief."""\nPARAMETER temperature 0\n'
                    'PARAMETER stop "<end>"\nTEMPLATE {{ .Prompt }}\n')
        self.ok("create", "made:v1", "-f", mf)
        self.assertEqual(self.listed_names(), ["made:v1"])
        if self.runnable:
            shown = self.ok("show", "made:v1").stdout.decode()
            for needle in ("System", "Be brief.", "Parameters", "temperature", "Template"):
                self.assertIn(needle, shown)
        modelfile = self.ok("show", "made:v1", "--modelfile").stdout.decode()
        self.assertIn("FROM ", modelfile)
        self.assertIn("Be brief.", modelfile)
        self.assertIn("temperature", modelfile)
        with open(self.blob_path(self.digest), "rb") as f:
            self.assertEqual(f.read(), self.gguf)
        # FROM an existing model, overriding only the system prompt.
        with open(mf, "w") as f:
            f.write("FROM made:v1\nSYSTEM Be verbose.\n")
        self.ok("create", "made:v2", "-f", mf)
        self.assertEqual(sorted(self.listed_names()), ["made:v1", "made:v2"])
        if self.runnable:
            self.ok("run", "made:v2", "--raw", "-p", "Once", "-n", "2", "--temperature", "0")
        if self.runnable:
            # Stored PARAMETERs apply to run; the command line still wins.
            with open(mf, "w") as f:
                f.write("FROM made:v1\nPARAMETER num_predict 3\nPARAMETER temperature 0\n")
            self.ok("create", "made:params", "-f", mf)
            direct = lambda n: subprocess.run(
                [LOKAL, "run", STORIES, "--raw", "-p", "Once upon a time", "-n", n,
                 "--temperature", "0"], capture_output=True, timeout=300).stdout
            r = self.ok("run", "made:params", "--raw", "-p", "Once upon a time")
            self.assertEqual(r.stdout, direct("3"))
            r = self.ok("run", "made:params", "--raw", "-p", "Once upon a time", "-n", "6")
            self.assertEqual(r.stdout, direct("6"))
        with open(mf, "w") as f:
            f.write("FROM made:v1\nPARAMETER temperature warm\n")
        self.user_error(self.lokal("create", "bad", "-f", mf), "Modelfile line 2", "PARAMETER")
        with open(mf, "w") as f:
            f.write("FROM ./no-such.gguf\n")
        self.user_error(self.lokal("create", "bad", "-f", mf), "no such file")
        self.assertNotIn("bad:latest", self.listed_names())

    def test_recreate_removes_the_old_blobs(self):
        src = os.path.join(self.tmp, "m.gguf")
        with open(src, "wb") as f:
            f.write(self.gguf)
        other = os.path.join(self.tmp, "other.gguf")
        with open(other, "wb") as f:
            f.write(tiny_gguf(pad=1000))
        mf = os.path.join(self.tmp, "Modelfile")
        with open(mf, "w") as f:
            f.write("FROM ./m.gguf\nPARAMETER temperature 0\n")
        self.ok("create", "made", "-f", mf)
        self.ok("cp", "made", "kept")
        first = self.store_files()
        with open(mf, "w") as f:
            f.write("FROM ./other.gguf\nPARAMETER temperature 1\n")
        self.ok("create", "made", "-f", mf)
        self.ok("create", "made", "-f", mf)  # the same again: nothing to remove, nothing lost
        with open(mf, "w") as f:
            f.write("FROM ./other.gguf\nPARAMETER temperature 0.5\n")
        self.ok("create", "made", "-f", mf)
        # Every blob left is one a manifest names: the first version's stay for the copy, the
        # second's params blob is gone.
        self.assertEqual(self.blob_files(), self.referenced_blobs())
        self.assertTrue(set(first) <= set(self.store_files()))
        self.ok("rm", "kept")
        self.assertEqual(self.blob_files(), self.referenced_blobs())
        self.ok("show", "made", "--modelfile")
        self.ok("rm", "made")
        self.assertEqual(self.store_files(), [])

    # --- push ---------------------------------------------------------------------------------

    def push_name(self, model="pushed", tag="v1"):
        """A name on the mock registry, by host:port (plain http, so pushed with --insecure)."""
        return f"{self.base.removeprefix('http://')}/me/{model}:{tag}"

    def create_local(self, name):
        """Creates `name` from the GGUF, which the registry then does not have yet."""
        self.reg.blobs.pop(self.digest)
        self.reg.manifests.clear()
        src = os.path.join(self.tmp, "m.gguf")
        with open(src, "wb") as f:
            f.write(self.gguf)
        mf = os.path.join(self.tmp, "Modelfile")
        with open(mf, "w") as f:
            f.write("FROM ./m.gguf\nSYSTEM Be brief.\nPARAMETER temperature 0\n")
        self.ok("create", "--quiet", name, "-f", mf)
        repo, _, tag = name.rpartition(":")
        with open(os.path.join(self.models, "manifests", *repo.split("/"), tag), "rb") as f:
            return json.loads(f.read())

    def snapshot(self, root=None):
        root = root or self.models
        out = {}
        for d, _, files in os.walk(root):
            for f in files:
                with open(os.path.join(d, f), "rb") as fh:
                    out[os.path.relpath(os.path.join(d, f), root)] = fh.read()
        return out

    def test_push_then_pull_into_a_fresh_store(self):
        name = self.push_name()
        manifest = self.create_local(name)
        digests = [manifest["config"]["digest"]] + [l["digest"] for l in manifest["layers"]]
        before = self.snapshot()
        err = self.ok("push", "--insecure", name).stderr.decode()
        for needle in ("retrieving manifest", "pushing " + self.digest[7:19], "pushing manifest",
                       "success"):
            self.assertIn(needle, err)
        self.assertEqual(self.snapshot(), before)  # a push only reads the store
        self.assertEqual(dict(self.reg.uploads), {d: 1 for d in digests})
        self.assertEqual(self.reg.manifest_types, [registry_server.MANIFEST_TYPE])
        # A fresh store pulls exactly the same files back.
        self.env["LOKAL_MODELS"] = self.models = os.path.join(self.tmp, "fresh")
        self.ok("pull", "-q", "--insecure", name)
        self.assertEqual(self.snapshot(), before)
        if self.runnable:
            self.ok("run", name, "--raw", "-p", "Once", "-n", "2")
        # A second push finds every blob there and uploads nothing, but still puts the manifest.
        posts = self.reg.upload_posts
        err = self.ok("push", "--insecure", name).stderr.decode()
        self.assertIn("success", err)
        self.assertEqual(self.reg.upload_posts, posts)
        self.assertEqual(dict(self.reg.uploads), {d: 1 for d in digests})
        self.assertEqual(len(self.reg.manifest_types), 2)
        # A name on the default registry ($LOKAL_REGISTRY here) pushes the same way.
        self.ok("cp", name, "me/story:v2")
        self.ok("push", "-q", "me/story:v2")
        self.assertIn("me/story/v2", self.reg.manifests)
        self.assertEqual(self.reg.upload_posts, posts)

    def test_push_errors_are_clear_and_store_unchanged(self):
        self.user_error(self.lokal("push", "--insecure", self.push_name("nosuch")),
                        "model '" + self.push_name("nosuch") + "' not found")
        self.user_error(self.lokal("push", "bad name"), "invalid model name")
        name = self.push_name()
        self.create_local(name)
        before = self.snapshot()
        # The registry gets other bytes than the digest says (corruption in transit): 400.
        self.reg.corrupt_upload.add(self.digest)
        self.user_error(self.lokal("push", "--insecure", name), f"refused to take blob {self.digest}",
                        "HTTP 400", "provided digest did not match uploaded content")
        self.assertNotIn(self.digest, self.reg.blobs)
        self.assertNotIn("me/pushed/v1", self.reg.manifests)
        self.assertEqual(self.snapshot(), before)
        self.reg.corrupt_upload.clear()
        # A registry that keeps failing: retried, then a clear error.
        self.reg.fail_500["/blobs/uploads/"] = 100
        r = self.lokal("push", "--insecure", name)
        self.user_error(r, "refused to take blob", "HTTP 500", "injected failure")
        self.assertIn("retrying", r.stderr.decode())
        self.assertNotIn("me/pushed/v1", self.reg.manifests)
        # A 500 that passes is retried away.
        self.reg.fail_500["/blobs/uploads/"] = 2
        self.reg.fail_500["/manifests/"] = 1
        self.ok("push", "--insecure", name)
        self.assertIn("me/pushed/v1", self.reg.manifests)
        self.assertEqual(self.snapshot(), before)
        # No registry at all.
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            closed = sock.getsockname()[1]
        self.ok("cp", name, f"127.0.0.1:{closed}/me/pushed:v1")
        before = self.snapshot()
        self.user_error(self.lokal("push", "--insecure", f"127.0.0.1:{closed}/me/pushed:v1"),
                        f"cannot reach registry http://127.0.0.1:{closed}")
        self.assertEqual(self.snapshot(), before)
        # Plain http without --insecure is refused with a hint.
        self.user_error(self.lokal("push", name), "--insecure")

    def test_push_with_token_auth(self):
        self.reg.require_auth = True
        name = self.push_name()
        self.create_local(name)
        self.ok("push", "-q", "--insecure", name)
        self.assertEqual(self.reg.token_requests, 1)  # one push token, reused by every request
        self.assertEqual(self.reg.token_queries[0]["scope"], ["repository:me/pushed:push,pull"])
        self.assertIn("me/pushed/v1", self.reg.manifests)
        writes = [a for p, _, a in self.reg.requests if p.startswith(("/upload/", "/v2/me"))]
        self.assertEqual(writes[0], None)
        self.assertTrue(all(a == f"Bearer {self.reg.token}-push" for a in writes[1:]), writes)
        # Upload locations on another origin (storage) never get the registry's token.
        self.reg.blobs = {}
        self.reg.upload_host = "localhost"
        self.reg.requests.clear()
        self.ok("push", "-q", "--insecure", name)
        uploads = [a for p, _, a in self.reg.requests if p.startswith("/upload/")]
        self.assertTrue(uploads)
        self.assertEqual([a for a in uploads if a], [])
        self.assertIn(self.digest, self.reg.blobs)
        # A token server that refuses: a clear error, nothing in the registry.
        self.reg.deny_token = True
        self.reg.manifests.clear()
        self.user_error(self.lokal("push", "--insecure", name), "refused access to model",
                        "bad credentials")
        self.assertEqual(self.reg.manifests, {})

    def test_api_push_with_the_ollama_client(self):
        import ollama
        name = self.push_name()
        self.create_local(name)
        before = self.snapshot()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        log = tempfile.TemporaryFile()
        proc = subprocess.Popen([LOKAL, "serve", "--port", str(port)], env=self.env, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(600):
                try:
                    urllib.request.urlopen(base + "/", timeout=5).read()
                    break
                except OSError:
                    self.assertIsNone(proc.poll(), "lokal serve exited")
                    time.sleep(0.05)
            client = ollama.Client(host=base)
            events = list(client.push(name, insecure=True, stream=True))
            statuses = [e.status for e in events]
            self.assertEqual(statuses[0], "retrieving manifest")
            self.assertEqual(statuses[-2:], ["pushing manifest", "success"])
            model = [e for e in events if e.digest == self.digest]
            self.assertTrue(model)
            self.assertEqual(model[-1].status, "pushing " + self.digest[7:19])
            self.assertEqual((model[-1].completed, model[-1].total), (len(self.gguf), len(self.gguf)))
            self.assertIn("me/pushed/v1", self.reg.manifests)
            self.assertEqual(self.reg.uploads[self.digest], 1)
            # Not streamed: one object; the blobs are already there.
            self.assertEqual(client.push(name, insecure=True).status, "success")
            self.assertEqual(self.reg.uploads[self.digest], 1)
            # Errors: an unknown model is a 404; a failing registry an error with its message.
            with self.assertRaises(ollama.ResponseError) as cm:
                client.push(self.push_name("nosuch"), insecure=True)
            self.assertEqual(cm.exception.status_code, 404)
            self.reg.manifests.clear()
            self.reg.fail_500["/manifests/"] = 100
            with self.assertRaises(ollama.ResponseError) as cm:
                client.push(name, insecure=True)
            self.assertEqual(cm.exception.status_code, 500)
            self.assertIn("injected failure", str(cm.exception))
            with self.assertRaises(ollama.ResponseError) as cm:
                list(client.push(name, insecure=True, stream=True))
            self.assertIn("HTTP 500", str(cm.exception))
            self.assertEqual(self.reg.manifests, {})
            self.assertEqual(self.snapshot(), before)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            log.close()


if __name__ == "__main__":
    unittest.main()
