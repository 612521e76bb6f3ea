"""Duplicates: each job delivered twice, two workers racing on one comment; one verdict, one audit entry.

Each comment's own job and a second one enqueued by hand (`dup-<id>`) sit next to each other in the
queue, and two `comments worker --burst` take them at once; on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import redis
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer

from bench.load import private_redis
from service.queue import JOB_FUNCTION, QUEUE_NAME, job_id

from .harness import Client, Postgres, Report, body, codes, folder, sqlite_url, stack, verify_verdicts, wait_for

COMMENTS = 200
EXIT_TIMEOUT = 180.0


@contextmanager
def sqlite(tmp: str) -> Iterator[str]:
    yield sqlite_url(tmp)


@contextmanager
def postgresql(tmp: str) -> Iterator[str]:
    data = os.path.join(tmp, "pg")
    os.mkdir(data, 0o700)
    server = Postgres(data)
    server.init()
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


DATABASES: dict[str, Callable[[str], AbstractContextManager[str]]] = {"SQLite": sqlite, "PostgreSQL": postgresql}


def run(report: Report, model_path: str) -> None:
    for name, database in DATABASES.items():
        with folder() as tmp, private_redis() as redis_url, database(tmp) as url:
            race(report, name, redis_url, url, model_path)


def race(report: Report, name: str, redis_url: str, database_url: str, model_path: str) -> None:
    post_id = f"chaos-duplicates-{name.lower()}"
    with stack(redis_url, database_url, model_path) as service:
        service.upgrade()
        client = Client(service.web().base_url)
        for number in range(COMMENTS):
            client.post(body(post_id, number, secrets.token_hex(4)))
        accepted = {a.comment_id for a in client.answers if a.comment_id}
        report.check(f"{name}: {COMMENTS} submissions answered 202", len(accepted) == COMMENTS,
                     f"{dict(codes(client.answers))}")
        connection = redis.Redis.from_url(redis_url)
        queue = Queue(QUEUE_NAME, connection=connection, serializer=JSONSerializer)
        for comment_id in sorted(accepted):
            queue.enqueue(JOB_FUNCTION, comment_id, job_id=f"dup-{comment_id}")
        # Each comment's two jobs side by side, so the two workers dequeue them at the same moment.
        pairs = [j for i in sorted(accepted) for j in (job_id(i), f"dup-{i}")]
        with connection.pipeline() as pipe:
            pipe.delete(queue.key)
            pipe.rpush(queue.key, *pairs)
            pipe.execute()
        workers = [service.worker("--burst") for _ in range(2)]
        exited = wait_for(lambda: all(w.process is not None and w.process.poll() is not None for w in workers),
                          EXIT_TIMEOUT)
        report.check(f"{name}: both burst workers drained the queue and exited 0",
                     exited is not None and all(w.process is not None and w.process.returncode == 0
                                                for w in workers) and service.queue_length() == 0,
                     f"{len(pairs)} jobs, {service.queue_length()} left")
        jobs = [job for job in Job.fetch_many(pairs, connection=connection, serializer=JSONSerializer) if job]
        results = Counter(str(job.return_value()) for job in jobs)
        by_worker = Counter(job.worker_name for job in jobs)
        report.say(f"{name}: job results {dict(results)}; jobs per worker {sorted(by_worker.values())}; "
                   f"pairs run at overlapping times on both workers: {overlapping(jobs)}")
        report.check(f"{name}: exactly one job per comment wrote a verdict",
                     sum(n for r, n in results.items() if r != "skipped") == len(accepted),
                     f"{results['skipped']} skipped of {len(jobs)}")
        verify_verdicts(report, service.engine, post_id, accepted)


def overlapping(jobs: list[Job]) -> int:
    """Comments whose two jobs ran on different workers at the same time: real races."""
    by_comment: dict[int, list[Job]] = {}
    for job in jobs:
        by_comment.setdefault(int(job.args[0]), []).append(job)
    races = 0
    for pair in by_comment.values():
        if len(pair) == 2 and all(j.started_at and j.ended_at for j in pair):
            a, b = pair
            if a.worker_name != b.worker_name and a.started_at < b.ended_at and b.started_at < a.ended_at:  # type: ignore[operator]
                races += 1
    return races
