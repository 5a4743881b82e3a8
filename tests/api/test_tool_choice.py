"""tool_choice that requires a call (#21 item 10): the answer is constrained to one call in the
model's tool-call syntax, so even a model that would never call a tool (the story model) does,
on the OpenAI, Anthropic and Responses routes."""
import json

import anthropic
import openai
import pytest

from conftest import MODEL, http

PARAMS = {"type": "object", "properties": {"city": {"type": "string", "enum": ["Paris", "Rome"]}},
          "required": ["city"]}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": PARAMS}},
         {"type": "function", "function": {"name": "get_time", "parameters": PARAMS}}]
MESSAGES = [{"role": "user", "content": "Once upon a time"}]


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server.base + "/v1", api_key="unused", max_retries=0)


@pytest.mark.parametrize("choice,names", [("required", {"get_weather", "get_time"}),
                                          ({"type": "function",
                                            "function": {"name": "get_time"}}, {"get_time"})])
def test_openai_tool_choice_forces_a_call(client, choice, names):
    r = client.chat.completions.create(model=MODEL, messages=MESSAGES, tools=TOOLS,
                                       tool_choice=choice, max_tokens=1000, temperature=0)
    c = r.choices[0]
    assert c.finish_reason == "tool_calls", c
    assert len(c.message.tool_calls) == 1
    call = c.message.tool_calls[0]
    assert call.function.name in names
    assert json.loads(call.function.arguments)["city"] in ("Paris", "Rome")


def test_auto_does_not_force(client):
    r = client.chat.completions.create(model=MODEL, messages=MESSAGES, tools=TOOLS,
                                       tool_choice="auto", max_tokens=8, temperature=0)
    assert r.choices[0].finish_reason != "tool_calls"


def test_unknown_forced_name_is_400(server):
    status, body = http(server.base, "POST", "/v1/chat/completions",
                        {"model": MODEL, "messages": MESSAGES, "tools": TOOLS,
                         "tool_choice": {"type": "function", "function": {"name": "nope"}}})
    assert status == 400 and "nope" in body["error"]["message"]


def test_anthropic_tool_choice_tool(server):
    c = anthropic.Anthropic(base_url=server.base, api_key="unused", max_retries=0)
    tools = [{"name": t["function"]["name"], "input_schema": PARAMS} for t in TOOLS]
    m = c.messages.create(model=MODEL, max_tokens=1000, messages=MESSAGES, tools=tools,
                          tool_choice={"type": "tool", "name": "get_weather"},
                          extra_body={"temperature": 0})
    assert m.stop_reason == "tool_use"
    uses = [b for b in m.content if b.type == "tool_use"]
    assert len(uses) == 1 and uses[0].name == "get_weather"
    assert uses[0].input["city"] in ("Paris", "Rome")


def test_responses_tool_choice_required(client):
    tools = [{"type": "function", "name": t["function"]["name"], "parameters": PARAMS}
             for t in TOOLS]
    r = client.responses.create(model=MODEL, input="Once upon a time", tools=tools,
                                tool_choice="required", max_output_tokens=1000, temperature=0,
                                store=False)
    calls = [o for o in r.output if o.type == "function_call"]
    assert len(calls) == 1 and calls[0].name in ("get_weather", "get_time")
    assert json.loads(calls[0].arguments)["city"] in ("Paris", "Rome")
