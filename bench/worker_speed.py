"""How many spam checks one worker process completes per second, against the same worker's empty jobs.

Run: python bench/worker_speed.py [--comments N] [--rounds R]

Each round pre-loads N pending comments (texts of the bundled labelled data) into a temporary SQLite
database and enqueues their jobs in a private Redis, then one SweepingWorker (what `comments worker` runs)
drains them in burst mode in this process, with the classifier already loaded: job fetched from Redis,
checks run, verdict written. The same worker then drains N empty jobs; the ratio is the cost of a check
over RQ's own cost per job. RQ's forking Worker and SimpleWorker are timed on empty jobs too (wall time
and CPU of the process and its work horses). Last, a real `comments worker` process decides N comments
and its VmRSS is read from /proc with the model loaded.
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402
from rq import Queue, SimpleWorker, Worker  # noqa: E402
from rq.serializers import JSONSerializer  # noqa: E402

from bench.load import private_redis, wait_until  # noqa: E402
from service import create_app, queue, status, store  # noqa: E402
from service.db import get_engine, upgrade  # noqa: E402
from workers import model  # noqa: E402
from workers.classifier import bundled_samples, train  # noqa: E402
from workers.worker import make_worker  # noqa: E402

GOAL = 150.0
"""Spam checks per second one worker process must complete."""
MEMORY_GOAL_MB = 200.0
EMPTY_JOB = "bench.worker_speed.empty_job"


def empty_job(comment_id: int) -> None:
    """What RQ costs per job without any work: fetch, bookkeeping, result."""


def cpu_seconds() -> float:
    """CPU of this process and of the children it waited for (a forking worker's work horses)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def preload(app: Flask, texts: list[str], offset: int) -> list[int]:
    """N pending comments as the intake stores them, each from its own sender, with their jobs enqueued."""
    ids = []
    with app.app_context():
        with get_engine().begin() as conn:
            for i, text in enumerate(texts):
                n = offset + i
                values = {"post_id": "speed", "author": f"Reader {n}", "email": f"reader-{n}@example.org",
                          "content": text, "original": text, "ip": f"198.51.{n // 250 % 250}.{n % 250 + 1}",
                          "user_agent": "bench", "signals": {"token": "valid", "age": 30.0}}
                ids.append(store.insert_comment(conn, values, status.PENDING))
        jobs = queue.get_queue()
        for comment_id in ids:
            queue.enqueue_check(jobs, comment_id, app.config["JOB_TIMEOUT"])
    return ids


def timed(run: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of run()."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    run()
    return time.perf_counter() - wall, cpu_seconds() - cpu


def drain(app: Flask) -> None:
    with app.app_context():
        make_worker(app).work(burst=True, with_scheduler=False, logging_level="WARNING")


def rq_class(app: Flask, worker_class: type[Worker], n: int) -> tuple[float, float]:
    """Empty jobs through one of RQ's worker classes: (jobs per second, ms CPU per job)."""
    connection = queue.connect(app.config["REDIS_URL"])
    jobs = Queue("speed-empty", connection=connection, serializer=JSONSerializer)
    for i in range(n):
        jobs.enqueue(EMPTY_JOB, i, result_ttl=60)
    worker = worker_class([jobs], connection=connection, serializer=JSONSerializer)
    wall, cpu = timed(lambda: worker.work(burst=True, with_scheduler=False, logging_level="WARNING"))
    return n / wall, 1000 * cpu / n


def real_worker(env: dict[str, str], app: Flask, texts: list[str], offset: int) -> tuple[float, float, float]:
    """A `comments worker` process: (checks per second after its start-up, VmRSS MB, VmHWM MB) after n checks."""
    process = subprocess.Popen([sys.executable, "-m", "service", "worker"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        database = app.config["DATABASE_URL"].removeprefix("sqlite:///")
        with app.app_context():
            connection = queue.connect(app.config["REDIS_URL"])
            wait_until(lambda: Worker.count(connection=connection) > 0, 60, "the worker")
        started = time.perf_counter()
        preload(app, texts, offset)

        def done() -> bool:
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
                return not conn.execute("SELECT count(*) FROM comments WHERE status = ?", (status.PENDING,)
                                        ).fetchone()[0]
        wait_until(done, 120, "every verdict")
        rate = len(texts) / (time.perf_counter() - started)
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{process.pid}/status").read_text().splitlines())
        rss, hwm = (int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))
        return rate, rss, hwm
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--comments", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    samples = list(bundled_samples())
    texts = [samples[(i * 7) % len(samples)].text for i in range(args.comments)]
    with tempfile.TemporaryDirectory() as tmp, private_redis() as redis_url:
        database, model_path = Path(tmp) / "comments.sqlite3", Path(tmp) / "classifier.joblib"
        upgrade(f"sqlite:///{database}")
        train(samples).save(model_path)
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "REDIS_URL": redis_url,
               "COMMENTS_SECRET_KEY": secrets.token_urlsafe(32), "COMMENTS_MODEL_PATH": str(model_path),
               "COMMENTS_MODERATION": "auto"}
        app = create_app({"DATABASE_URL": env["DATABASE_URL"], "REDIS_URL": redis_url, "MODEL_PATH": str(model_path),
                          "SECRET_KEY": env["COMMENTS_SECRET_KEY"], "MODERATION": "auto"})
        with app.app_context():
            model.current(app.config)  # loaded once per process, as workers.worker.run() does
        checks, empties, offset = [], [], 0
        for _ in range(args.rounds):
            preload(app, texts, offset)
            offset += len(texts)
            checks.append(timed(lambda: drain(app)))
            jobs = queue.make_queue(queue.connect(redis_url))
            for i in range(len(texts)):
                jobs.enqueue(EMPTY_JOB, i, result_ttl=60)
            empties.append(timed(lambda: drain(app)))
        n = len(texts)
        check_wall = statistics.median(w for w, _ in checks)
        empty_wall = statistics.median(w for w, _ in empties)
        check_cpu = statistics.median(c for _, c in checks)
        print(f"one SweepingWorker (SimpleWorker) in this process, {n} comments x {args.rounds} rounds, medians:")
        print(f"  spam checks: {n / check_wall:7.1f} per second  ({1000 * check_wall / n:.2f} ms wall, "
              f"{1000 * check_cpu / n:.2f} ms CPU per check)")
        print(f"  empty jobs:  {n / empty_wall:7.1f} per second  ({1000 * empty_wall / n:.2f} ms wall per job)")
        print(f"  ratio check/empty job time: {check_wall / empty_wall:.2f}")
        rate = n / check_wall
        print(f"  goal >= {GOAL:g} checks/s: {'PASS' if rate >= GOAL else 'FAIL'}")
        fork_rate, fork_cpu = rq_class(app, Worker, 200)
        simple_rate, simple_cpu = rq_class(app, SimpleWorker, 200)
        print("RQ worker classes, 200 empty jobs each:")
        print(f"  Worker (forks a work horse per job): {fork_rate:7.1f} jobs/s, {fork_cpu:.2f} ms CPU per job")
        print(f"  SimpleWorker (runs jobs in-process): {simple_rate:7.1f} jobs/s, {simple_cpu:.2f} ms CPU per job")
        print(f"  ratio Worker/SimpleWorker CPU per job: {fork_cpu / simple_cpu:.1f}")
        real_rate, rss, hwm = real_worker(env, app, texts, offset)
        print(f"a real `comments worker` process: {real_rate:.1f} checks/s from enqueue to the last verdict "
              f"(incl. enqueueing from this process); VmRSS {rss:.0f} MB, peak VmHWM {hwm:.0f} MB after {n} checks")
        print(f"  goal <= {MEMORY_GOAL_MB:g} MB RSS: {'PASS' if rss <= MEMORY_GOAL_MB else 'FAIL'}")


if __name__ == "__main__":
    main()
