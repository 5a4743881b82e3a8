"""Anthropic's Messages API through the official `anthropic` Python client, plus raw HTTP for the
error shape."""
import anthropic
import pytest

from conftest import MODEL, http

# The SDK has no sampling arguments any more; the API still takes them (as extra body fields).
GREEDY = {"extra_body": {"temperature": 0, "top_k": 1}}


@pytest.fixture
def client(server):
    return anthropic.Anthropic(base_url=server.base, api_key="unused", max_retries=0)


def ask(client, **kw):
    args = {"model": MODEL, "max_tokens": 16,
            "messages": [{"role": "user", "content": "Once upon a time"}], **GREEDY}
    args.update(kw)
    return client.messages.create(**args)


def test_message_shape_and_usage(client):
    m = ask(client)
    assert m.type == "message" and m.role == "assistant" and m.model == MODEL
    assert m.id.startswith("msg_")
    assert [b.type for b in m.content] == ["text"] and m.content[0].text
    assert m.stop_reason in ("end_turn", "max_tokens")
    assert m.stop_sequence is None
    assert m.usage.input_tokens > 0 and 0 < m.usage.output_tokens <= 16


def test_streaming_gives_the_same_answer_as_events(client):
    whole = ask(client)
    with client.messages.stream(model=MODEL, max_tokens=16, **GREEDY,
                                messages=[{"role": "user", "content": "Once upon a time"}]) as s:
        streamed = "".join(s.text_stream)
        final = s.get_final_message()
    assert streamed == whole.content[0].text
    assert final.content[0].text == streamed
    assert final.stop_reason == whole.stop_reason
    assert final.usage.output_tokens == whole.usage.output_tokens


def test_raw_event_sequence(server):
    status, text = http(server.base, "POST", "/v1/messages",
                        {"model": MODEL, "max_tokens": 4, "stream": True, "temperature": 0,
                         "messages": [{"role": "user", "content": "Once upon a time"}]})
    assert status == 200
    events = [line[len("event: "):] for line in text.splitlines() if line.startswith("event: ")]
    assert events[0] == "message_start" and events[1] == "content_block_start"
    assert events[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(events[2:-3]) == {"content_block_delta"}


def test_stop_sequences_are_reported(client):
    text = ask(client, max_tokens=24).content[0].text
    word = text.split()[2]
    m = ask(client, max_tokens=24, stop_sequences=[word])
    assert m.stop_reason == "stop_sequence" and m.stop_sequence == word
    assert word not in m.content[0].text


def test_system_as_string_or_blocks_and_count_tokens(client):
    msgs = [{"role": "user", "content": "Once upon a time"}]
    as_text = client.messages.count_tokens(model=MODEL, messages=msgs, system="Be brief.")
    as_blocks = client.messages.count_tokens(model=MODEL, messages=msgs,
                                             system=[{"type": "text", "text": "Be brief."}])
    assert as_text.input_tokens == as_blocks.input_tokens
    assert as_text.input_tokens == ask(client, system="Be brief.").usage.input_tokens


def test_tool_history_is_accepted(client):
    tools = [{"name": "get_weather", "description": "Weather in a city",
              "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    msgs = [{"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather",
                 "input": {"city": "Paris"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "Sunny, 21 C"}]}]
    m = ask(client, messages=msgs, tools=tools, tool_choice={"type": "auto"})
    assert m.type == "message"


def test_errors_come_in_anthropics_shape(client, server):
    with pytest.raises(anthropic.NotFoundError):
        ask(client, model="no-such-model")
    with pytest.raises(anthropic.BadRequestError) as e:
        ask(client, messages=[{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": "aGVsbG8="}}]}])
    assert "image" in str(e.value)
    with pytest.raises(anthropic.BadRequestError) as e:
        ask(client, thinking={"type": "enabled", "budget_tokens": 1024})
    assert "thinking" in str(e.value)
    status, body = http(server.base, "POST", "/v1/messages",
                        {"model": MODEL, "messages": [{"role": "user", "content": "x"}]})
    assert status == 400
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in body["error"]["message"]
