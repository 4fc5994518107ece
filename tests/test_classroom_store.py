"""classroom.store: the shared state of Class vs BERT, the same rules in SQLite and in Redis."""
from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest

from classroom import store as S
from explainers.errors import InputError
from harness.redis import REDIS_SERVER

HAS_REDIS = Path(REDIS_SERVER).exists()


@pytest.fixture(scope="module")
def redis_url():
    if not HAS_REDIS:
        pytest.skip("needs Debian's redis-server")
    from harness.redis import redis_server

    with redis_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "redis"])
def store(request, tmp_path):
    if request.param == "sqlite":
        return S.SQLiteStore(tmp_path / "class.sqlite3")
    return S.RedisStore(request.getfixturevalue("redis_url"))


BLANK = {"sentence": "The capital of France is [MASK].", "answer": "paris"}


def test_a_code_is_six_unambiguous_characters_and_a_typed_one_is_read_leniently(store):
    code, secret = store.open("blank", BLANK)
    assert len(code) == S.CODE_LENGTH and set(code) <= set(S.ALPHABET) and not set(code) & set("01OIL")
    assert len(secret) >= 24 and secret not in code
    typed = f" {code[:3].lower()}-{code[3:]} "
    q = store.join(typed, client="phone-1")
    assert (q.code, q.kind, q.payload, q.state) == (code, "blank", BLANK, "open")


def test_students_answer_once_each_may_change_it_until_closed_and_see_nothing_before_the_reveal(store):
    code, secret = store.open("blank", BLANK)
    for voter, word in [("v1", "paris"), ("v2", "lyon"), ("v3", "paris"), ("v2", "paris")]:
        store.answer(code, voter, word)
    assert store.count(code) == 3 and store.my_answer(code, "v2") == "paris"
    with pytest.raises(S.NotPresenter):  # a student's page has no secret
        store.answers(code)
    assert store.answers(code, secret) == Counter({"paris": 3})
    store.set_state(code, secret, "closed")
    with pytest.raises(S.Closed):
        store.answer(code, "v4", "rome")
    store.set_state(code, secret, "revealed")
    assert store.answers(code) == Counter({"paris": 3})  # after the reveal every student sees it


@pytest.mark.parametrize("action", ["close", "reveal", "reopen", "hide", "read"])
def test_every_presenter_action_forged_from_a_students_session_is_refused(store, action):
    code, secret = store.open("blank", BLANK)
    store.answer(code, "v1", "paris")
    for forged in (None, "", "x" * 32, secret[:-1] + ("A" if secret[-1] != "A" else "B"), code):
        with pytest.raises(S.NotPresenter):
            if action == "close":
                store.set_state(code, forged, "closed")
            elif action == "reveal":
                store.set_state(code, forged, "revealed")
            elif action == "reopen":
                store.set_state(code, forged, "open")
            elif action == "hide":
                store.hide(code, forged, "paris")
            else:
                store.answers(code, forged)
    assert store.question(code).state == "open" and store.answers(code, secret) == Counter({"paris": 1})
    other, _ = store.open("blank", BLANK)  # another question's secret does not open this one
    with pytest.raises(S.NotPresenter):
        store.set_state(other, secret, "revealed")


def test_a_hidden_answer_leaves_the_distribution(store):
    code, secret = store.open("blank", BLANK)
    for voter, word in [("v1", "paris"), ("v2", "rude"), ("v3", "rude")]:
        store.answer(code, voter, word)
    store.hide(code, secret, "rude")
    assert store.answers(code, secret) == Counter({"paris": 1})
    assert store.count(code) == 3  # hidden, not deleted: the count of answers stays honest


def test_answers_are_bounded_in_size_and_count(store, monkeypatch):
    code, secret = store.open("blank", BLANK)
    for bad in ("", "   ", "x" * (S.MAX_ANSWER_CHARS + 1)):
        with pytest.raises(InputError):
            store.answer(code, "v1", bad)
    store.answer(code, "v1", "x" * S.MAX_ANSWER_CHARS)
    monkeypatch.setattr(S, "MAX_VOTERS", 3)
    for v in ("v2", "v3"):
        store.answer(code, v, "paris")
    with pytest.raises(S.Closed):
        store.answer(code, "v4", "paris")
    store.answer(code, "v2", "lyon")  # a voter already counted may still change the answer
    assert store.count(code) == 3
    with pytest.raises(InputError):
        store.open("blank", {"sentence": "x" * (S.MAX_PAYLOAD_CHARS + 1)})


def test_wrong_codes_are_rate_limited_per_client_without_a_hint(store):
    code, _ = store.open("blank", BLANK)
    for i in range(S.GUESSES):
        with pytest.raises(KeyError) as err:
            store.join("ZZZZZZ", client="guesser")
        assert "ZZZZZZ" not in str(err.value)
    with pytest.raises(S.TooManyGuesses) as err:
        store.join(code, client="guesser")  # even the right code, until the window has passed
    assert 0 < err.value.retry_after <= S.GUESS_WINDOW_S
    assert store.join(code, client="another phone").code == code


def test_a_question_expires_after_two_hours(store, monkeypatch):
    code, secret = store.open("blank", BLANK)
    store.answer(code, "v1", "paris")
    later = S.time.time() + S.TTL_S + 1
    monkeypatch.setattr(S.time, "time", lambda: later)
    if isinstance(store, S.RedisStore):  # Redis expires keys by its own clock: ask it how long they have left
        assert 0 < store.r.ttl(f"q:{code}") <= S.TTL_S and 0 < store.r.ttl(f"a:{code}") <= S.TTL_S
        return
    assert store.question(code) is None
    with pytest.raises(KeyError):
        store.join(code, client="late")


def test_sixty_students_answering_at_once_are_each_counted_once(store):
    code, secret = store.open("blank", BLANK)

    def student(i: int) -> None:  # each thread its own connection, as each server process has its own
        mine = S.SQLiteStore(store.path) if isinstance(store, S.SQLiteStore) else S.RedisStore(store.url)
        mine.answer(code, f"v{i}", "paris" if i % 3 else "lyon")
        mine.answer(code, f"v{i}", "paris" if i % 2 else "lyon")

    threads = [threading.Thread(target=student, args=(i,)) for i in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count(code) == 60
    assert store.answers(code, secret) == Counter({"paris": 30, "lyon": 30})


def test_the_store_is_chosen_by_the_environment(tmp_path, redis_url):
    assert isinstance(S.from_env({"INSIDE_BERT_DATA": str(tmp_path)}), S.SQLiteStore)
    assert S.from_env({"INSIDE_BERT_DATA": str(tmp_path)}).path == tmp_path / "classroom.sqlite3"
    assert isinstance(S.from_env({"INSIDE_BERT_STORE": redis_url}), S.RedisStore)


def test_a_classroom_behind_one_address_gets_a_higher_limit_than_one_session(store):
    code, _ = store.open("blank", BLANK)
    shared = ("router", 3 * S.GUESSES)
    for phone in range(3):  # three students mistype their code as many times as one session may
        for _ in range(S.GUESSES):
            with pytest.raises(KeyError):
                store.join("ZZZZZZ", [(f"phone-{phone}", S.GUESSES), shared])
    with pytest.raises(S.TooManyGuesses):  # a fourth phone behind the same router: the address's limit
        store.join(code, [("phone-3", S.GUESSES), shared])
    assert store.join(code, [("phone-4", S.GUESSES), ("elsewhere", 3 * S.GUESSES)]).code == code
