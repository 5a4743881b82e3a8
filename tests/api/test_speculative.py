"""Speculative decoding through the server: the answer is the same with guesses (prompt lookup)
as without (draft_num_predict 0); /metrics counts the guesses."""
import ollama

from conftest import MODEL, http
from test_serving import metric

STORY = ("Once upon a time, there was a little girl named Lily. She loved to play outside. "
         "One day, Lily saw a big dog. Once upon a time, there was a little girl named Lily.")


def generate(server, **options):
    client = ollama.Client(host=server.base)
    options = {"temperature": 0, "num_predict": 96, "repeat_penalty": 1.0, **options}
    return client.generate(model=MODEL, prompt=STORY, raw=True, options=options)


def test_guesses_keep_the_answer_and_are_counted(server):
    before = metric(server.base, "lokal_draft_tokens_total")
    kept_before = metric(server.base, "lokal_draft_tokens_accepted_total")
    plain = generate(server, draft_num_predict=0)
    assert metric(server.base, "lokal_draft_tokens_total") == before
    guessed = generate(server)
    assert guessed.response == plain.response
    assert guessed.eval_count == plain.eval_count
    drafted = metric(server.base, "lokal_draft_tokens_total") - before
    kept = metric(server.base, "lokal_draft_tokens_accepted_total") - kept_before
    assert drafted > 0 and 0 < kept <= drafted


def test_bad_draft_option_is_a_400(server):
    try:
        generate(server, draft_num_predict=-3)
    except ollama.ResponseError as e:
        assert e.status_code == 400 and "draft_num_predict" in str(e)
    else:
        raise AssertionError("accepted")
