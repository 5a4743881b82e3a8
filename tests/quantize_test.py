"""Black-box tests of `lokal quantize`: the file it writes, its progress output and its errors."""
import os
import resource
import signal
import struct
import subprocess
import tempfile
import unittest

LOKAL = os.environ.get("LOKAL_BIN", "build/lokal")
TESTDATA = os.environ.get("LOKAL_TESTDATA", "../shared/testdata")
TINY = os.path.join(TESTDATA, "models", "tiny-llama-h64-f32.gguf")
IN_CI = os.environ.get("CI") == "true"


def lokal(*args, preexec_fn=None):
    return subprocess.run([LOKAL, *args], capture_output=True, text=True, timeout=300,
                          preexec_fn=preexec_fn)


def gguf_u32_key(path, key):
    """Value of a UINT32 metadata key of a GGUF v3 file (None when absent)."""
    with open(path, "rb") as f:
        data = f.read(1 << 20)
    off = 24
    magic, _, _, n_kv = struct.unpack_from("<IIQQ", data, 0)
    assert magic == 0x46554747

    def string():
        nonlocal off
        (n,) = struct.unpack_from("<Q", data, off)
        off += 8 + n
        return data[off - n:off].decode()

    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def skip(t):
        nonlocal off
        if t == 8:
            string()
        elif t == 9:
            et, n = struct.unpack_from("<IQ", data, off)
            off += 12
            for _ in range(n):
                skip(et)
        else:
            off += sizes[t]

    for _ in range(n_kv):
        k = string()
        (t,) = struct.unpack_from("<I", data, off)
        off += 4
        if k == key and t == 4:
            return struct.unpack_from("<I", data, off)[0]
        skip(t)
    return None


def is_gguf(path):
    with open(path, "rb") as f:
        return f.read(4) == b"GGUF"


class QuantizeTest(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(TINY):
            if IN_CI:
                raise AssertionError(f"test data missing in CI: {TINY}")
            raise unittest.SkipTest(f"test data not found: {TINY}")
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def test_quantizes_and_reports(self):
        out = self.path("q8.gguf")
        r = lokal("quantize", "--threads", "2", TINY, out, "q8_0")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("quantizing [", r.stderr)
        self.assertIn("100%", r.stderr)
        self.assertIn("tensors by type:", r.stderr)
        self.assertEqual(gguf_u32_key(out, "general.file_type"), 7)
        self.assertEqual(gguf_u32_key(out, "general.quantization_version"), 2)
        self.assertLess(os.path.getsize(out), os.path.getsize(TINY) / 3)
        self.assertEqual(os.listdir(self.dir.name), ["q8.gguf"])  # no temporary file left

    def test_every_type_writes_a_file(self):
        for ty in ["F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q3_K_M",
                   "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "IQ4_NL", "IQ4_XS"]:
            out = self.path(ty + ".gguf")
            r = lokal("quantize", "-q", TINY, out, ty)
            self.assertEqual(r.returncode, 0, ty + ": " + r.stderr)
            self.assertEqual(r.stderr, "")
            self.assertTrue(os.path.getsize(out) > 0)

    def test_unknown_type(self):
        out = self.path("x.gguf")
        r = lokal("quantize", TINY, out, "Q9_Z")
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown quantization type 'Q9_Z'", r.stderr)
        self.assertIn("Q4_K_M", r.stderr)
        self.assertFalse(os.path.exists(out))

    def test_requantizing_needs_a_flag(self):
        q8, q4 = self.path("q8.gguf"), self.path("q4.gguf")
        self.assertEqual(lokal("quantize", "-q", TINY, q8, "Q8_0").returncode, 0)
        r = lokal("quantize", q8, q4, "Q4_0")
        self.assertEqual(r.returncode, 1)
        self.assertIn("already quantized", r.stderr)
        self.assertIn("--allow-requantize", r.stderr)
        self.assertFalse(os.path.exists(q4))
        r = lokal("quantize", "--allow-requantize", q8, q4, "Q4_0")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(gguf_u32_key(q4, "general.file_type"), 2)

    def test_missing_input_and_unwritable_output(self):
        r = lokal("quantize", self.path("nope.gguf"), self.path("o.gguf"), "Q4_0")
        self.assertEqual(r.returncode, 1)
        self.assertIn("nope.gguf", r.stderr)
        r = lokal("quantize", TINY, self.path("no/such/dir/o.gguf"), "Q4_0")
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot create", r.stderr)

    def test_a_full_disk_leaves_nothing_behind(self):
        # A file size limit fails the write as a full disk does (EFBIG instead of ENOSPC).
        def limit():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

        out = self.path("big.gguf")
        r = lokal("quantize", TINY, out, "F16", preexec_fn=limit)
        self.assertEqual(r.returncode, 1)
        self.assertIn("lokal: error:", r.stderr)
        self.assertEqual(os.listdir(self.dir.name), [])


class CreateQuantizeTest(unittest.TestCase):
    """`lokal create NAME -f Modelfile -q TYPE` (Ollama's short flag for --quantize)."""

    def setUp(self):
        if not os.path.exists(TINY):
            if IN_CI:
                raise AssertionError(f"test data missing in CI: {TINY}")
            raise unittest.SkipTest(f"test data not found: {TINY}")
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.store = os.path.join(self.dir.name, "store")
        self.env = dict(os.environ, LOKAL_MODELS=self.store)
        self.mf = os.path.join(self.dir.name, "Modelfile")
        with open(self.mf, "w") as f:
            f.write(f"FROM {os.path.abspath(TINY)}\nPARAMETER temperature 0.5\n")

    def run_lokal(self, *args):
        return subprocess.run([LOKAL, *args], capture_output=True, text=True, timeout=300,
                              env=self.env)

    def blobs(self):
        d = os.path.join(self.store, "blobs")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def test_create_quantizes_the_model_layer(self):
        r = self.run_lokal("create", "tiny-q8", "-f", self.mf, "-q", "q8_0")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("quantizing Q8_0", r.stderr)
        r = self.run_lokal("list")
        self.assertIn("tiny-q8", r.stdout)
        self.assertNotIn("lokal-quantizing", r.stdout)
        ggufs = [b for b in self.blobs() if is_gguf(os.path.join(self.store, "blobs", b))]
        self.assertEqual(len(ggufs), 1)  # the F32 import is gone
        self.assertEqual(gguf_u32_key(os.path.join(self.store, "blobs", ggufs[0]),
                                      "general.file_type"), 7)
        r = self.run_lokal("show", "tiny-q8", "--parameters")
        self.assertIn("temperature", r.stdout)

    def test_failures_leave_the_store_as_it_was(self):
        r = self.run_lokal("create", "bad", "-f", self.mf, "-q", "q9_z")
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown quantization type", r.stderr)
        self.assertEqual(self.blobs(), [])
        self.assertEqual(self.run_lokal("create", "tiny-q8", "--quiet", "-f", self.mf, "-q", "Q8_0")
                         .returncode, 0)
        before = self.blobs()
        with open(self.mf, "w") as f:
            f.write("FROM tiny-q8\n")
        r = self.run_lokal("create", "again", "-f", self.mf, "-q", "Q4_0")
        self.assertEqual(r.returncode, 1)
        self.assertIn("already quantized", r.stderr)
        self.assertEqual(self.blobs(), before)
        self.assertNotIn("again", self.run_lokal("list").stdout)


if __name__ == "__main__":
    unittest.main()
