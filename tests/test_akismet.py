"""Akismet through a local stub that speaks its documented protocol; learning from moderators."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from rq.serializers import JSONSerializer

from service import moderation, queue, status
from service.db import get_engine
from workers import model

from .stubs.akismet import VALID_KEY, AkismetStub
from .test_worker import comment, submit


@pytest.fixture()
def stub() -> Iterator[AkismetStub]:
    with AkismetStub() as running:
        yield running


@pytest.fixture()
def app_with_akismet(app_factory: Any, stub: AkismetStub) -> Flask:
    return app_factory(AKISMET_KEY=VALID_KEY, AKISMET_URL=stub.url)


@pytest.mark.parametrize(("author", "verdict", "reason"), [
    ("Ada Lovelace", status.APPROVED, "Akismet: not spam"),
    ("viagra-test-123", status.SPAM, "Akismet: spam"),
    ("discard-test", status.SPAM, "Akismet: blatant spam (discard)"),
])
def test_comment_check(app_with_akismet: Flask, stub: AkismetStub, work: Any, author: str, verdict: str,
                       reason: str) -> None:
    comment_id = submit(app_with_akismet, author=author, redirect_to="https://blog.example/2011/06/s-comm/")
    work(app_with_akismet)
    row = comment(app_with_akismet, comment_id)
    assert row["status"] == verdict and reason in [r["reason"] for r in row["reasons"]]
    method, fields = stub.calls[-1]
    assert method == "comment-check"
    assert fields["blog"] == "https://blog.example" and fields["user_ip"] == "127.0.0.1"
    assert fields["comment_author"] == author and fields["comment_author_email"] == "ada@example.org"
    assert fields["comment_content"] == row["original"] and fields["comment_type"] == "comment"
    assert fields["permalink"] == "https://blog.example/2011/06/s-comm/"  # the post, as WordPress sends it


def test_unreachable_akismet_keeps_it_pending_then_retries(app_with_akismet: Flask, stub: AkismetStub,
                                                            redis_client: redis.Redis, work: Any) -> None:
    stub.fail_next = 1
    comment_id = submit(app_with_akismet)
    work(app_with_akismet)
    assert comment(app_with_akismet, comment_id)["status"] == status.PENDING
    jobs = queue.make_queue(redis_client)
    registry = ScheduledJobRegistry(queue=jobs)
    assert registry.get_job_ids() == [queue.job_id(comment_id)]
    for job_id in registry.get_job_ids():  # the back-off has passed
        registry.remove(job_id)
        jobs.enqueue_job(Job.fetch(job_id, connection=redis_client, serializer=JSONSerializer))
    work(app_with_akismet)
    assert comment(app_with_akismet, comment_id)["status"] == status.APPROVED
    assert stub.methods() == ["comment-check", "comment-check"]


def test_invalid_key_holds_with_the_reason(app_factory: Any, stub: AkismetStub, work: Any) -> None:
    app = app_factory(AKISMET_KEY="wrong", AKISMET_URL=stub.url)
    comment_id = submit(app)
    work(app)
    row = comment(app, comment_id)
    assert row["status"] == status.HELD
    assert any("Empty or invalid API key" in r["reason"] for r in row["reasons"])


def decide_as_moderator(app: Flask, comment_id: int, action: str) -> None:
    with app.app_context():
        with get_engine().begin() as conn:
            decision = moderation.apply(conn, comment_id, action, "ann")
        assert decision is not None
        moderation.teach(queue.get_redis(), decision)


def test_moderator_disagreeing_with_akismet_is_reported(app_with_akismet: Flask, stub: AkismetStub,
                                                        work: Any) -> None:
    ham_id = submit(app_with_akismet, author="viagra-test-123")
    spam_id = submit(app_with_akismet, comment="Which counties signed the agreement?", email="x@y.org")
    work(app_with_akismet)
    assert comment(app_with_akismet, spam_id)["status"] == status.APPROVED  # Akismet and the engine said ham
    decide_as_moderator(app_with_akismet, ham_id, "ham")
    decide_as_moderator(app_with_akismet, spam_id, "spam")
    work(app_with_akismet)
    submitted = [(method, fields["comment_author_email"]) for method, fields in stub.calls
                 if method.startswith("submit")]
    assert sorted(submitted) == [("submit-ham", "ada@example.org"), ("submit-spam", "x@y.org")]


def test_moderator_decisions_teach_every_worker_without_restart(app_factory: Any, work: Any,
                                                                tmp_path: Any) -> None:
    app = app_factory(MODEL_PATH=str(tmp_path / "own-model.joblib"))  # the shared test model stays untouched
    text = "Loved the letter, the figures on deportations surprised me"
    comment_id = submit(app, comment=text)
    work(app)
    with app.app_context():
        before = model.current(app.config)
        p_before = before.spam_probability(text)
    for _ in range(5):
        decide_as_moderator(app, comment_id, "spam")
        work(app)
    with app.app_context():
        after = model.current(app.config)
    assert after is not before and after.spam_probability(text) > p_before + 0.05
    assert comment(app, comment_id)["status"] == status.SPAM
