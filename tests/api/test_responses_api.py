"""OpenAI's Responses API through the official `openai` client: whole and streamed answers,
stored responses continued with previous_response_id (their KV reused through the prefix cache,
kept across a restart), retrieve/delete/input_items, function-call items and text.format."""
import json

import openai
import pytest

from conftest import MODEL, Server, http


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server.base + "/v1", api_key="unused", max_retries=0)


def ask(client, **kw):
    args = {"model": MODEL, "input": "Once upon a time", "max_output_tokens": 12,
            "temperature": 0}
    args.update(kw)
    return client.responses.create(**args)


def test_response_shape_and_usage(client):
    r = ask(client)
    assert r.id.startswith("resp_") and r.object == "response" and r.model == MODEL
    assert r.status == "incomplete" and r.incomplete_details.reason == "max_output_tokens"
    assert [o.type for o in r.output] == ["message"] and r.output_text
    assert r.usage.input_tokens > 0 and r.usage.output_tokens == 12
    assert r.usage.total_tokens == r.usage.input_tokens + 12


def test_streamed_events_give_the_same_answer(client):
    whole = ask(client, store=False)
    events = list(ask(client, store=False, stream=True))
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.incomplete"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == whole.output_text == events[-1].response.output_text


def test_previous_response_id_continues_and_reuses_the_kv(client):
    first = ask(client)
    second = ask(client, previous_response_id=first.id, input="The end.")
    assert second.previous_response_id == first.id
    # The second prompt is the first conversation plus the new turn, and its start is cached.
    assert second.usage.input_tokens > first.usage.input_tokens + first.usage.output_tokens
    assert second.usage.input_tokens_details.cached_tokens >= first.usage.input_tokens
    with pytest.raises(openai.NotFoundError):
        ask(client, previous_response_id="resp_0123456789abcdef")


def test_retrieve_input_items_delete(client):
    r = ask(client, input=[{"role": "user", "content": [{"type": "input_text",
                                                         "text": "Once upon a time"}]}])
    got = client.responses.retrieve(r.id)
    assert got.id == r.id and got.output_text == r.output_text
    items = client.responses.input_items.list(r.id)
    assert [i.type for i in items.data] == ["message"]
    assert items.data[0].content[0].text == "Once upon a time"
    client.responses.delete(r.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)
    unstored = ask(client, store=False)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(unstored.id)


def test_stored_responses_survive_a_restart(store):
    s = Server(store, "-q")
    try:
        c = openai.OpenAI(base_url=s.base + "/v1", api_key="unused", max_retries=0)
        r = ask(c)
    finally:
        s.stop()
    s = Server(store, "-q")
    try:
        c = openai.OpenAI(base_url=s.base + "/v1", api_key="unused", max_retries=0)
        assert c.responses.retrieve(r.id).output_text == r.output_text
        assert ask(c, previous_response_id=r.id, input="More.").status in ("completed",
                                                                           "incomplete")
    finally:
        s.stop()


def test_function_call_items_and_tools_are_accepted(client):
    tools = [{"type": "function", "name": "get_weather", "description": "Weather in a city",
              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    r = ask(client, tools=tools, input=[
        {"role": "user", "content": "Weather in Paris?"},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather",
         "arguments": "{\"city\": \"Paris\"}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "Sunny"}])
    assert r.tools[0].name == "get_weather"


def test_text_format_json_schema(client):
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
              "additionalProperties": False}
    r = ask(client, max_output_tokens=256,
            text={"format": {"type": "json_schema", "name": "check", "schema": schema}})
    assert isinstance(json.loads(r.output_text)["ok"], bool)


def test_bad_input_is_400(server):
    status, body = http(server.base, "POST", "/v1/responses",
                        {"model": MODEL, "input": [{"role": "user", "content": [
                            {"type": "input_image", "image_url": "http://x/y.png"}]}]})
    assert status == 400 and "input_image" in body["error"]["message"]
    status, body = http(server.base, "POST", "/v1/responses", {"model": MODEL})
    assert status == 400 and body["error"]["param"] == "input"
