"""The relay: the intake only commits, and the workers' relay turns new pending comments into RQ jobs."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import redis
from flask import Flask
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import delete

from service import queue, relay, status, store
from service.db import get_engine
from service.schema import comments

from .conftest import free_port, in_database_file, wait_for
from .conftest import relay as relay_pass
from .test_worker import submit


def has_job(client: redis.Redis, comment_id: int) -> bool:
    return bool(client.exists(f"rq:job:{queue.job_id(comment_id)}"))


def state(client: redis.Redis) -> dict[str, Any]:
    raw = client.get(relay.STATE_KEY)
    assert raw is not None
    return dict(json.loads(raw))


def store_with_id(app: Flask, comment_id: int) -> None:
    """A pending comment under a chosen id: one whose transaction committed after a later id's had."""
    values = {"id": comment_id, "post_id": "seed", "parent_id": None, "author": "Late", "email": "late@example.org",
              "url": None, "content": f"late {comment_id}", "original": f"late {comment_id}", "ip": None,
              "user_agent": None, "referrer": None}
    with app.app_context(), get_engine().begin() as conn:
        store.insert_comment(conn, values, status.PENDING)


def test_the_intake_commits_and_the_relay_enqueues(any_app: Flask, redis_client: redis.Redis) -> None:
    first = submit(any_app)
    assert redis_client.dbsize() == 0  # the submission did not touch Redis
    assert relay_pass(any_app) == 1  # a first pass sweeps: Redis held no cursor
    job = Job.fetch(queue.job_id(first), connection=redis_client, serializer=JSONSerializer)
    assert job.args == [first] and job.origin == queue.QUEUE_NAME
    assert state(redis_client) == {"after": first, "holes": {}}
    assert relay_pass(any_app) == 0

    later = [submit(any_app, comment=f"Thought {n}.") for n in range(3)]
    spam = submit(any_app, comment="A bot's text.", url2="filled")  # the honeypot: stored as spam, no check
    assert relay_pass(any_app) == 3
    assert all(has_job(redis_client, i) for i in later) and not has_job(redis_client, spam)
    assert state(redis_client) == {"after": spam, "holes": {}}
    assert queue.make_queue(redis_client).count == 4


def test_an_id_that_commits_below_the_cursor_is_relayed_on_a_later_pass(any_app: Flask,
                                                                        redis_client: redis.Redis) -> None:
    first = submit(any_app)
    relay_pass(any_app)
    store_with_id(any_app, first + 2)  # first + 1 drew its id earlier and has not committed yet
    assert relay_pass(any_app) == 1
    assert list(state(redis_client)["holes"]) == [str(first + 1)]
    store_with_id(any_app, first + 1)
    assert relay_pass(any_app) == 1
    assert has_job(redis_client, first + 1)
    assert state(redis_client) == {"after": first + 2, "holes": {}}


def test_an_id_given_out_again_below_the_cursor_is_relayed(any_app: Flask, redis_client: redis.Redis) -> None:
    """SQLite gives the id of a deleted newest comment to the next one; a fresh database starts at 1."""
    submit(any_app, comment="First.")
    newest = submit(any_app, comment="Second.")
    relay_pass(any_app)
    with any_app.app_context(), get_engine().begin() as conn:
        conn.execute(delete(comments).where(comments.c.id == newest))  # as "delete for ever" or the purge does
    again = submit(any_app, comment="Third.")
    for _ in range(2):  # the first pass finds the cursor above the newest comment and moves it back
        relay_pass(any_app)
    assert has_job(redis_client, again)
    redis_client.set(relay.STATE_KEY, json.dumps({"after": again + 1000, "holes": {}}))  # another database's
    later = submit(any_app, comment="Fourth.")
    for _ in range(2):
        relay_pass(any_app)
    assert has_job(redis_client, later)


def test_a_hole_is_forgotten_after_a_while(app: Flask, redis_client: redis.Redis,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    first = submit(app)
    relay_pass(app)
    store_with_id(app, first + 2)
    relay_pass(app)
    now = relay.time.time()
    monkeypatch.setattr(relay.time, "time", lambda: now + relay.HOLE_SECONDS)
    relay_pass(app)
    assert state(redis_client)["holes"] == {}  # a rolled-back insert's id never comes; the sweeper is the net


def test_one_relay_at_a_time(app: Flask, redis_client: redis.Redis) -> None:
    relay_pass(app)
    comment_id = submit(app)
    lock = redis_client.lock(relay.LOCK_KEY, timeout=relay.LOCK_SECONDS)
    assert lock.acquire(blocking=False)
    assert relay_pass(app) == 0 and not has_job(redis_client, comment_id)
    lock.release()
    assert relay_pass(app) == 1 and has_job(redis_client, comment_id)


def test_a_batch_and_its_cursor_are_written_together(app: Flask, redis_client: redis.Redis,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    relay_pass(app)
    before = state(redis_client)
    ids = [submit(app, comment=f"Thought {n}.") for n in range(3)]

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise redis.ConnectionError("Redis went away mid-batch")

    monkeypatch.setattr(redis.client.Pipeline, "execute", fail)
    with pytest.raises(redis.ConnectionError):
        relay_pass(app)
    monkeypatch.undo()
    assert state(redis_client) == before and not any(has_job(redis_client, i) for i in ids)
    assert relay_pass(app) == 3


def test_the_relay_thread_logs_an_outage_once_and_its_end(app: Flask, sqlite_url: str, redis_client: redis.Redis,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    """Redis unreachable: one error however many passes fail, then one line when a pass works again.

    The passes still checkpoint SQLite meanwhile: the comment reaches the database file.
    """
    from workers import worker

    passes: list[int] = []
    real_relay = worker.relay.relay

    def counted(*args: Any) -> int:
        passes.append(1)
        return real_relay(*args)

    monkeypatch.setattr(worker.relay, "relay", counted)
    unreachable = redis.Redis(port=free_port(), retry=Retry(NoBackoff(), 0))  # refused at once, no retries
    thread = worker.RelayThread(app, queue.make_queue(unreachable))
    caplog.set_level(logging.INFO, logger=worker.__name__)
    comment_id = submit(app)
    thread.start()
    try:
        wait_for(lambda: len(passes) >= 3, timeout=20)  # three failed passes, 0.2 + 0.4 + 0.8 s apart
        assert in_database_file(sqlite_url, comment_id)
        thread.jobs = queue.make_queue(redis_client)
        wait_for(lambda: "relay works again" in caplog.text, timeout=20)
    finally:
        thread.stopping.set()
        thread.join(timeout=10)
    assert caplog.text.count("relay failed") == 1
