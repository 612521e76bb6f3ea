"""The Redis connection, the RQ queue of spam checks, enqueueing, and the sweeper that re-enqueues.

Nothing executable travels through Redis: jobs carry only the comment id, with
RQ's JSON serializer and the job function named by its dotted path.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from flask import Flask, current_app
from redis.client import Pipeline
from rq import Callback, Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from sqlalchemy import Engine

from . import store

logger = logging.getLogger(__name__)

QUEUE_NAME = "spam-checks"
"""The spam checks of new comments; `comments worker` serves it first."""
LEARN_QUEUE = "learning"
"""Moderators' decisions to learn from, and retraining."""
NOTIFY_QUEUE = "notifications"
"""Emails to moderators about held comments: a slow mail server delays them, never a verdict."""
JOB_FUNCTION = "workers.spam_check.check_comment"
FAILURE_CALLBACK = "workers.spam_check.on_failure"
FAILURE_TTL = 7 * 24 * 3600
"""Failed jobs stay a week in RQ's failed_job_registry for operators to inspect."""
RESULT_TTL = 60
"""The verdict lives in the database; a finished job lingers a minute (0 would make RQ delete it at once,
which trips its cleanup of a killed worker's job into a spurious failure)."""
RETRY = Retry(max=5, interval=[5, 15, 60, 180, 600])
"""Back-off for checks that fail transiently (Akismet unreachable, database busy)."""
LIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}
REDIS_TIMEOUT = 2.0
"""Seconds the web process waits on Redis before treating it as down (the comment is kept anyway)."""


def job_id(comment_id: int) -> str:
    """Stable per comment, so enqueueing twice is harmless."""
    return f"spam-check-{comment_id}"


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT)


def make_queue(connection: redis.Redis) -> Queue:
    return Queue(QUEUE_NAME, connection=connection, serializer=JSONSerializer)


def get_redis() -> redis.Redis:
    connection: redis.Redis = current_app.extensions["redis"]
    return connection


def get_queue() -> Queue:
    return make_queue(get_redis())


def enqueue_check(queue: Queue, comment_id: int, timeout: int, *, pipeline: Pipeline | None = None) -> bool:
    """Enqueue the spam check of one comment; False if it already has a job waiting or running.

    With a pipeline (the relay's, for comments that have no job yet) the job joins that transaction
    unchecked: RQ's uniqueness check would be a round trip of its own, and a job that still arrives
    twice (the sweeper racing the relay) finds the verdict written and does nothing.
    """
    options: dict[str, Any] = {
        "job_id": job_id(comment_id), "job_timeout": timeout, "result_ttl": RESULT_TTL,
        "failure_ttl": FAILURE_TTL, "retry": RETRY, "on_failure": Callback(FAILURE_CALLBACK),
        "description": f"spam check of comment {comment_id}",
    }
    if pipeline is not None:
        queue.enqueue(JOB_FUNCTION, comment_id, pipeline=pipeline, **options)
        return True
    try:
        queue.enqueue(JOB_FUNCTION, comment_id, unique=True, **options)
    except DuplicateJobError:
        return False
    return True


def clear_finished(job: Job | None) -> bool:
    """Whether a job of this id may be enqueued: none is waiting or running; a finished or failed one is deleted."""
    if job is None:
        return True
    if job.get_status(refresh=False) in LIVE:
        return False
    job.delete()
    return True


def requeue(queue: Queue, comment_id: int, timeout: int, job: Job | None = None) -> bool:
    """Enqueue unless a job is live; a finished or failed job of the same id is replaced."""
    job = job or Job.fetch_many([job_id(comment_id)], connection=queue.connection, serializer=JSONSerializer)[0]
    return clear_finished(job) and enqueue_check(queue, comment_id, timeout)


def sweep(engine: Engine, queue: Queue, timeout: int) -> int:
    """Re-enqueue every pending comment without a live job; returns how many were enqueued.

    Catches comments stored while Redis was down, jobs lost when Redis restarted
    without persistence, and jobs whose worker died (RQ moves those to failed).
    """
    enqueued, after = 0, 0
    while True:
        with engine.connect() as conn:
            ids = store.pending_ids(conn, after_id=after)
        if not ids:
            return enqueued
        after = ids[-1]
        jobs = Job.fetch_many([job_id(i) for i in ids], connection=queue.connection, serializer=JSONSerializer)
        with engine.connect() as conn:  # a verdict may have landed since: its finished job is not lost
            still = set(store.pending_among(conn, ids))
        for comment_id, job in zip(ids, jobs, strict=True):
            if comment_id not in still:
                continue
            if requeue(queue, comment_id, timeout, job):
                enqueued += 1
                logger.info("comment %s re-enqueued by the sweeper", comment_id)


def init_app(app: Flask) -> None:
    """One Redis client per app; redis-py's pool is safe across threads and reconnects by itself."""
    app.extensions["redis"] = connect(app.config["REDIS_URL"])
