"""A model's Modelfile MESSAGE lines start every chat, as in Ollama: /api/chat and
/v1/chat/completions put them before the request's own messages, and /api/generate before its
prompt (unless it continues a `context`)."""
import ollama
import openai
import pytest

from conftest import MODEL, http

STORED = [{"role": "user", "content": "Who is the cat?"},
          {"role": "assistant", "content": "The cat is Tom, a big grey cat."}]
ASK = [{"role": "user", "content": "And the dog?"}]
GREEDY = {"temperature": 0, "num_predict": 4, "seed": 1}


@pytest.fixture
def greeter(server):
    client = ollama.Client(host=server.base)
    client.create(model="remembers:v1", from_=MODEL, messages=STORED)
    yield client
    client.delete("remembers:v1")


def test_api_chat_replays_the_message_lines(greeter):
    replayed = greeter.chat(model="remembers:v1", messages=ASK, options=GREEDY)
    by_hand = greeter.chat(model=MODEL, messages=STORED + ASK, options=GREEDY)
    without = greeter.chat(model=MODEL, messages=ASK, options=GREEDY)
    assert without.prompt_eval_count < replayed.prompt_eval_count
    assert replayed.prompt_eval_count == by_hand.prompt_eval_count
    assert replayed.message.content == by_hand.message.content


def test_v1_chat_completions_replays_them_too(greeter, server):
    client = openai.OpenAI(base_url=server.base + "/v1", api_key="unused")
    replayed = client.chat.completions.create(model="remembers:v1", messages=ASK, max_tokens=2,
                                              temperature=0)
    by_hand = client.chat.completions.create(model=MODEL, messages=STORED + ASK, max_tokens=2,
                                             temperature=0)
    assert replayed.usage.prompt_tokens == by_hand.usage.prompt_tokens


def test_api_generate_puts_them_in_the_prompt(greeter, server):
    status, r = http(server.base, "POST", "/api/generate",
                     {"model": "remembers:v1", "prompt": "And the dog?", "stream": False,
                      "options": GREEDY})
    assert status == 200, r
    prompt = r["context"][:len(r["context"]) - r["eval_count"]]
    status, text = http(server.base, "POST", "/detokenize", {"model": MODEL, "tokens": prompt})
    assert status == 200, text
    assert "Tom, a big grey cat" in text["content"] and "And the dog?" in text["content"]


def test_api_show_returns_the_stored_messages(greeter, server):
    # Ollama's show response carries them (the Python client's model leaves the field out).
    status, shown = http(server.base, "POST", "/api/show", {"model": "remembers:v1"})
    assert status == 200 and shown["messages"] == STORED
    status, plain = http(server.base, "POST", "/api/show", {"model": MODEL})
    assert status == 200 and "messages" not in plain
