"""Property test: random JSON schemas (from our own generator) x the tiny test model, sampled at
temperature 1; every answer must parse and validate (checked with Python's jsonschema)."""
import concurrent.futures
import json
import random

import jsonschema
import ollama
import pytest

from conftest import MODEL

N_SCHEMAS = 200


def random_schema(rng, depth=0):
    kinds = ["string", "integer", "number", "boolean", "null", "enum", "const"]
    if depth < 2:
        kinds += ["object", "object", "array", "anyOf"]
    kind = rng.choice(kinds)
    if kind == "string":
        s = {"type": "string", "maxLength": rng.randint(0, 8)}
        if rng.random() < 0.3:
            s["minLength"] = rng.randint(0, s["maxLength"])
        if rng.random() < 0.15:
            # (not "time": Python's checker rejects valid RFC 3339 times like 20:52:50Z)
            s = {"type": "string", "format": rng.choice(["date", "uuid", "date-time"])}
        if rng.random() < 0.15:
            s = {"type": "string", "pattern": rng.choice(["^[a-c]{1,4}$", "^x[0-9]{1,6}$", "^(yes|no)$"])}
        return s
    if kind == "integer" and rng.random() < 0.5:
        lo = rng.randint(-300, 300)
        bounds = rng.choice([{"minimum": lo}, {"maximum": lo},
                             {"minimum": lo, "maximum": lo + rng.randint(0, 40)},
                             {"exclusiveMinimum": lo, "exclusiveMaximum": lo + rng.randint(2, 9)}])
        return {"type": "integer", **bounds}
    if kind in ("integer", "number", "boolean", "null"):
        return {"type": kind}
    if kind == "enum":
        return {"enum": rng.sample(["cat", "dog", 1, 2.5, True, None, "a b"], rng.randint(1, 3))}
    if kind == "const":
        return {"const": rng.choice(["x", 7, False])}
    if kind == "array":
        lo = rng.randint(0, 2)
        return {"type": "array", "items": random_schema(rng, depth + 1), "minItems": lo,
                "maxItems": lo + rng.randint(0, 2)}
    if kind == "anyOf":
        return {"anyOf": [random_schema(rng, depth + 1) for _ in range(rng.randint(2, 3))]}
    names = rng.sample(["a", "b", "name", "value", "x_1", "ok"], rng.randint(1, 3))
    props = {n: random_schema(rng, depth + 1) for n in names}
    return {"type": "object", "properties": props,
            "required": [n for n in names if rng.random() < 0.7]}


def test_random_schemas_always_validate(server):
    rng = random.Random(20261124)
    schemas = [random_schema(rng) for _ in range(N_SCHEMAS)]
    # Ollama's format takes the schema's top level as the answer's shape; wrap scalars in an
    # object so every case is a JSON document with named fields.
    schemas = [s if s.get("type") == "object" else
               {"type": "object", "properties": {"v": s}, "required": ["v"]} for s in schemas]

    def run(i):
        c = ollama.Client(host=server.base)
        r = c.generate(model=MODEL, prompt="Once upon a time", format=schemas[i],
                       options={"temperature": 1.0, "seed": i, "num_predict": 900})
        return i, r.response, r.done_reason

    failures = []
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for i, text, reason in pool.map(run, range(N_SCHEMAS)):
            try:
                assert reason == "stop", f"did not finish ({reason})"
                jsonschema.validate(json.loads(text), schemas[i],
                                    format_checker=jsonschema.FormatChecker())
            except (AssertionError, ValueError, jsonschema.ValidationError) as e:
                failures.append(f"schema {json.dumps(schemas[i])}\n  output {text!r}\n  {e}")
    assert not failures, f"{len(failures)} of {N_SCHEMAS} failed:\n" + "\n".join(failures[:5])
