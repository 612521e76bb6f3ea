"""Duplicates: each job delivered twice, two workers racing on one comment; one verdict, one audit entry.

Each comment's own job and a second one enqueued by hand (`dup-<id>`) sit next to each other in the
queue, and two `comments worker --burst` take them at once; on SQLite and on PostgreSQL. The workers' logs
say what each job did: finished (RQ's "Job OK"), wrote the verdict, lost the race at the write, or found the
comment decided. (Finished spam-check jobs keep no result in Redis, so the logs are the record.)
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import redis
from rq import Queue
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from bench.load import private_redis
from service.queue import JOB_FUNCTION, QUEUE_NAME, job_id

from .harness import Client, Postgres, Report, body, codes, folder, sqlite_url, stack, verify_verdicts, wait_for

COMMENTS = 200
# What `comments worker` logs (RQ's "Job OK" line, workers.spam_check and service.queue lines).
JOB_OK = re.compile(r"Job OK \((\S+)\)")
CHECKED = re.compile(r"workers\.spam_check: comment (\d+): \w+ \(score [-\d.]+\)(, lost a race)?$")
DECIDED = re.compile(r"workers\.spam_check: comment (\d+) needs no check")
SWEPT = re.compile(r"comment (\d+) re-enqueued by the sweeper")
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
            race(report, name, tmp, redis_url, url, model_path)


def race(report: Report, name: str, tmp: str, redis_url: str, database_url: str, model_path: str) -> None:
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
        for comment_id in sorted(accepted):  # the relay's job, as no worker ran yet, and a second one
            queue.enqueue(JOB_FUNCTION, comment_id, job_id=job_id(comment_id))
            queue.enqueue(JOB_FUNCTION, comment_id, job_id=f"dup-{comment_id}")
        # Each comment's two jobs side by side, so the two workers dequeue them at the same moment.
        pairs = [j for i in sorted(accepted) for j in (job_id(i), f"dup-{i}")]
        with connection.pipeline() as pipe:
            pipe.delete(queue.key)
            pipe.rpush(queue.key, *pairs)
            pipe.execute()
        logs = [os.path.join(tmp, f"worker-{n}.log") for n in range(2)]
        workers = [service.worker("--burst", log=log) for log in logs]
        exited = wait_for(lambda: all(w.process is not None and w.process.poll() is not None for w in workers),
                          EXIT_TIMEOUT)
        report.check(f"{name}: both burst workers drained the queue and exited 0",
                     exited is not None and all(w.process is not None and w.process.returncode == 0
                                                for w in workers) and service.queue_length() == 0,
                     f"{len(pairs)} jobs, {service.queue_length()} left")
        done, outcomes = what_workers_did(logs)
        failed = FailedJobRegistry(QUEUE_NAME, connection=connection, serializer=JSONSerializer)
        failures = failed.get_job_count(cleanup=False)
        swept = sum(1 for _, outcome in outcomes if outcome == "sweep")
        runs = sum(done[j] for j in pairs)
        report.check(f"{name}: every one of the {len(pairs)} jobs ran once (again only if a sweep re-enqueued it), "
                     "none failed", all(done[j] >= 1 for j in pairs) and runs == len(pairs) + swept and not failures,
                     f"{runs} runs of {len(set(done) & set(pairs))} jobs, {swept} sweeps, {failures} failed")
        writes = Counter(comment for comment, outcome in outcomes if outcome == "verdict")
        lost = sum(1 for _, outcome in outcomes if outcome == "lost")
        report.say(f"{name}: {sum(writes.values())} verdicts written; {lost} checks found the comment pending, "
                   f"ran, and lost the race at the write (two workers on one comment at once); "
                   f"{sum(1 for _, o in outcomes if o == 'decided')} found it decided already; {swept} re-enqueued "
                   "by a sweep")
        report.check(f"{name}: the workers wrote exactly one verdict per comment",
                     set(writes) == accepted and max(writes.values(), default=0) == 1,
                     f"{sum(1 for n in writes.values() if n > 1)} comments written twice, "
                     f"{len(accepted - set(writes))} never")
        verify_verdicts(report, service.engine, post_id, accepted)


def what_workers_did(logs: list[str]) -> tuple[Counter[str], list[tuple[int, str]]]:
    """From the workers' logs: how often each job id finished, and each check's outcome per comment."""
    done: Counter[str] = Counter()
    outcomes: list[tuple[int, str]] = []
    for log in logs:
        with open(log, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if match := JOB_OK.search(line):
                    done[match[1]] += 1
                elif match := CHECKED.search(line):
                    outcomes.append((int(match[1]), "lost" if match[2] else "verdict"))
                elif match := DECIDED.search(line):
                    outcomes.append((int(match[1]), "decided"))
                elif match := SWEPT.search(line):
                    outcomes.append((int(match[1]), "sweep"))
    return done, outcomes
