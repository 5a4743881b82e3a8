"""Black-box tests of the lokal CLI: outputs, exit codes and error messages a user sees."""
import fcntl
import json
import os
import re
import select
import struct
import subprocess
import tempfile
import termios
import time
import unittest

LOKAL = os.environ.get("LOKAL_BIN", "build/lokal")
# A prompt cache of our own: snapshots left in ~/.lokal/cache by other runs would change what
# the prompt evaluates (prompt token counts), and these runs must not leave any there.
os.environ.setdefault("LOKAL_CACHE_DIR", tempfile.mkdtemp(prefix="lokal-test-cache-"))
TESTDATA = os.environ.get("LOKAL_TESTDATA", "../shared/testdata")
STORIES = os.path.join(TESTDATA, "models", "stories260K.gguf")
IN_CI = os.environ.get("CI") == "true"


def unused_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# `run` and `list` talk to a lokal serve (or Ollama) when one answers at LOKAL_HOST/OLLAMA_HOST,
# default 127.0.0.1:11434: these tests must never reach one that happens to run on this host, so
# they point at a port nobody listens on (the ThroughServer tests start their own server).
os.environ["LOKAL_HOST"] = f"127.0.0.1:{unused_port()}"


def lokal(*args, stdin=None, timeout=300, env=None):
    return subprocess.run([LOKAL, *args], input=stdin, capture_output=True, timeout=timeout,
                          env=env)


def require(path):
    if not os.path.exists(path):
        if IN_CI:
            raise AssertionError(f"test data missing in CI: {path}")
        raise unittest.SkipTest(f"test data not found: {path}")


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def write_gguf_with_arch(path, arch):
    """A minimal valid GGUF v3 with one metadata key and no tensors."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IIQQ", 0x46554747, 3, 0, 1))
        f.write(gguf_string("general.architecture") + struct.pack("<I", 8) + gguf_string(arch))


class Errors(unittest.TestCase):
    def assert_user_error(self, result, *needles):
        self.assertEqual(result.returncode, 1, result.stderr)
        err = result.stderr.decode()
        self.assertTrue(err.startswith("lokal: error: "), err)
        self.assertEqual(err.count("\n"), 1, err)
        for n in needles:
            self.assertIn(n, err)

    def test_missing_file(self):
        self.assert_user_error(lokal("run", "/no/such/model.gguf", "-p", "hi"), "/no/such/model.gguf")

    def test_not_a_gguf(self):
        with tempfile.NamedTemporaryFile(suffix=".gguf") as f:
            f.write(b"this is not a model" * 10)
            f.flush()
            self.assert_user_error(lokal("show", f.name), "not a GGUF file")

    def test_gguf_v1(self):
        path = os.path.join(TESTDATA, "models", "stories260K-gguf-v1.gguf")
        require(path)
        self.assert_user_error(lokal("run", path, "-p", "hi"), "GGUF v1 is not supported")

    def test_unknown_architecture(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.gguf")
            write_gguf_with_arch(path, "mamba99")
            self.assert_user_error(lokal("run", path, "-p", "hi"),
                                   "unsupported model architecture 'mamba99'")

    def test_truncated_model(self):
        require(STORIES)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "cut.gguf")
            with open(STORIES, "rb") as src, open(path, "wb") as dst:
                dst.write(src.read(200000))
            self.assert_user_error(lokal("run", path, "-p", "hi"), "truncated")

    def test_bad_options_are_refused_with_exit_code_1(self):
        for args in (("--temperature", "-1"), ("--ctx", "-5"), ("--top-p", "2"),
                     ("--no-such-flag",)):
            r = lokal("run", STORIES, "--raw", "-p", "x", *args)
            self.assertEqual(r.returncode, 1, (args, r.stderr))
            self.assertTrue(r.stderr.strip(), args)

    def test_prompt_longer_than_context(self):
        require(STORIES)
        r = lokal("run", STORIES, "--raw", "--ctx", "8", "-p", "Once upon a time " * 10, "-n", "4")
        self.assert_user_error(r, "context")


class TemplateRender(unittest.TestCase):
    """`lokal template render` against jinja2's renderings of real chat templates."""

    def test_every_case_of_every_template(self):
        root = os.path.join(TESTDATA, "templates")
        require(os.path.join(root, "cases.json"))
        with open(os.path.join(root, "cases.json")) as f:
            spec = json.load(f)
        checked = 0
        with tempfile.TemporaryDirectory() as tmp:
            for name in sorted(os.listdir(root)):
                if not name.endswith(".jinja"):
                    continue
                model = name[: -len(".jinja")]
                for case, inputs in spec["cases"].items():
                    out = os.path.join(root, model, case + ".out")
                    err = os.path.join(root, model, case + ".err")
                    if not os.path.exists(out) and not os.path.exists(err):
                        continue
                    doc = dict(inputs, **spec["special"], now=spec["fixed_now"])
                    path = os.path.join(tmp, "case.json")
                    with open(path, "w") as f:
                        json.dump(doc, f)
                    r = lokal("template", "render", os.path.join(root, name), "--input", path)
                    if os.path.exists(out):
                        with open(out, "rb") as f:
                            self.assertEqual(r.stdout, f.read(), f"{model}/{case}: {r.stderr}")
                        self.assertEqual(r.returncode, 0)
                    else:
                        self.assertEqual(r.returncode, 1, f"{model}/{case} should fail")
                        self.assertIn(b"lokal: error: ", r.stderr)
                    checked += 1
        self.assertGreater(checked, 300)

    def test_stdin_and_bad_input(self):
        tmpl = "{% for m in messages %}[{{ m.role }}] {{ m.content }}{% endfor %}{{ extra_var }}"
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "t.jinja")
            with open(path, "w") as f:
                f.write(tmpl)
            doc = {"messages": [{"role": "user", "content": "hi"}], "extra_var": "!"}
            r = lokal("template", "render", path, stdin=json.dumps(doc).encode())
            self.assertEqual((r.returncode, r.stdout), (0, b"[user] hi!"))
            r = lokal("template", "render", path, stdin=b"[1, 2]")
            self.assertEqual(r.returncode, 1)
            with open(path, "w") as f:
                f.write("{% for x in %}")
            r = lokal("template", "render", path, stdin=json.dumps(doc).encode())
            self.assertEqual(r.returncode, 1)
            self.assertIn(b"line", r.stderr)


class Commands(unittest.TestCase):
    def setUp(self):
        require(STORIES)

    def test_run_greedy_prints_reference_story(self):
        ref_path = os.path.join(TESTDATA, "models", "ref",
                                "stories260K.once-upon-a-time.greedy64.llamacpp.txt")
        require(ref_path)
        r = lokal("run", STORIES, "--raw", "-p", "Once upon a time", "-n", "64",
                  "--temperature", "0")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(ref_path, encoding="utf-8") as f:
            reference = f.read()
        # llama.cpp echoes the prompt (with SPM's leading space); we print the continuation.
        self.assertTrue(reference.startswith(" Once upon a time"))
        expected = reference[len(" Once upon a time"):]
        self.assertEqual(r.stdout.decode().rstrip("\n"), expected.rstrip("\n"))

    def test_speculative_decoding_keeps_the_reference_story(self):
        ref_path = os.path.join(TESTDATA, "models", "ref",
                                "stories260K.once-upon-a-time.greedy64.llamacpp.txt")
        require(ref_path)
        with open(ref_path, encoding="utf-8") as f:
            expected = f.read()[len(" Once upon a time"):].rstrip("\n")
        runs = {"lookup": ["--draft-max", "16"],
                "draft model": ["--draft", STORIES, "--repeat-penalty", "1"],
                "off": ["--draft-max", "0"]}
        for name, extra in runs.items():
            r = lokal("run", STORIES, "--raw", "-p", "Once upon a time", "-n", "64",
                      "--temperature", "0", "-v", *extra)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.decode().rstrip("\n"), expected, name)
            guessed = b"speculative decoding:" in r.stderr
            self.assertEqual(guessed, name != "off", (name, r.stderr))
        # The draft model guesses with its own weights, here the same: it is always right.
        r = lokal("run", STORIES, "--raw", "-p", "Once upon a time", "-n", "64",
                  "--temperature", "0", "--repeat-penalty", "1", "-v", "--draft", STORIES)
        self.assertRegex(r.stderr.decode(), r"speculative decoding: (\d+) of \1 guessed tokens kept")

    def test_a_draft_model_with_another_vocabulary_is_refused(self):
        other = os.path.join(TESTDATA, "models", "tiny-gemma3-q4_k_m.gguf")
        require(other)
        r = lokal("run", STORIES, "--raw", "-p", "Once", "-n", "4", "--draft", other)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"must share the model's vocabulary", r.stderr)

    def test_a_modelfile_draft_guesses_for_its_model(self):
        # DRAFT stores the q4_0 copy of the tiny llama with its f32 original: `run` loads it and
        # guesses with it (-v says so), and the greedy text is the one without speculation.
        f32 = os.path.join(TESTDATA, "models", "tiny-llama-h64-f32.gguf")
        q4 = os.path.join(TESTDATA, "models", "tiny-llama-h64-q4_0.gguf")
        for path in (f32, q4):
            require(path)
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, LOKAL_MODELS=os.path.join(tmp, "models"))
            mf = os.path.join(tmp, "Modelfile")
            with open(mf, "w") as f:
                f.write(f"FROM {f32}\nDRAFT {q4}\n")
            r = lokal("create", "fast:1", "-f", mf, env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            args = ("--raw", "-p", "Once upon a time", "-n", "32", "--temperature", "0",
                    "--repeat-penalty", "1", "-v")
            plain = lokal("run", f32, *args, "--draft-max", "0", env=env)
            drafted = lokal("run", "fast:1", *args, env=env)
            self.assertEqual(drafted.returncode, 0, drafted.stderr)
            self.assertEqual(drafted.stdout, plain.stdout)
            self.assertIn(b"draft model", drafted.stderr)
            self.assertRegex(drafted.stderr.decode(),
                             r"speculative decoding: \d+ of [1-9]\d* guessed tokens kept")
            off = lokal("run", "fast:1", *args, "--draft-max", "0", env=env)
            self.assertEqual(off.stdout, plain.stdout)
            self.assertNotIn(b"speculative decoding:", off.stderr)
            shown = lokal("show", "fast:1", "--modelfile", env=env)
            self.assertRegex(shown.stdout.decode(), r"\nDRAFT /.*sha256-[0-9a-f]{64}\n")
            # A draft with another vocabulary (512 tokens, not 32000): a clear error, no model.
            with open(mf, "w") as f:
                f.write(f"FROM {f32}\nDRAFT {os.path.abspath(STORIES)}\n")
            r = lokal("create", "bad:1", "-f", mf, env=env)
            self.assertEqual(r.returncode, 1)
            self.assertIn(b"must share the model's vocabulary", r.stderr)
            self.assertNotIn(b"bad", lokal("ls", env=env).stdout)

    def test_run_uses_the_stored_template_and_system(self):
        # A created model's TEMPLATE and SYSTEM shape what `run` sends, as they do for serve:
        # here they rebuild the story's opening, so the greedy continuation is the raw one's.
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, LOKAL_MODELS=os.path.join(tmp, "models"))
            mf = os.path.join(tmp, "Modelfile")
            with open(mf, "w") as f:
                f.write(f'FROM {os.path.abspath(STORIES)}\n'
                        'TEMPLATE """{{ .System }}{{ .Prompt }}"""\n'
                        'SYSTEM """Once upon a time"""\n')
            r = lokal("create", "tale:1", "-f", mf, env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            stored = lokal("run", "tale:1", "-p", ", there was", "-n", "12",
                           "--temperature", "0", env=env)
            raw = lokal("run", STORIES, "--raw", "-p", "Once upon a time, there was", "-n", "12",
                        "--temperature", "0")
            self.assertEqual(stored.returncode, 0, stored.stderr)
            self.assertEqual(stored.stdout, raw.stdout)
            shown = lokal("show", "tale:1", "--template", env=env)
            self.assertEqual(shown.returncode, 0, shown.stderr)
            self.assertEqual(shown.stdout.decode(), "{{ .System }}{{ .Prompt }}\n")

    def test_run_think_sets_enable_thinking_and_refuses_models_that_cannot_think(self):
        # --think renders the template with enable_thinking (as /api/chat's think does); this
        # template turns it into the story's opening, so the greedy answer is the raw one's.
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, LOKAL_MODELS=os.path.join(tmp, "models"))
            mf = os.path.join(tmp, "Modelfile")
            with open(mf, "w") as f:
                f.write(f'FROM {os.path.abspath(STORIES)}\n'
                        'TEMPLATE """{# <think> #}{% if enable_thinking is defined and '
                        'enable_thinking %}Once upon a time{% endif %}'
                        '{{ messages[-1][\'content\'] }}"""\n')
            self.assertEqual(lokal("create", "thinker:1", "-f", mf, env=env).returncode, 0)
            args = ("-p", ", there was", "-n", "12", "--temperature", "0")
            thought = lokal("run", "thinker:1", "--think", *args, env=env)
            hidden = lokal("run", "thinker:1", "--hidethinking", *args, env=env)
            raw = lokal("run", STORIES, "--raw", "-p", "Once upon a time, there was", "-n", "12",
                        "--temperature", "0")
            self.assertEqual(thought.returncode, 0, thought.stderr)
            # (the answer is split from reasoning, which trims its leading space)
            self.assertEqual(thought.stdout.strip(), raw.stdout.strip())
            self.assertEqual(hidden.stdout.strip(), raw.stdout.strip())
            prompt_tokens = lambda r: int(re.search(rb"prompt: (\d+) tokens", r.stderr).group(1))
            # --think=false renders enable_thinking false: no story opening in the prompt.
            self.assertLess(prompt_tokens(lokal("run", "thinker:1", "--think=false", "-v", *args,
                                                env=env)),
                            prompt_tokens(lokal("run", "thinker:1", "--think", "-v", *args,
                                                env=env)))
            with open(mf, "w") as f:
                f.write(f'FROM {os.path.abspath(STORIES)}\nTEMPLATE """{{{{ .Prompt }}}}"""\n')
            self.assertEqual(lokal("create", "plain:1", "-f", mf, env=env).returncode, 0)
            r = lokal("run", "plain:1", "--think", *args, env=env)
            self.assertEqual(r.returncode, 1)
            self.assertIn(b"does not support thinking", r.stderr)

    def test_show_system_parameters_license(self):
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, LOKAL_MODELS=os.path.join(tmp, "models"))
            mf = os.path.join(tmp, "Modelfile")
            with open(mf, "w") as f:
                f.write(f'FROM {os.path.abspath(STORIES)}\nSYSTEM """Be brief."""\n'
                        'PARAMETER temperature 0.5\nPARAMETER stop "<|end|>"\n'
                        'PARAMETER stop "###"\nLICENSE """MIT, by the tale tellers"""\n')
            self.assertEqual(lokal("create", "shown:1", "-f", mf, env=env).returncode, 0)
            r = lokal("show", "shown:1", "--system", env=env)
            self.assertEqual((r.returncode, r.stdout), (0, b"Be brief.\n"))
            lines = lokal("show", "shown:1", "--parameters", env=env).stdout.decode().splitlines()
            self.assertEqual([line.split(None, 1) for line in lines],
                             [["stop", '"<|end|>"'], ["stop", '"###"'], ["temperature", "0.5"]])
            r = lokal("show", "shown:1", "--license", env=env)
            self.assertEqual(r.stdout, b"MIT, by the tale tellers\n")
            r = lokal("show", STORIES, "--system")
            self.assertEqual(r.returncode, 1)
            self.assertIn(b"has no system prompt", r.stderr)

    def test_run_takes_the_prompt_as_words(self):
        # As `ollama run M why is the sky blue`: the words after the model are the prompt.
        words = lokal("run", STORIES, "--raw", "Once", "upon", "a", "time", "-n", "8",
                      "--temperature", "0")
        quoted = lokal("run", STORIES, "--raw", "-p", "Once upon a time", "-n", "8",
                       "--temperature", "0")
        self.assertEqual(words.returncode, 0, words.stderr)
        self.assertEqual(words.stdout, quoted.stdout)

    def test_run_reads_prompt_from_stdin(self):
        r = lokal("run", STORIES, "--raw", "-n", "8", "--temperature", "0", stdin=b"Once upon a time")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.decode().startswith(", there was a little girl"), r.stdout)

    def test_seeded_sampling_is_reproducible(self):
        args = ("run", STORIES, "--raw", "-p", "Once upon a time", "-n", "24", "--seed", "42",
                "--temperature", "1.0")
        a, b = lokal(*args), lokal(*args)
        self.assertEqual(a.returncode, 0, a.stderr)
        self.assertEqual(a.stdout, b.stdout)

    def test_run_format_schema_gives_valid_json(self):
        # `lokal run` takes the server's request path: the same structured output as /api/chat.
        schema = {"type": "object",
                  "properties": {"name": {"type": "string", "maxLength": 12},
                                 "age": {"type": "integer"}},
                  "required": ["name", "age"]}
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "person.json")
            with open(path, "w") as f:
                json.dump(schema, f)
            for seed in ("1", "2"):
                r = lokal("run", STORIES, "--raw", "-p", "Once upon a time", "--format", path,
                          "-n", "400", "--temperature", "1.0", "--seed", seed)
                self.assertEqual(r.returncode, 0, r.stderr)
                doc = json.loads(r.stdout.decode())
                self.assertEqual(list(doc.keys()), ["name", "age"])
                self.assertIsInstance(doc["age"], int)
                self.assertLessEqual(len(doc["name"]), 12)

    def test_run_format_json_starts_an_object(self):
        r = lokal("run", STORIES, "--raw", "-p", "Once upon a time", "--format", "json",
                  "-n", "16", "--temperature", "0")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.decode().startswith("{"), r.stdout)

    def test_run_grammar_file_constrains_the_answer(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "answer.gbnf")
            with open(path, "w") as f:
                f.write('root ::= ("yes" | "no") "."\n')
            r = lokal("run", STORIES, "--raw", "-p", "Once upon a time", "--grammar", path,
                      "-n", "8", "--temperature", "1.0", "--seed", "3")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(r.stdout.decode().strip(), ("yes.", "no."))

    def test_run_bad_format_is_a_user_error(self):
        r = lokal("run", STORIES, "--raw", "-p", "x", "--format", "{not json")
        self.assertEqual(r.returncode, 1)
        self.assertIn("--format", r.stderr.decode())

    def test_run_logprobs_prints_one_line_per_token(self):
        r = lokal("run", STORIES, "--raw", "-p", "Once upon a time", "-n", "5",
                  "--temperature", "0", "--logprobs", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        err = r.stderr.decode()
        self.assertIn("logprobs:", err)
        lines = [l for l in err.split("logprobs:")[1].splitlines() if l.strip()]
        self.assertEqual(len(lines), 5, err)
        for line in lines:
            fields = line.split()
            self.assertLessEqual(float(fields[0]), 0.0)
        # Greedy: the chosen token is the most likely one, so its logprob leads the list.
        self.assertEqual(lines[0].split()[0], lines[0].split()[2])

    def test_verbose_prints_stats_to_stderr(self):
        r = lokal("run", STORIES, "--raw", "-p", "Once", "-n", "4", "--temperature", "0", "-v")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("tok/s", r.stderr.decode())

    def test_tokenize_ids_format(self):
        r = lokal("tokenize", STORIES, "Once upon a time", "--ids")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.decode(), "1 403 407 261 378\n")
        r = lokal("tokenize", STORIES, "Once upon a time", "--ids", "--no-bos")
        self.assertEqual(r.stdout.decode(), "403 407 261 378\n")

    def test_tokenize_pieces(self):
        r = lokal("tokenize", STORIES, "Once upon")
        lines = r.stdout.decode().splitlines()
        self.assertEqual(lines[0].split("\t")[0], "1")
        self.assertEqual(len(lines), 3)

    def test_show(self):
        r = lokal("show", STORIES)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        for needle in ("llama", "layers", "5", "512 tokens", "f32"):
            self.assertIn(needle, out)

    def test_show_verbose_prints_every_metadata_key_and_tensor(self):
        plain = lokal("show", STORIES).stdout.decode()
        self.assertNotIn("Metadata", plain)
        for flag in ("-v", "--verbose"):
            r = lokal("show", STORIES, flag)
            self.assertEqual(r.returncode, 0, r.stderr)
            out = r.stdout.decode()
            self.assertTrue(out.startswith(plain))
            metadata = out[out.index("\nMetadata\n"):out.index("\nTensors\n")]
            self.assertRegex(metadata, r'general\.architecture\s+"llama"')
            self.assertRegex(metadata, r"llama\.block_count\s+5\n")
            # The 512-entry vocabulary is abbreviated, as Ollama abbreviates long arrays.
            self.assertRegex(metadata, r"tokenizer\.ggml\.tokens\s+\[\.\.\.\]\n")
            tensors = out[out.index("\nTensors\n"):]
            self.assertRegex(tensors, r"token_embd\.weight\s+f32\s+\[64, 512\]")
            self.assertEqual(len(tensors.strip().splitlines()) - 1, 48)

    def test_run_accepts_nowordwrap_and_checks_keepalive(self):
        args = ("run", STORIES, "--raw", "-p", "Once upon a time", "-n", "8", "--temperature",
                "0")
        plain = lokal(*args)
        for extra in (("--nowordwrap",), ("--keepalive", "5m"), ("--keepalive", "-1"),
                      ("--keepalive", "30"), ("--keepalive", "1h30m")):
            r = lokal(*args, *extra)
            self.assertEqual((r.returncode, r.stdout), (0, plain.stdout), (extra, r.stderr))
        r = lokal(*args, "--keepalive", "soon")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"is not a duration", r.stderr)
        helptext = lokal("run", "--help").stdout.decode()
        self.assertIn("--nowordwrap", helptext)
        self.assertIn("with a running lokal serve, how long it keeps the model",
                      " ".join(helptext.split()))

    def test_run_starts_the_chat_from_the_stored_messages(self):
        # MESSAGE lines are the conversation's start, sent as history: this template joins the
        # messages into the story's opening, so the greedy answer is the raw one's.
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, LOKAL_MODELS=os.path.join(tmp, "models"))
            mf = os.path.join(tmp, "Modelfile")
            with open(mf, "w") as f:
                f.write(f'FROM {os.path.abspath(STORIES)}\n'
                        'TEMPLATE """{{ range .Messages }}{{ .Content }}{{ end }}"""\n'
                        'MESSAGE user Once upon a time\n'
                        'MESSAGE assistant """, there was"""\n')
            self.assertEqual(lokal("create", "told:1", "-f", mf, env=env).returncode, 0)
            stored = lokal("run", "told:1", "-p", " a", "-n", "12", "--temperature", "0", "-v",
                           env=env)
            raw = lokal("run", STORIES, "--raw", "-p", "Once upon a time, there was a", "-n",
                        "12", "--temperature", "0", "-v")
            self.assertEqual(stored.returncode, 0, stored.stderr)
            self.assertEqual(stored.stdout, raw.stdout)
            prompt_tokens = lambda r: int(re.search(rb"prompt: (\d+) tokens", r.stderr).group(1))
            self.assertEqual(prompt_tokens(stored), prompt_tokens(raw))

    def test_logits_json(self):
        r = lokal("logits", STORIES, "--tokens", "1 403 407", "--all-positions", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        self.assertEqual(j["n_vocab"], 512)
        self.assertEqual(j["tokens"], [1, 403, 407])
        self.assertEqual(len(j["logits"]), 3)
        self.assertEqual(len(j["logits"][0]), 512)
        # llama2.c's trace: after BOS the next token is 403 with logit 17.023516.
        self.assertAlmostEqual(j["logits"][0][403], 17.023516, delta=1e-3)

    def test_logits_top(self):
        r = lokal("logits", STORIES, "--text", "Once upon a time", "--top", "3", "--json")
        j = json.loads(r.stdout)
        self.assertEqual(j["tokens"], [1, 403, 407, 261, 378])
        self.assertEqual(len(j["top"]), 1)
        self.assertEqual(j["top"][0][0][0], 432)

    def test_perplexity_matches_llamacpp(self):
        ref_path = os.path.join(TESTDATA, "models", "ref", "stories260K.perplexity.txt")
        text = os.path.join(TESTDATA, "text", "war-and-peace-200k.txt")
        require(ref_path)
        require(text)
        with open(ref_path) as f:
            ref = float(f.read().split("PPL = ")[1].split()[0])
        r = lokal("perplexity", STORIES, text, "--ctx", "128", timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        ours = float(r.stdout.decode().split("PPL = ")[1].split()[0])
        self.assertIn("909 chunks", r.stdout.decode())
        self.assertLess(abs(ours - ref) / ref, 0.001, (ours, ref))

    def test_embed_decoder_model_related_closer_than_unrelated(self):
        r = lokal("embed", STORIES, "The little girl played with her dog in the park.",
                  "A small girl was playing in the park with a puppy.",
                  "The king ate soup in his castle at night.")
        self.assertEqual(r.returncode, 0, r.stderr)
        e = json.loads(r.stdout)["embeddings"]
        cos = lambda a, b: sum(x * y for x, y in zip(a, b))
        for v in e:
            self.assertAlmostEqual(cos(v, v), 1.0, places=4)
        self.assertGreater(cos(e[0], e[1]), cos(e[0], e[2]))
        self.assertGreater(cos(e[0], e[1]), cos(e[1], e[2]))

    def test_bench_json(self):
        r = lokal("bench", STORIES, "-p", "16", "-n", "4", "-r", "2", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = json.loads(r.stdout)
        self.assertEqual([row["test"] for row in rows], ["pp16", "tg4"])
        self.assertTrue(all(row["avg_ts"] > 0 for row in rows))
        self.assertTrue(all(row["load_s"] > 0 and row["repacked_bytes"] >= 0 for row in rows))

    def test_bench_table_says_what_repacking_costs(self):
        r = lokal("bench", STORIES, "-p", "8", "-n", "2", "-r", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertIn("|tg2|", out.replace(" ", ""))
        self.assertRegex(out, r"load [0-9.]+ s; [0-9]+ matrices repacked into [0-9.]+ MiB")


class Devices(unittest.TestCase):
    def devices(self, device=None):
        env = dict(os.environ)
        env.pop("LOKAL_DEVICE", None)
        if device is not None:
            env["LOKAL_DEVICE"] = device
        return lokal("devices", env=env)

    def test_lists_the_cpu_and_the_choice(self):
        r = self.devices()
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.decode().splitlines()
        self.assertTrue(lines[0].startswith("DEVICE "), lines)
        self.assertTrue(lines[1].startswith("cpu "), lines)
        out = r.stdout.decode()
        if "built without the Vulkan backend" not in out:
            self.assertIn("LOKAL_DEVICE=(unset) picks ", out)

    def test_vulkan_devices_can_be_named(self):
        out = self.devices().stdout.decode()
        if "vulkan:0 " not in out:
            self.skipTest("no Vulkan device here")
        r = self.devices("vulkan:0")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("LOKAL_DEVICE=vulkan:0 picks vulkan:0 (", r.stdout.decode())
        r = self.devices("vulkan:99")
        self.assertEqual(r.returncode, 1)
        self.assertTrue(r.stderr.decode().startswith("lokal: error: LOKAL_DEVICE=vulkan:99, but "),
                        r.stderr)

    def test_an_unknown_device_is_a_user_error(self):
        if "built without the Vulkan backend" in self.devices().stdout.decode():
            self.skipTest("built without the Vulkan backend")
        r = self.devices("gpu")
        self.assertEqual(r.returncode, 1)
        err = r.stderr.decode()
        self.assertTrue(err.startswith("lokal: error: unknown device 'gpu'"), err)
        self.assertEqual(r.stdout, b"")


class Terminal:
    """`lokal run` on a pseudo-terminal, so its chat reads with libedit as it does for a user.
    Each step waits for the text it expects (with a generous deadline), never for a time."""

    PROMPT = b">>> "

    @staticmethod
    def take_the_terminal():
        """Makes the pseudo-terminal the child's controlling terminal, so Ctrl-C signals it."""
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    def __init__(self, *args, env=None):
        self.fd, child = os.openpty()
        self.proc = subprocess.Popen([LOKAL, "run", *args], stdin=child, stdout=child,
                                     stderr=child, env=dict(env or os.environ, TERM="xterm"),
                                     close_fds=True, start_new_session=True,
                                     preexec_fn=Terminal.take_the_terminal)
        os.close(child)
        self.pending = b""
        self.expect(self.PROMPT)

    def expect(self, text, deadline=120):
        """The output up to and including `text`; fails if it does not come in time."""
        text = text.encode() if isinstance(text, str) else text
        end = time.monotonic() + deadline
        while text not in self.pending:
            left = end - time.monotonic()
            ready, _, _ = select.select([self.fd], [], [], max(left, 0))
            if not ready:
                raise AssertionError(f"timed out waiting for {text!r}; got {self.pending!r}")
            try:
                data = os.read(self.fd, 4096)
            except OSError:
                data = b""
            if not data:
                raise AssertionError(f"lokal exited waiting for {text!r}; got {self.pending!r}")
            self.pending += data
        cut = self.pending.index(text) + len(text)
        out, self.pending = self.pending[:cut], self.pending[cut:]
        return out.decode(errors="replace").replace("\r\n", "\n")

    def type(self, keys):
        os.write(self.fd, keys.encode() if isinstance(keys, str) else keys)

    def command(self, line):
        """Types `line` and Enter; returns what was printed up to the next prompt."""
        self.type(line + "\r")
        self.expect(line)  # the echo of what was typed
        out = self.expect(self.PROMPT)
        # Keys typed before libedit switched the terminal to raw mode are echoed twice.
        if out.lstrip("\n").startswith(line):
            out = out.lstrip("\n")[len(line):]
        return out

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        os.close(self.fd)


class ThroughServer(unittest.TestCase):
    """With a lokal serve answering at LOKAL_HOST, `run` and `list` go through it."""

    MODEL = "stories:260k"

    def setUp(self):
        require(STORIES)
        self.tmp = tempfile.TemporaryDirectory()
        port = unused_port()
        self.base = f"http://127.0.0.1:{port}"
        self.env = dict(os.environ, LOKAL_MODELS=os.path.join(self.tmp.name, "models"),
                        LOKAL_HOST=f"127.0.0.1:{port}",
                        LOKAL_HISTORY=os.path.join(self.tmp.name, "history"))
        path = os.path.join(self.tmp.name, "Modelfile")
        with open(path, "w") as f:
            f.write(f"FROM {os.path.abspath(STORIES)}\n")
        self.assertEqual(lokal("create", self.MODEL, "-f", path, env=self.env).returncode, 0)
        self.log = tempfile.TemporaryFile()
        self.server = subprocess.Popen([LOKAL, "serve", "--port", str(port)], env=self.env,
                                       stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while self.loaded_models() is None and self.server.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError("lokal serve did not start")
            time.sleep(0.05)
        self.term = None

    def loaded_models(self):
        """The names in the server's /api/ps, or None while it does not answer."""
        import urllib.request
        try:
            with urllib.request.urlopen(self.base + "/api/ps", timeout=5) as r:
                return [m["name"] for m in json.load(r)["models"]] or []
        except OSError:
            return None

    def tearDown(self):
        if self.term:
            self.term.close()
        self.server.terminate()
        self.server.wait(timeout=60)
        self.log.close()
        self.tmp.cleanup()

    def test_run_through_the_server_prints_the_in_process_answer(self):
        self.assertEqual(self.loaded_models(), [])
        args = ["run", self.MODEL, "Once upon", "--temperature", "0", "-n", "16"]
        served = lokal(*args, "--keepalive", "-1", env=self.env)
        self.assertEqual(served.returncode, 0, served.stderr)
        # The server loaded the model for it: proof the run went through the server, which keeps
        # it as --keepalive asked (-1: for ever).
        self.assertEqual(self.loaded_models(), [self.MODEL])
        import urllib.request
        with urllib.request.urlopen(self.base + "/api/ps", timeout=5) as r:
            self.assertGreater(int(json.load(r)["models"][0]["expires_at"][:4]), 2100)
        here = lokal(*args, "--local", env=self.env)
        self.assertEqual(here.returncode, 0, here.stderr)
        self.assertTrue(served.stdout.strip())
        self.assertEqual(served.stdout, here.stdout)

    def test_in_process_options_and_local_never_reach_the_server(self):
        for extra in (["--local"], ["--threads", "1"]):
            r = lokal("run", self.MODEL, "Once", "-n", "2", *extra, env=self.env)
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.loaded_models(), [])

    def test_list_through_the_server_matches_the_store(self):
        served = lokal("list", env=self.env)
        here = lokal("list", "--local", env=self.env)
        self.assertEqual(served.returncode, 0, served.stderr)
        # MODIFIED ("N seconds ago") may tick between the two; the rest is the same.
        cut = lambda out: [re.sub(r"\s{4}\S[^\n]*ago$", "", line)
                           for line in out.decode().splitlines()]
        self.assertEqual(cut(served.stdout), cut(here.stdout))
        self.assertIn(self.MODEL, served.stdout.decode())
        self.server.terminate()  # a store model is still listed (in-process) without a server
        self.server.wait(timeout=60)
        self.assertEqual(cut(lokal("list", env=self.env).stdout), cut(here.stdout))

    def test_chat_through_the_server_keeps_the_conversation(self):
        t = self.term = Terminal(self.MODEL, "--temperature", "0", "-n", "8", env=self.env)
        first = t.command("Once upon")
        self.assertEqual(self.loaded_models(), [self.MODEL])
        second = t.command("And then")
        self.assertTrue(first.strip().removesuffix(">>>").strip())
        self.assertTrue(second.strip().removesuffix(">>>").strip())
        self.assertIn("Unknown command '/frobnicate'", t.command("/frobnicate"))
        self.assertIn("Set parameter 'num_predict' to '2'",
                      t.command("/set parameter num_predict 2"))
        self.assertIn("Cleared session context", t.command("/clear"))
        # After /clear the first answer comes again: the turns before were the conversation.
        again = lokal("run", self.MODEL, "Once upon", "--temperature", "0", "-n", "2",
                      env=self.env).stdout.decode().strip()
        self.assertEqual(t.command("Once upon").strip().removesuffix(">>>").strip(), again)
        t.type("/bye\r")
        self.assertEqual(t.proc.wait(timeout=30), 0)

    def test_repl_through_the_server_shows_the_stored_messages(self):
        path = os.path.join(self.tmp.name, "Modelfile.told")
        with open(path, "w") as f:
            f.write(f"FROM {os.path.abspath(STORIES)}\n"
                    'MESSAGE user Once upon a time\nMESSAGE assistant """, there was"""\n')
        self.assertEqual(lokal("create", "told:1", "-f", path, env=self.env).returncode, 0)
        t = self.term = Terminal("told:1", "--temperature", "0", "-n", "4", env=self.env)
        # The start consumed the first ">>> ": the replayed user message follows it.
        shown = t.expect(t.PROMPT)
        self.assertEqual(shown.strip().splitlines()[:2], ["Once upon a time", ", there was"])
        self.assertTrue(t.command("a").strip().removesuffix(">>>").strip())
        self.assertIn("told:1", self.loaded_models())


class Repl(unittest.TestCase):
    """The interactive chat of `lokal run MODEL`: line editing, history and slash commands."""

    def setUp(self):
        require(STORIES)
        self.tmp = tempfile.TemporaryDirectory()
        self.env = dict(os.environ, LOKAL_MODELS=os.path.join(self.tmp.name, "models"),
                        LOKAL_HISTORY=os.path.join(self.tmp.name, "history"))
        self.term = None

    def tearDown(self):
        if self.term:
            self.term.close()
        self.tmp.cleanup()

    def start(self, *args):
        self.term = Terminal(*args, env=self.env)
        return self.term

    def create_chat_model(self, name):
        path = os.path.join(self.tmp.name, "Modelfile")
        with open(path, "w") as f:
            f.write(f'FROM {os.path.abspath(STORIES)}\nTEMPLATE """{{{{ .Prompt }}}}"""\n')
        r = lokal("create", name, "-f", path, env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_repl_unknown_command_is_refused_and_up_arrow_recalls_it(self):
        t = self.start(STORIES, "--raw", "--temperature", "0", "-n", "8")
        out = t.command("/frobnicate")
        self.assertEqual(out, "\nUnknown command '/frobnicate'. Type /? for help\n>>> ")
        t.type(b"\x1b[A\r")  # up arrow, Enter: the same line again, from the history
        t.expect("Unknown command '/frobnicate'")
        t.expect(t.PROMPT)
        with open(self.env["LOKAL_HISTORY"]) as f:
            self.assertIn("/frobnicate", f.read())

    def test_repl_set_parameter_limits_the_answer(self):
        t = self.start(STORIES, "--raw", "--temperature", "0")
        self.assertIn("Set parameter 'num_predict' to '3'", t.command("/set parameter num_predict 3"))
        answer = t.command("Once upon a time")
        reference = lokal("run", STORIES, "--raw", "--temperature", "0", "-n", "3", "-p",
                          "Once upon a time")
        self.assertEqual(answer.strip().removesuffix(">>>").strip(),
                         reference.stdout.decode().strip())
        self.assertIn("unknown parameter 'bogus'", t.command("/set parameter bogus 1"))
        self.assertIn("'x' is not an integer", t.command("/set parameter top_k x"))
        shown = t.command("/show parameters")
        self.assertRegex(shown, r"num_predict\s+3")

    def test_repl_shows_and_continues_the_stored_messages(self):
        path = os.path.join(self.tmp.name, "Modelfile")
        with open(path, "w") as f:
            f.write(f'FROM {os.path.abspath(STORIES)}\n'
                    'TEMPLATE """{{ range .Messages }}{{ .Content }}{{ end }}"""\n'
                    'MESSAGE user Once upon a time\nMESSAGE assistant """, there was"""\n')
        self.assertEqual(lokal("create", "told:1", "-f", path, env=self.env).returncode, 0)
        t = self.start("told:1", "--temperature", "0", "-n", "12")
        # The start consumed the first ">>> ": the replayed user message follows it.
        shown = t.expect(t.PROMPT)
        self.assertEqual(shown.strip().splitlines()[:2], ["Once upon a time", ", there was"])
        answer = t.command(" a")
        raw = lokal("run", STORIES, "--raw", "-p", "Once upon a time, there was a", "-n", "12",
                    "--temperature", "0")
        self.assertEqual(answer.strip().removesuffix(">>>").strip(), raw.stdout.decode().strip())

    def test_repl_show_info_system_and_help(self):
        t = self.start(STORIES, "--raw")
        info = t.command("/show info")
        self.assertRegex(info, r"architecture\s+llama")
        self.assertRegex(info, r"context length\s+2048")
        self.assertIn("Set system message.", t.command("/set system You tell short stories."))
        self.assertIn("You tell short stories.", t.command("/show system"))
        self.assertIn("/set parameter", t.command("/set"))
        self.assertIn("/show           Show model information", t.command("/?"))
        self.assertIn("Ctrl + a", t.command("/? shortcuts"))

    def test_repl_multiline_system_prompt(self):
        t = self.start(STORIES, "--raw")
        t.type('/set system """Line one\r')
        t.expect("... ")
        self.assertIn("Set system message.", t.command('line two"""'))
        self.assertIn("Line one\nline two", t.command("/show system"))

    def test_repl_save_creates_a_model_with_the_conversation(self):
        self.create_chat_model("storychat")
        t = self.start("storychat", "--temperature", "0", "-n", "4")
        t.command("Once upon a time")
        self.assertIn("Created new model 'saved'", t.command("/save saved"))
        listed = lokal("list", env=self.env)
        self.assertIn("saved", listed.stdout.decode())
        modelfile = lokal("show", "saved", "--modelfile", env=self.env).stdout.decode()
        self.assertIn('MESSAGE user "Once upon a time"', modelfile)
        self.assertIn("MESSAGE assistant", modelfile)

    def test_repl_load_switches_model(self):
        self.create_chat_model("storychat")
        t = self.start(STORIES, "--raw")
        out = t.command("/load storychat")
        self.assertIn("Loading model 'storychat'", out)
        self.assertRegex(t.command("/show info"), r"name\s+storychat")
        missing = os.path.join(self.tmp.name, "missing.gguf")
        failed = t.command("/load " + missing)
        self.assertIn("lokal: error:", failed)
        self.assertIn("missing.gguf", failed)
        self.assertRegex(t.command("/show info"), r"name\s+storychat")

    def test_repl_ctrl_c_at_the_prompt_keeps_the_chat(self):
        t = self.start(STORIES, "--raw")
        t.type(b"\x03")
        t.expect("Use Ctrl + d or /bye to exit.")
        t.expect(t.PROMPT)
        self.assertIn("Cleared session context", t.command("/clear"))

    def test_repl_bye_exits_zero(self):
        t = self.start(STORIES, "--raw")
        t.type("/bye\r")
        self.assertEqual(t.proc.wait(timeout=60), 0)


if __name__ == "__main__":
    unittest.main()
