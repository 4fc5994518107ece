"""Class vs BERT's shared state: the questions a presenter opens and the answers students send.

A class is served by one server process or by several replicas behind nginx, so this state lives outside the
process: in SQLite (one file, WAL mode; the default, for one server) or in Redis (`INSIDE_BERT_STORE=redis://…`,
when several replicas serve one class). Both keep the same records and obey the same rules:

* a question has a **join code** (`CODE_LENGTH` characters from `ALPHABET`, which has no 0/O, 1/I/L) and a
  **secret** that only the presenter's session holds: opening returns it, the store keeps only its sha256, and
  closing, revealing, hiding an answer and reading the answers before the reveal all need it;
* a student is an anonymous **voter** id (random, held by the student's session): one answer a voter, which the
  voter may change until the question closes; no names, no addresses, nothing else is stored;
* answers are bounded: at most `MAX_ANSWER_CHARS` characters (after the caller's normalisation) and
  `MAX_VOTERS` voters a question;
* everything expires `TTL_S` seconds (2 hours) after the question was opened;
* a wrong join code costs a **guess**: more than `GUESSES` wrong codes from one client in `GUESS_WINDOW_S`
  seconds and `join` refuses that client until the window has passed, without saying whether the code exists.

Answers are opaque strings here (a word, a set of token positions, a span): `classroom/questions.py` says what
each kind of question accepts and how its answers are counted.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from explainers.errors import InputError

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a projector and typed on a phone
CODE_LENGTH = 6  # 31^6 ≈ 8.9e8 codes
TTL_S = 2 * 3600
MAX_ANSWER_CHARS = 200
MAX_VOTERS = 1000
MAX_PAYLOAD_CHARS = 20_000
GUESSES, GUESS_WINDOW_S = 10, 60  # wrong codes a session may try a minute
ADDRESS_GUESSES = 100  # … and one address, which a classroom behind one router shares
STATES = ("open", "closed", "revealed")


class NotPresenter(PermissionError):
    """A presenter's action without the question's secret."""


class TooManyGuesses(PermissionError):
    """A client that tried too many wrong join codes; it may try again after `retry_after` seconds."""

    def __init__(self, retry_after: float):
        super().__init__(f"too many wrong codes; retry after {retry_after:.0f} s")
        self.retry_after = retry_after


class Closed(RuntimeError):
    """An answer to a question that no longer takes answers."""


@dataclass(frozen=True)
class Question:
    code: str
    kind: str  # "blank", "fake", "span", "agree" (classroom/questions.py)
    payload: dict  # what the students' page shows (the sentence, its pieces, the passage…)
    state: str  # one of STATES
    opened: float  # time.time() when opened
    hidden: frozenset[str] = field(default_factory=frozenset)  # answers the presenter hid from the distribution


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normal_code(typed: str) -> str:
    """What a student typed, as a code: upper case, spaces and dashes dropped (the alphabet has no look-alikes
    to confuse: a 0, O, 1, I or L typed is simply not a code)."""
    return "".join(ch for ch in (typed or "").upper() if ch not in " -\t")[:2 * CODE_LENGTH]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_answer(answer: str) -> str:
    if not isinstance(answer, str) or not answer.strip():
        raise InputError("an empty answer")
    if len(answer) > MAX_ANSWER_CHARS:
        raise InputError(f"an answer of {len(answer)} characters (at most {MAX_ANSWER_CHARS})")
    return answer


class Store(Protocol):
    """What the app needs of the shared state (`SQLiteStore`, `RedisStore`)."""

    def open(self, kind: str, payload: dict) -> tuple[str, str]: ...
    def join(self, typed_code: str, client: str | list[tuple[str, int]]) -> Question: ...
    def question(self, code: str) -> Question | None: ...
    def answer(self, code: str, voter: str, answer: str) -> None: ...
    def my_answer(self, code: str, voter: str) -> str | None: ...
    def count(self, code: str) -> int: ...
    def set_state(self, code: str, secret: str, state: str) -> None: ...
    def hide(self, code: str, secret: str, answer: str) -> None: ...
    def answers(self, code: str, secret: str | None = None) -> Counter: ...


class _Rules:
    """The rules both stores share, over four primitives each store implements."""

    def _verify(self, code: str, secret: str | None) -> None:
        stored = self._secret_digest(code)
        if stored is None or secret is None or not hmac.compare_digest(stored, _digest(secret)):
            raise NotPresenter(code)

    def open(self, kind: str, payload: dict) -> tuple[str, str]:
        """A new question: (its join code, the presenter's secret)."""
        text = json.dumps(payload, ensure_ascii=False)
        if len(text) > MAX_PAYLOAD_CHARS:
            raise InputError(f"a question of {len(text)} characters (at most {MAX_PAYLOAD_CHARS})")
        secret = secrets.token_urlsafe(24)
        for _ in range(20):  # a code already in use (1 in ~9e8 a question) is drawn again
            code = new_code()
            if self._create(code, kind, text, _digest(secret)):
                return code, secret
        raise RuntimeError("no free join code")

    def join(self, typed_code: str, client: str | list[tuple[str, int]]) -> Question:
        """The question behind a typed code, for a student's page. A wrong code (unknown, expired, mistyped)
        raises KeyError and counts against the client; a client with too many raises `TooManyGuesses` before the
        code is read. `client`: one key (`GUESSES` a window), or (key, limit) pairs, every one counted (a session
        and, with a higher limit, the address a whole classroom may share)."""
        keys = [(client, GUESSES)] if isinstance(client, str) else list(client)
        wait = max(self._guess_wait(key, limit) for key, limit in keys)
        if wait > 0:
            raise TooManyGuesses(wait)
        q = self.question(normal_code(typed_code))
        if q is None:
            for key, _ in keys:
                self._count_guess(key)
            raise KeyError("no such question")
        return q

    def answer(self, code: str, voter: str, answer: str) -> None:
        """The voter's answer (replacing the voter's earlier one) while the question is open."""
        answer = _check_answer(answer)
        q = self.question(code)
        if q is None:
            raise KeyError("no such question")
        if q.state != "open":
            raise Closed(code)
        self._put_answer(code, voter, answer)

    def set_state(self, code: str, secret: str, state: str) -> None:
        """Close (no more answers) or reveal (everyone sees the distribution) or reopen: the presenter only."""
        if state not in STATES:
            raise InputError(f"no state {state!r}")
        self._verify(code, secret)
        self._put_state(code, state)

    def hide(self, code: str, secret: str, answer: str) -> None:
        """Leave one answer out of the distribution shown (the lecturer's call): the presenter only."""
        self._verify(code, secret)
        self._put_hidden(code, answer)

    def answers(self, code: str, secret: str | None = None) -> Counter:
        """How many voters gave each answer, hidden answers left out. Before the reveal only the presenter
        (with the secret) may read them."""
        q = self.question(code)
        if q is None:
            raise KeyError("no such question")
        if q.state != "revealed":
            self._verify(code, secret)
        return Counter({a: n for a, n in self._tally(code).items() if a not in q.hidden})


class SQLiteStore(_Rules):
    """One SQLite file in WAL mode: every process of one server (and its threads) sees the same class."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript("""
                CREATE TABLE IF NOT EXISTS question (code TEXT PRIMARY KEY, kind TEXT, payload TEXT, secret TEXT,
                    state TEXT, opened REAL, hidden TEXT DEFAULT '[]');
                CREATE TABLE IF NOT EXISTS answer (code TEXT, voter TEXT, answer TEXT, PRIMARY KEY (code, voter));
                CREATE TABLE IF NOT EXISTS guess (client TEXT, at REAL);
                CREATE INDEX IF NOT EXISTS guess_client ON guess (client, at);""")

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            db.execute("PRAGMA busy_timeout=10000")
        return db

    def _expire(self, db) -> None:
        old = time.time() - TTL_S
        db.execute("DELETE FROM answer WHERE code IN (SELECT code FROM question WHERE opened < ?)", (old,))
        db.execute("DELETE FROM question WHERE opened < ?", (old,))
        db.execute("DELETE FROM guess WHERE at < ?", (time.time() - GUESS_WINDOW_S,))

    def _create(self, code: str, kind: str, payload: str, digest: str) -> bool:
        db = self._db()
        self._expire(db)
        try:
            db.execute("INSERT INTO question (code, kind, payload, secret, state, opened) VALUES (?, ?, ?, ?, ?, ?)",
                       (code, kind, payload, digest, "open", time.time()))
            return True
        except sqlite3.IntegrityError:
            return False

    def _secret_digest(self, code: str) -> str | None:
        row = self._db().execute("SELECT secret FROM question WHERE code = ? AND opened >= ?",
                                 (code, time.time() - TTL_S)).fetchone()
        return row[0] if row else None

    def question(self, code: str) -> Question | None:
        row = self._db().execute("SELECT code, kind, payload, state, opened, hidden FROM question WHERE code = ? "
                                 "AND opened >= ?", (code, time.time() - TTL_S)).fetchone()
        if row is None:
            return None
        return Question(row[0], row[1], json.loads(row[2]), row[3], row[4], frozenset(json.loads(row[5])))

    def _put_answer(self, code: str, voter: str, answer: str) -> None:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            known = db.execute("SELECT 1 FROM answer WHERE code = ? AND voter = ?", (code, voter)).fetchone()
            if not known and db.execute("SELECT COUNT(*) FROM answer WHERE code = ?",
                                        (code,)).fetchone()[0] >= MAX_VOTERS:
                raise Closed(code)
            db.execute("INSERT OR REPLACE INTO answer (code, voter, answer) VALUES (?, ?, ?)", (code, voter, answer))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def my_answer(self, code: str, voter: str) -> str | None:
        row = self._db().execute("SELECT answer FROM answer WHERE code = ? AND voter = ?", (code, voter)).fetchone()
        return row[0] if row else None

    def count(self, code: str) -> int:
        return self._db().execute("SELECT COUNT(*) FROM answer WHERE code = ?", (code,)).fetchone()[0]

    def _put_state(self, code: str, state: str) -> None:
        self._db().execute("UPDATE question SET state = ? WHERE code = ?", (state, code))

    def _put_hidden(self, code: str, answer: str) -> None:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        hidden = set(json.loads(db.execute("SELECT hidden FROM question WHERE code = ?", (code,)).fetchone()[0]))
        db.execute("UPDATE question SET hidden = ? WHERE code = ?", (json.dumps(sorted(hidden | {answer})), code))
        db.execute("COMMIT")

    def _tally(self, code: str) -> Counter:
        return Counter(dict(self._db().execute("SELECT answer, COUNT(*) FROM answer WHERE code = ? GROUP BY answer",
                                               (code,)).fetchall()))

    def _guess_wait(self, client: str, limit: int) -> float:
        rows = self._db().execute("SELECT at FROM guess WHERE client = ? AND at >= ? ORDER BY at DESC LIMIT ?",
                                  (client, time.time() - GUESS_WINDOW_S, limit)).fetchall()
        return rows[-1][0] + GUESS_WINDOW_S - time.time() if len(rows) >= limit else 0.0

    def _count_guess(self, client: str) -> None:
        self._db().execute("INSERT INTO guess (client, at) VALUES (?, ?)", (client, time.time()))


class RedisStore(_Rules):
    """Redis: every replica behind nginx sees the same class. A question is a hash (`q:<code>`), its answers a hash
    voter → answer (`a:<code>`), both expiring with the question; wrong codes are a sorted set per client."""

    def __init__(self, url: str):
        import redis  # only where a class is served by several replicas

        self.url = url
        self.r = redis.Redis.from_url(url, decode_responses=True)

    def _create(self, code: str, kind: str, payload: str, digest: str) -> bool:
        key = f"q:{code}"
        if not self.r.hsetnx(key, "kind", kind):
            return False
        self.r.hset(key, mapping={"payload": payload, "secret": digest, "state": "open", "opened": time.time(),
                                  "hidden": "[]"})
        self.r.expire(key, TTL_S)
        return True

    def _secret_digest(self, code: str) -> str | None:
        return self.r.hget(f"q:{code}", "secret")

    def question(self, code: str) -> Question | None:
        row = self.r.hgetall(f"q:{code}") if code else {}
        if not row or "payload" not in row:
            return None
        return Question(code, row["kind"], json.loads(row["payload"]), row["state"], float(row["opened"]),
                        frozenset(json.loads(row["hidden"])))

    _PUT = """
        if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
            return 0
        end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
        return 1"""

    def _put_answer(self, code: str, voter: str, answer: str) -> None:
        left = max(1, int(float(self.r.hget(f"q:{code}", "opened") or time.time()) + TTL_S - time.time()))
        if not self.r.eval(self._PUT, 1, f"a:{code}", voter, answer, MAX_VOTERS, left):
            raise Closed(code)

    def my_answer(self, code: str, voter: str) -> str | None:
        return self.r.hget(f"a:{code}", voter)

    def count(self, code: str) -> int:
        return self.r.hlen(f"a:{code}")

    def _put_state(self, code: str, state: str) -> None:
        self.r.hset(f"q:{code}", "state", state)

    _HIDE = """
        local hidden = cjson.decode(redis.call('HGET', KEYS[1], 'hidden') or '[]')
        table.insert(hidden, ARGV[1])
        redis.call('HSET', KEYS[1], 'hidden', cjson.encode(hidden))"""

    def _put_hidden(self, code: str, answer: str) -> None:
        self.r.eval(self._HIDE, 1, f"q:{code}", answer)

    def _tally(self, code: str) -> Counter:
        return Counter(self.r.hvals(f"a:{code}"))

    def _guess_wait(self, client: str, limit: int) -> float:
        key, now = f"g:{client}", time.time()
        self.r.zremrangebyscore(key, 0, now - GUESS_WINDOW_S)
        if self.r.zcard(key) < limit:
            return 0.0
        oldest_counted = self.r.zrange(key, -limit, -limit, withscores=True)  # the limit-th most recent guess
        return oldest_counted[0][1] + GUESS_WINDOW_S - now

    def _count_guess(self, client: str) -> None:
        key, now = f"g:{client}", time.time()
        self.r.zadd(key, {f"{now}:{secrets.token_hex(4)}": now})
        self.r.expire(key, GUESS_WINDOW_S)


def from_env(environ: dict | None = None) -> Store:
    """`INSIDE_BERT_STORE`: `redis://host:port/db` for Redis, else a SQLite file (default
    `$INSIDE_BERT_DATA/classroom.sqlite3`, `INSIDE_BERT_DATA` defaulting to ~/.local/share/inside-bert)."""
    env = os.environ if environ is None else environ
    where = env.get("INSIDE_BERT_STORE", "")
    if where.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(where)
    data = Path(env.get("INSIDE_BERT_DATA") or Path.home() / ".local/share/inside-bert")
    return SQLiteStore(Path(where) if where else data / "classroom.sqlite3")
