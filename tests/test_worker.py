"""The hand-off: jobs in Redis, a real RQ worker writing verdicts, retries, the sweeper and the policy."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from service import queue, status, store, word_lists
from service.db import get_engine
from workers import model
from workers.classifier import FEATURE_VERSION, Classifier, default_model
from workers.spam_check import check_comment

from .conftest import in_database_file, relay, valid, wait_for


def submit(app: Flask, **changes: Any) -> int:
    response = app.test_client().post("/comments", json=valid(**changes))
    assert response.status_code == 202, response.get_json()
    return int(response.get_json()["id"])


def comment(app: Flask, comment_id: int) -> Any:
    with app.app_context(), get_engine().connect() as conn:
        return store.get_comment(conn, comment_id)


def audit(app: Flask, comment_id: int) -> list[tuple[str | None, str, str]]:
    with app.app_context(), get_engine().connect() as conn:
        return [(c["from_status"], c["to_status"], c["actor"]) for c in store.changes_for(conn, comment_id)]


def test_job_carries_only_the_id_as_json_under_a_stable_id(app: Flask, redis_client: redis.Redis) -> None:
    comment_id = submit(app)
    assert relay(app) == 1
    raw = redis_client.hget(f"rq:job:{queue.job_id(comment_id)}", "data")
    assert raw is not None
    payload = json.loads(zlib.decompress(raw))
    assert payload[0] == queue.JOB_FUNCTION and payload[2] == [comment_id] and payload[3] == {}
    job = Job.fetch(queue.job_id(comment_id), connection=redis_client, serializer=JSONSerializer)
    assert job.failure_ttl == queue.FAILURE_TTL and job.timeout == app.config["JOB_TIMEOUT"]
    with app.app_context():
        assert not queue.enqueue_check(queue.get_queue(), comment_id, 60)  # already queued: no second job
    assert queue.make_queue(redis_client).count == 1


@pytest.mark.parametrize(("text", "verdict", "reason"), [
    ("A plain thought.", status.APPROVED, "classifier: 0.13 spam"),
    ("Who paid for the lobbying?", status.HELD, "moderation list: 'lobbying' in the text"),
    ("Cheap pills here.", status.SPAM, "disallowed list: 'pills' in the text"),
])
def test_worker_writes_verdict_and_reasons(app: Flask, work: Any, text: str, verdict: str, reason: str) -> None:
    with app.app_context(), get_engine().begin() as conn:
        word_lists.add(conn, word_lists.MODERATION, "Lobbying")
        word_lists.add(conn, word_lists.DISALLOWED, "pills")
    comment_id = submit(app, comment=text)
    assert work(app)
    row = comment(app, comment_id)
    assert row["status"] == verdict
    assert reason.split(":")[0] in [r["reason"].split(":")[0] for r in row["reasons"]]
    assert audit(app, comment_id)[-1] == (status.PENDING, verdict, store.SPAM_CHECK)


def test_a_link_to_the_page_the_comment_is_on_is_not_advertising(app: Flask, work: Any) -> None:
    text = "See paragraph {} at https://blog.example/2011/06/secure-communities/#p3"
    here = submit(app, comment=text.format(3), redirect_to="https://blog.example/2011/06/secure-communities/")
    elsewhere = submit(app, comment=text.format(4), redirect_to="https://blog.example/2011/07/another-post/",
                       post_id="another-post")
    assert work(app)
    assert comment(app, here)["status"] == status.APPROVED, comment(app, here)["reasons"]
    assert comment(app, elsewhere)["status"] == status.SPAM


def test_an_upgrade_retrains_a_model_file_of_older_features_with_the_moderators_decisions(
        app_factory: Any, work: Any, tmp_path: Path) -> None:
    path = tmp_path / "model.joblib"
    app = app_factory(MODEL_PATH=str(path))
    text = "Loved the letter, the figures on deportations surprised me"
    taught = submit(app, comment=text)
    assert work(app) and path.exists()
    with app.app_context(), get_engine().begin() as conn:
        store.transition(conn, taught, status.SPAM, "moderator:ann")
    state = pickle.loads(path.read_bytes())
    path.write_bytes(pickle.dumps({**state, "feature_version": FEATURE_VERSION - 1}))
    model._caches.clear()  # a worker started after the upgrade
    later = submit(app, comment="A second thought on the letter.")
    assert work(app)
    reasons = [r["reason"] for r in comment(app, later)["reasons"]]
    assert any(r.startswith("classifier: ") for r in reasons) and not any("failed" in r for r in reasons)
    retrained = Classifier.load(path)  # raises if it were still the old version
    assert retrained.spam_probability(text) > default_model().spam_probability(text) + 0.3


def test_job_delivered_twice_gives_one_verdict_and_one_audit_entry(app: Flask, work: Any) -> None:
    comment_id = submit(app)
    assert work(app)
    with app.app_context():
        assert check_comment(comment_id) == "skipped"
        queue.get_queue().enqueue(queue.JOB_FUNCTION, comment_id)  # a stray second delivery
    work(app)
    assert [entry[1] for entry in audit(app, comment_id)] == [status.PENDING, status.APPROVED]


AKISMET_DOWN = {"AKISMET_KEY": "test-key", "AKISMET_URL": "http://127.0.0.1:1"}
"""Akismet configured but unreachable: the one failure that makes the job retry."""


def test_a_failing_check_holds_with_its_error(app_factory: Any, work: Any) -> None:
    app = app_factory(MAX_LINKS="not a number")  # makes the links check raise inside the job
    comment_id = submit(app)
    work(app)
    row = comment(app, comment_id)
    assert row["status"] == status.HELD
    assert any(r["reason"].startswith("links check failed: ValueError") for r in row["reasons"])


def test_final_failure_holds_the_comment_with_the_error(app_factory: Any, redis_client: redis.Redis,
                                                        work: Any) -> None:
    app = app_factory(**AKISMET_DOWN)
    comment_id = submit(app)
    relay(app)
    job = Job.fetch(queue.job_id(comment_id), connection=redis_client, serializer=JSONSerializer)
    job.retries_left = 0
    job.save()
    work(app)
    row = comment(app, comment_id)
    assert row["status"] == status.HELD
    assert row["reasons"][0]["check"] == "error" and "AkismetUnavailable" in row["reasons"][0]["reason"]


def test_failure_with_retries_left_keeps_it_pending_and_scheduled(app_factory: Any, redis_client: redis.Redis,
                                                                  work: Any) -> None:
    app = app_factory(**AKISMET_DOWN)
    comment_id = submit(app)
    work(app)
    assert comment(app, comment_id)["status"] == status.PENDING
    job = Job.fetch(queue.job_id(comment_id), connection=redis_client, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.SCHEDULED and job.retries_left == queue.RETRY.max - 1


@pytest.mark.parametrize("lost", ["flushed", "failed"])
def test_sweeper_re_enqueues_pending_comments_without_a_live_job(app: Flask, redis_client: redis.Redis,
                                                                 work: Any, lost: str) -> None:
    comment_id = submit(app)
    relay(app)
    if lost == "flushed":  # Redis restarted without persistence
        redis_client.flushdb()
    else:  # the worker died mid-job: RQ files the job as failed
        job = Job.fetch(queue.job_id(comment_id), connection=redis_client, serializer=JSONSerializer)
        queue.make_queue(redis_client).remove(job)
        job.set_status(JobStatus.FAILED)
    with app.app_context():
        assert queue.sweep(get_engine(), queue.get_queue(), 60) == 1
        assert queue.sweep(get_engine(), queue.get_queue(), 60) == 0  # now it has a live job
    assert work(app)
    assert comment(app, comment_id)["status"] == status.APPROVED


@pytest.mark.parametrize(("policy", "first", "second"), [
    ("auto", status.APPROVED, status.APPROVED),
    ("all", status.HELD, status.HELD),
    ("first-time", status.HELD, status.APPROVED),
])
def test_moderation_policy(app_factory: Any, work: Any, policy: str, first: str, second: str) -> None:
    app = app_factory(MODERATION=policy)
    one = submit(app, comment="one")
    work(app)
    assert comment(app, one)["status"] == first
    if first == status.HELD:
        with app.app_context(), get_engine().begin() as conn:
            store.transition(conn, one, status.APPROVED, "moderator:test")
    two = submit(app, comment="two")
    work(app)
    assert comment(app, two)["status"] == second


def test_spam_stays_spam_under_the_all_policy(app_factory: Any) -> None:
    app = app_factory(MODERATION="all")
    comment_id = submit(app, url2="filled")
    assert comment(app, comment_id)["status"] == status.SPAM


def test_comments_worker_process_decides_new_comments(app: Flask, sqlite_url: str, redis_url: str,
                                                      redis_client: redis.Redis, model_path: str) -> None:
    """A real `comments worker` process, started before the comment arrives, relays it and writes its verdict.

    Its sweeper runs once at start and then not for ten minutes: only the relay thread can enqueue the check.
    """
    from service import relay

    env = {**os.environ, "DATABASE_URL": sqlite_url, "REDIS_URL": redis_url,
           "COMMENTS_SECRET_KEY": "test-secret-key-0123456789", "COMMENTS_SWEEP_SECONDS": "600",
           "COMMENTS_MODEL_PATH": model_path}
    process = subprocess.Popen([sys.executable, "-m", "service", "worker"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: redis_client.exists(relay.STATE_KEY), timeout=30)  # its first maintenance is done
        comment_id = submit(app)
        wait_for(lambda: comment(app, comment_id)["status"] != status.PENDING, timeout=30)
        assert comment(app, comment_id)["status"] == status.APPROVED
        wait_for(lambda: in_database_file(sqlite_url, comment_id), timeout=10)  # the relay thread checkpoints
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_comments_worker_burst_drains_and_exits(app: Flask, sqlite_url: str, redis_url: str,
                                                model_path: str) -> None:
    ids = [submit(app, comment=text) for text in ("first", "second thought", "reply")]
    env = {**os.environ, "DATABASE_URL": sqlite_url, "REDIS_URL": redis_url,
           "COMMENTS_SECRET_KEY": "test-secret-key-0123456789", "COMMENTS_MODEL_PATH": model_path}
    result = subprocess.run([sys.executable, "-m", "service", "worker", "--burst"], env=env, timeout=120,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert {comment(app, i)["status"] for i in ids} == {status.APPROVED}


def test_workers_purge_old_spam_once_a_day(app: Flask, redis_client: redis.Redis, work: Any) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from service.schema import comments

    spam_id = submit(app, url2="bot")
    with app.app_context(), get_engine().begin() as conn:
        conn.execute(update(comments).values(updated_at=store.utcnow() - timedelta(days=16)))
    work(app)
    assert comment(app, spam_id) is None
    assert redis_client.ttl("comments:purge:done") > 23 * 3600


@pytest.fixture()
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The worker module's monotonic clock, frozen; tests move it by changing clock[0]."""
    from workers import worker as worker_module

    now = [1000.0]
    monkeypatch.setattr(worker_module.time, "monotonic", lambda: now[0])
    return now


def test_worker_renews_its_key_only_when_that_adds_life(app: Flask, redis_client: redis.Redis,
                                                       clock: list[float]) -> None:
    from workers import worker as worker_module

    worker = worker_module.make_worker(app)
    worker.register_birth()

    def beat(**kwargs: Any) -> bool:
        """Whether this heartbeat reached Redis (RQ stamps the key with the wall-clock time of each)."""
        before = redis_client.hget(worker.key, "last_heartbeat")
        worker.heartbeat(**kwargs)
        return redis_client.hget(worker.key, "last_heartbeat") != before

    try:
        assert beat() and redis_client.ttl(worker.key) == worker.worker_ttl + 60
        clock[0] += worker_module.HEARTBEAT_SLACK - 1
        assert not beat()  # the key still lives almost as long as a renewal would make it
        assert beat(timeout=worker.worker_ttl + 600)  # a longer life asked for
        assert redis_client.ttl(worker.key) > worker.worker_ttl + 500
        clock[0] += 600
        assert beat()  # its life ran down
    finally:
        worker.register_death()


def test_maintenance_registers_the_worker_again_after_redis_lost_it(app: Flask, redis_client: redis.Redis) -> None:
    from rq import Worker

    from workers import worker as worker_module

    worker = worker_module.make_worker(app)
    worker.register_birth()
    try:
        redis_client.flushdb()  # as a Redis restarted without persistence
        worker.run_maintenance_tasks()
        assert redis_client.exists(worker.key) and redis_client.ttl(worker.key) > 0
        assert [w.name for w in Worker.all(connection=redis_client)] == [worker.name]
    finally:
        worker.register_death()


def test_worker_notices_rq_suspend_within_a_second(app: Flask, redis_client: redis.Redis,
                                                    clock: list[float]) -> None:
    from rq.exceptions import StopRequested
    from rq.suspension import resume, suspend

    from workers import worker as worker_module

    worker = worker_module.make_worker(app)
    worker.check_for_suspension(burst=True)
    suspend(redis_client)
    try:
        worker.check_for_suspension(burst=True)  # asked a moment ago: not again yet
        clock[0] += worker_module.SUSPENSION_CHECK_SECONDS
        with pytest.raises(StopRequested):  # a suspended worker in burst mode stops
            worker.check_for_suspension(burst=True)
    finally:
        resume(redis_client)


def test_a_spam_check_costs_few_redis_commands(app: Flask, redis_client: redis.Redis, work: Any) -> None:
    """RQ's own bookkeeping was 51 commands per job before SweepingWorker trimmed it; a guard against its return."""
    ids = [submit(app, author=f"Reader {n}", email=f"reader{n}@example.org", comment=f"Thought number {n}.")
           for n in range(20)]
    relay(app)
    redis_client.config_resetstat()
    work(app)
    calls = sum(stats["calls"] for name, stats in redis_client.info("commandstats").items()
                if name not in ("cmdstat_config|resetstat", "cmdstat_info"))
    assert all(comment(app, i)["status"] != status.PENDING for i in ids)
    assert calls / len(ids) <= 48, calls / len(ids)
