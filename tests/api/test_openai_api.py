"""OpenAI's API through the official `openai` Python client."""
import openai
import pytest

from conftest import MODEL, http


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server.base + "/v1", api_key="unused", max_retries=0)


def test_chat_completion_streaming_matches_non_streaming(client):
    msgs = [{"role": "user", "content": "Tell me a story."}]
    r = client.chat.completions.create(model=MODEL, messages=msgs, temperature=0, max_tokens=12)
    assert r.object == "chat.completion" and r.model == MODEL
    c = r.choices[0]
    assert c.finish_reason == "length" and c.message.role == "assistant" and c.message.content
    assert r.usage.completion_tokens == 12 and r.usage.prompt_tokens > 0
    chunks = list(client.chat.completions.create(model=MODEL, messages=msgs, temperature=0,
                                                 max_tokens=12, stream=True,
                                                 stream_options={"include_usage": True}))
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text == c.message.content
    finals = [ch for ch in chunks if ch.choices and ch.choices[0].finish_reason]
    assert len(finals) == 1 and finals[0].choices[0].finish_reason == "length"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 12


def test_max_completion_tokens_and_stop(client):
    r = client.chat.completions.create(model=MODEL, temperature=0, max_completion_tokens=5,
                                       messages=[{"role": "user", "content": "Hello"}])
    assert r.usage.completion_tokens == 5


def test_logprobs(client):
    r = client.chat.completions.create(model=MODEL, temperature=0, max_tokens=4, logprobs=True,
                                       top_logprobs=3,
                                       messages=[{"role": "user", "content": "Hello"}])
    content = r.choices[0].logprobs.content
    assert len(content) == 4
    for t in content:
        assert t.logprob <= 0 and len(t.top_logprobs) == 3
        assert t.top_logprobs[0].logprob == pytest.approx(t.logprob)


def test_completions_logprobs_use_the_legacy_shape(client):
    r = client.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=4,
                                  temperature=0, logprobs=2)
    lp = r.choices[0].logprobs
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == 4
    assert "".join(lp.tokens) == r.choices[0].text
    assert lp.text_offset == [sum(len(t.encode()) for t in lp.tokens[:i]) for i in range(4)]
    for t, p, top in zip(lp.tokens, lp.token_logprobs, lp.top_logprobs):
        assert p <= 0 and len(top) == 2 and max(top.values()) == pytest.approx(p)
    parts = list(client.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=4,
                                           temperature=0, logprobs=2, stream=True))
    streamed = [t for p in parts if p.choices[0].logprobs for t in p.choices[0].logprobs.tokens]
    assert streamed == lp.tokens
    offsets = [o for p in parts if p.choices[0].logprobs for o in p.choices[0].logprobs.text_offset]
    assert offsets == lp.text_offset


def test_completions(client):
    r = client.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=10,
                                  temperature=0)
    assert r.object == "text_completion" and r.choices[0].text
    parts = list(client.completions.create(model=MODEL, prompt="Once upon a time",
                                           max_tokens=10, temperature=0, stream=True))
    assert "".join(p.choices[0].text for p in parts) == r.choices[0].text


def test_embeddings_dimensions_and_token_input(client, server):
    full = client.embeddings.create(model=MODEL, input="a cat").data[0].embedding
    short = client.embeddings.create(model=MODEL, input="a cat", dimensions=8).data[0].embedding
    assert len(short) == 8
    norm = sum(x * x for x in full[:8]) ** 0.5
    assert short == pytest.approx([x / norm for x in full[:8]], abs=1e-5)
    assert sum(x * x for x in short) == pytest.approx(1.0, abs=1e-4)
    ids = http(server.base, "POST", "/tokenize", {"model": MODEL, "content": "a cat"})[1]["tokens"]
    by_ids = client.embeddings.create(model=MODEL, input=[ids, ids]).data
    assert len(by_ids) == 2
    assert by_ids[0].embedding == pytest.approx(
        client.embeddings.create(model=MODEL, input=ids).data[0].embedding, abs=1e-6)
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model=MODEL, input="a cat", dimensions=100000)
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model=MODEL, input=[[10 ** 9]])


def test_embeddings(client):
    r = client.embeddings.create(model=MODEL, input=["a cat", "a dog"])
    assert len(r.data) == 2 and r.data[1].index == 1
    v = r.data[0].embedding
    assert abs(sum(x * x for x in v) - 1.0) < 1e-3
    b64 = client.embeddings.create(model=MODEL, input="a cat")  # the client asks for base64
    assert b64.data[0].embedding == pytest.approx(v, abs=1e-6)


def test_models(client):
    ids = [m.id for m in client.models.list().data]
    assert MODEL in ids
    assert client.models.retrieve(MODEL).id == MODEL
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nope:latest")


def test_errors_have_openai_shape(client, server):
    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    assert "nope" in str(e.value)
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=MODEL, temperature=5,
                                       messages=[{"role": "user", "content": "x"}])
    assert e.value.body["param"] == "temperature"
    status, body = http(server.base, "POST", "/v1/chat/completions", {"model": MODEL})
    assert status == 400 and body["error"]["type"] == "invalid_request_error"


def test_second_turn_reuses_the_prefix_cache(client):
    history = [{"role": "user", "content": "Tell me a story about a dog and a ball. " * 6}]
    first = client.chat.completions.create(model=MODEL, messages=history, temperature=0,
                                           max_tokens=20)
    history += [{"role": "assistant", "content": first.choices[0].message.content},
                {"role": "user", "content": "And then?"}]
    second = client.chat.completions.create(model=MODEL, messages=history, temperature=0,
                                            max_tokens=5)
    cached = second.usage.prompt_tokens_details.cached_tokens
    assert cached >= first.usage.prompt_tokens - 1


def test_invalid_utf8_from_the_model_is_replaced_not_fatal(server, client):
    # stories260K's byte token <0xB1> (id 180) alone is not UTF-8; forcing it with logit_bias
    # once made the JSON encoder throw inside the streaming thread and end the process.
    bias = {"180": 100}
    r = client.completions.create(model=MODEL, prompt="Once", max_tokens=4, temperature=0,
                                  logit_bias=bias)
    assert r.choices[0].text == "\ufffd" * 4
    chunks = list(client.completions.create(model=MODEL, prompt="Once", max_tokens=4,
                                            temperature=0, logit_bias=bias, stream=True))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "\ufffd" * 4
    status, _ = http(server.base, "GET", "/health")
    assert status == 200


def test_n_choices_are_sampled_independently(client):
    msgs = [{"role": "user", "content": "Tell me a story."}]
    kw = dict(model=MODEL, messages=msgs, max_tokens=8, temperature=1.5, seed=5, logprobs=True)
    r = client.chat.completions.create(n=3, **kw)
    assert [c.index for c in r.choices] == [0, 1, 2]
    texts = [c.message.content for c in r.choices]
    assert len(set(texts)) > 1  # each choice samples with its own seed (seed + index)
    assert client.chat.completions.create(n=1, **kw).choices[0].message.content == texts[0]
    assert [c.message.content for c in client.chat.completions.create(n=3, **kw).choices] == texts
    one = client.chat.completions.create(n=1, **kw)
    assert r.usage.prompt_tokens == one.usage.prompt_tokens  # the prompt counts once
    assert r.usage.completion_tokens == sum(len(c.logprobs.content) for c in r.choices)

    chunks = list(client.chat.completions.create(n=3, stream=True,
                                                 stream_options={"include_usage": True}, **kw))
    streamed = ["", "", ""]
    finals = []
    for ch in chunks:
        for c in ch.choices:
            streamed[c.index] += c.delta.content or ""
            if c.finish_reason:
                finals.append(c.index)
    assert streamed == texts and sorted(finals) == [0, 1, 2]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == r.usage.completion_tokens

    greedy = client.chat.completions.create(model=MODEL, messages=msgs, max_tokens=8,
                                            temperature=0, n=2)
    assert greedy.choices[0].message.content == greedy.choices[1].message.content


def cached_prompt_tokens(server):
    text = http(server.base, "GET", "/metrics")[1]
    line = next(l for l in text.splitlines() if l.startswith("lokal_prompt_tokens_cached_total "))
    return int(line.split()[1])


def test_n_choices_share_the_prompt_through_the_prefix_cache(client, server):
    before = cached_prompt_tokens(server)
    r = client.completions.create(model=MODEL, prompt="A purple fox jumped over seven lazy frogs",
                                  max_tokens=4, temperature=1.0, n=3)
    # Choices 1 and 2 start from choice 0's prompt rows: each evaluates only the last token.
    assert cached_prompt_tokens(server) - before >= 2 * (r.usage.prompt_tokens - 1)


def test_n_choices_on_completions(client):
    kw = dict(model=MODEL, prompt="Once upon a time", max_tokens=6, temperature=1.5, seed=9)
    r = client.completions.create(n=2, **kw)
    assert [c.index for c in r.choices] == [0, 1] and all(c.text for c in r.choices)
    parts = list(client.completions.create(n=2, stream=True, **kw))
    streamed = ["", ""]
    for p in parts:
        for c in p.choices:
            streamed[c.index] += c.text
    assert streamed == [c.text for c in r.choices]
    for bad in (0, 129, 1.5):
        with pytest.raises(openai.BadRequestError):
            client.completions.create(n=bad, **kw)


def test_embeddings_dimensions_below_one_is_refused(client):
    for bad in (0, -3):
        with pytest.raises(openai.BadRequestError):
            client.embeddings.create(model=MODEL, input="a cat", dimensions=bad)
