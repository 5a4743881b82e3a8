"""lokal fit (memory and speed from a GGUF header) and lokal show's model card, on a file, a
stored model and a registry reference read with Range requests before any pull."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import registry_server  # noqa: E402

LOKAL = os.environ.get("LOKAL_BIN", "build/lokal")
TESTDATA = os.environ.get("LOKAL_TESTDATA", "../shared/testdata")
STORIES = os.path.join(TESTDATA, "models", "stories260K.gguf")
GEMMA3 = os.path.join(TESTDATA, "models", "tiny-gemma3-q4_k_m.gguf")


class FitTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="lokal-fit-test-")
        self.models = os.path.join(self.tmp, "models")
        with open(STORIES, "rb") as f:
            self.gguf = f.read()
        self.reg = registry_server.Registry()
        self.reg.add_model("stories", [(registry_server.MODEL_TYPE, self.gguf)], tag="260k")
        self.digest = registry_server.digest_of(self.gguf)
        self.base = self.reg.start()
        # A small first read, so the header (about 20 KB here) takes more than one request.
        self.env = dict(os.environ, LOKAL_MODELS=self.models, LOKAL_REGISTRY=self.base,
                        LOKAL_FIT_FIRST_READ="4096")
        self.env.pop("LOKAL_REGISTRY_HOSTS", None)

    def tearDown(self):
        self.reg.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def lokal(self, *args):
        r = subprocess.run([LOKAL, *args], capture_output=True, env=self.env, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return r.stdout.decode()

    def fit_json(self, model, *args):
        return json.loads(self.lokal("fit", model, "--no-speed", "--json", *args))

    def test_registry_reference_reads_only_the_header(self):
        local = self.fit_json(STORIES, "--ctx", "256")
        remote = self.fit_json("stories:260k", "--ctx", "256")
        self.assertEqual(remote["source"], "registry")
        for key in ("weight_bytes", "kv_bytes", "activation_bytes", "resident_weight_bytes",
                    "metadata_bytes", "weights_by_type"):
            self.assertEqual(remote["memory"][key], local["memory"][key], key)
        # Every blob request asked for a range, and far less than the blob was sent.
        blob_requests = [r for r in self.reg.requests if "/blobs/" in r[0]]
        self.assertGreaterEqual(len(blob_requests), 2)  # 4096 bytes were not enough
        self.assertTrue(all(r[1] and r[1].startswith("bytes=") for r in blob_requests))
        self.assertLess(self.reg.served[self.digest], len(self.gguf) // 4)
        self.assertEqual(remote["bytes_read"], self.reg.served[self.digest])
        # Nothing was pulled.
        self.assertFalse(os.path.exists(os.path.join(self.models, "manifests")))

    def test_registry_without_ranges_still_works(self):
        self.reg.no_range = True
        remote = self.fit_json("stories:260k")
        self.assertEqual(remote["memory"]["weight_bytes"],
                         self.fit_json(STORIES)["memory"]["weight_bytes"])

    def test_unknown_registry_model_is_not_found(self):
        r = subprocess.run([LOKAL, "fit", "nosuch:1b", "--no-speed"], capture_output=True,
                           env=self.env, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not found", r.stderr.decode())

    def test_stored_model_and_budget(self):
        self.lokal("pull", "stories:260k")
        stored = self.fit_json("stories:260k", "--budget", "1G")
        self.assertEqual(stored["source"], "store")
        self.assertTrue(stored["fits"])
        tiny = self.fit_json("stories:260k", "--budget", "1K")
        self.assertFalse(tiny["fits"])
        self.assertFalse(any(c["fits"] for c in tiny["contexts"]))
        # Larger contexts need more memory; q8_0 halves an f16 cache (up to block scales).
        m = {c["n_ctx"]: c["peak_rss_bytes"] for c in stored["contexts"]}
        self.assertEqual(sorted(m.values()), [m[k] for k in sorted(m)])
        f16 = self.fit_json(STORIES, "--ctx", "512", "--cache-type", "f16")["memory"]["kv_bytes"]
        f32 = self.fit_json(STORIES, "--ctx", "512", "--cache-type", "f32")["memory"]["kv_bytes"]
        par = self.fit_json(STORIES, "--ctx", "512", "--parallel", "3")["memory"]["kv_bytes"]
        self.assertEqual(f32, 2 * f16)
        self.assertEqual(par, 3 * f16)

    def test_speed_calibration_is_cached(self):
        first = json.loads(self.lokal("fit", STORIES, "--json", "-t", "1"))
        self.assertGreater(first["speed"]["calibrated_now"], 0)
        self.assertTrue(os.path.exists(os.path.join(self.models, "fit-calibration.json")))
        second = json.loads(self.lokal("fit", STORIES, "--json", "-t", "1"))
        self.assertEqual(second["speed"]["calibrated_now"], 0)
        self.assertEqual(second["speed"], dict(first["speed"], calibrated_now=0))
        self.assertGreater(second["speed"]["pp512_tokens_per_s"], 0)

    def test_show_model_card(self):
        out = self.lokal("show", GEMMA3)
        for needle in ("architecture", "gemma3", "parameters", "quantization mix", "q4_K",
                       "context length", "embedding length", "capabilities", "completion",
                       "license", "chat template"):
            self.assertIn(needle, out)
        card = {line.split(None, 1)[0]: line for line in out.splitlines() if line.strip()}
        self.assertIn("tensors", out)
        self.assertTrue(card)


if __name__ == "__main__":
    unittest.main()
