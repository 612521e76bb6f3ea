"""How many spam checks one real `comments worker` process completes per second, against its empty jobs.

Run: python bench/worker_speed.py [--comments N] [--rounds R] [--profile] [--one-sender]

Each round pre-loads N pending comments (texts of the bundled labelled data, each from its own sender with a
valid form token) into a temporary SQLite database, has the workers' relay enqueue their spam-check jobs in a
private Redis (its CPU per comment is printed), then runs `python -m service worker --burst` with the
classifier file in COMMENTS_MODEL_PATH. The rate is taken from the first to the last verdict (the `spam-check`
rows of status_changes), so process start-up and model loading are left out: job fetched from Redis, every
check, verdict written and committed. The same command then drains N empty jobs on the same queue (first to
last `ended_at` of the RQ jobs); the ratio of the two is the cost of a check over RQ's own cost per job. VmRSS
of the worker is sampled from /proc while it works, model loaded. RQ's forking Worker and SimpleWorker are
timed on empty jobs in this process (wall time and CPU of the process and its work horses). --profile runs
cProfile over N checks drained in-process by the same SweepingWorker and prints where the time goes.
--one-sender posts every comment from one address and email, as a flood does: the checks must not get slower
as the flood grows.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from rq import Queue, SimpleWorker, Worker  # noqa: E402
from rq.job import Job  # noqa: E402
from rq.serializers import JSONSerializer  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bench.load import private_redis  # noqa: E402
from service import create_app, queue, relay, status, store  # noqa: E402
from service.db import get_engine, upgrade  # noqa: E402
from service.schema import status_changes  # noqa: E402
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


def preload(app: Flask, texts: list[str], offset: int, one_sender: bool = False) -> tuple[list[int], float]:
    """N pending comments as the intake stores them, each from its own sender (or all from one: a flood),
    with their jobs enqueued by the workers' relay; returns their ids and the relay's CPU ms per comment."""
    ids = []
    with app.app_context():
        with get_engine().begin() as conn:
            for i, text in enumerate(texts):
                n = 0 if one_sender else offset + i
                values = {"post_id": "speed", "author": f"Reader {n}", "email": f"reader-{n}@example.org",
                          "content": text, "original": text, "ip": f"198.51.{n // 250 % 250}.{n % 250 + 1}",
                          "user_agent": "bench", "signals": {"token": "valid", "age": 30.0}}
                ids.append(store.insert_comment(conn, values, status.PENDING))
        started = time.process_time()
        while relay.relay(get_engine(), queue.get_queue(), app.config["JOB_TIMEOUT"]):
            pass
        relay_ms = 1000 * (time.process_time() - started) / len(ids)
    return ids, relay_ms


def children_cpu() -> float:
    """CPU seconds of the child processes this process has waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def memory_mb(pid: int) -> tuple[float, float] | None:
    """(VmRSS, VmHWM) of a live process in MB, None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    if "VmRSS" not in fields:
        return None
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def burst(env: dict[str, str]) -> tuple[float, float, float]:
    """Run `comments worker --burst` to the end of the queue: (largest VmRSS, VmHWM) seen while it worked,
    and the CPU seconds it used."""
    cpu = children_cpu()
    process = subprocess.Popen([sys.executable, "-m", "service", "worker", "--burst"], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    rss = hwm = 0.0
    try:
        while process.poll() is None:
            if sample := memory_mb(process.pid):
                rss, hwm = max(rss, sample[0]), max(hwm, sample[1])
            try:
                process.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
    if process.returncode != 0:
        raise RuntimeError(f"comments worker --burst exited with {process.returncode}")
    return rss, hwm, children_cpu() - cpu


def span(stamps: list[datetime]) -> float:
    """Jobs per second between the first and the last of n completions: (n - 1) intervals."""
    stamps = sorted(stamps)
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]).total_seconds()


def verdict_times(app: Flask, ids: list[int]) -> list[datetime]:
    with app.app_context(), get_engine().connect() as conn:
        query = select(status_changes.c.created_at).where(status_changes.c.comment_id.in_(ids),
                                                          status_changes.c.actor == store.SPAM_CHECK)
        stamps = [store.as_utc(t) for t in conn.execute(query).scalars()]
    if len(stamps) != len(ids):
        raise RuntimeError(f"{len(ids) - len(stamps)} comments got no verdict")
    return stamps


def ended_times(connection: Any, job_ids: list[str]) -> list[datetime]:
    jobs = Job.fetch_many(job_ids, connection=connection, serializer=JSONSerializer)
    return [job.ended_at for job in jobs if job is not None and job.ended_at is not None]


def timed(run: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of run()."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    run()
    return time.perf_counter() - wall, cpu_seconds() - cpu


def rq_class(app: Flask, worker_class: type[Worker], n: int) -> tuple[float, float]:
    """Empty jobs through one of RQ's worker classes: (jobs per second, ms CPU per job)."""
    connection = queue.connect(app.config["REDIS_URL"])
    jobs = Queue("speed-empty", connection=connection, serializer=JSONSerializer)
    for i in range(n):
        jobs.enqueue(EMPTY_JOB, i, result_ttl=60)
    worker = worker_class([jobs], connection=connection, serializer=JSONSerializer)
    wall, cpu = timed(lambda: worker.work(burst=True, with_scheduler=False, logging_level="WARNING"))
    return n / wall, 1000 * cpu / n


def profile(app: Flask, texts: list[str], offset: int) -> None:
    """cProfile of N checks drained in this process by the SweepingWorker `comments worker` runs."""
    with app.app_context():
        model.current(app.config)
    preload(app, texts, offset)
    profiler = cProfile.Profile()
    with app.app_context():
        worker = make_worker(app)
        profiler.runcall(worker.work, burst=True, with_scheduler=False, logging_level="WARNING")
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"cProfile, {len(texts)} checks in-process: {1000 * total / len(texts):.2f} ms profiled per check")
    wanted = ("check_comment", "run_checks", "reputation.py:", "bursts.py:", "content.py:", "links.py:",
              "word_lists.py:", "form_traps.py:", "set_verdict", "get_comment", "model.py:", "spam_probability",
              "execute_job", "dequeue_job_and_maintain_ttl", "handle_job_success", "perform_job", "commit",
              "_execute_context", "do_execute", "_compile_w_cache", "coercions.py", "sqlite3.Connection")
    rows = []
    for (filename, line, name), (_, calls, _tt, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        label = f"{Path(filename).name}:{line}({name})"
        if any(w in label for w in wanted):
            rows.append((cumulative, calls, label))
    seen = set()
    for cumulative, calls, label in sorted(rows, reverse=True)[:30]:
        if label not in seen:
            seen.add(label)
            print(f"  {100 * cumulative / total:5.1f} %  {calls / len(texts):6.1f} calls/check  {label}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--comments", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="also cProfile the checks in-process")
    parser.add_argument("--one-sender", action="store_true",
                        help="every comment from one address and email, as in a flood (rounds add up)")
    args = parser.parse_args()
    samples = list(bundled_samples())
    texts = [samples[(i * 7) % len(samples)].text for i in range(args.comments)]
    n = len(texts)
    with tempfile.TemporaryDirectory() as tmp, private_redis() as redis_url:
        database, model_path = Path(tmp) / "comments.sqlite3", Path(tmp) / "classifier.joblib"
        upgrade(f"sqlite:///{database}")
        train(samples).save(model_path)
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "REDIS_URL": redis_url,
               "COMMENTS_SECRET_KEY": secrets.token_urlsafe(32), "COMMENTS_MODEL_PATH": str(model_path),
               "COMMENTS_MODERATION": "auto"}
        app = create_app({"DATABASE_URL": env["DATABASE_URL"], "REDIS_URL": redis_url, "MODEL_PATH": str(model_path),
                          "SECRET_KEY": env["COMMENTS_SECRET_KEY"], "MODERATION": "auto"})
        connection = queue.connect(redis_url)
        checks, check_ends, empties, memory, offset = [], [], [], [], 0
        idle, check_cpu, empty_cpu, relay_cpu = [], [], [], []
        for r in range(args.rounds):
            idle.append(burst(env)[2])  # start-up, model load and shut-down with nothing to do
            ids, relay_ms = preload(app, texts, offset, args.one_sender)
            relay_cpu.append(relay_ms)
            offset += n
            memory.append(burst(env))
            check_cpu.append(memory[-1][2])
            checks.append(span(verdict_times(app, ids)))
            check_ends.append(span(ended_times(connection, [queue.job_id(i) for i in ids])))
            jobs = queue.make_queue(connection)
            empty_ids = [jobs.enqueue(EMPTY_JOB, i, result_ttl=600, job_id=f"empty-{r}-{i}").id for i in range(n)]
            empty_cpu.append(burst(env)[2])
            empties.append(span(ended_times(connection, empty_ids)))
        rate, empty_rate = statistics.median(checks), statistics.median(empties)
        rss, hwm = max(m[0] for m in memory), max(m[1] for m in memory)
        base = statistics.median(idle)
        cpu_check = 1000 * (statistics.median(check_cpu) - base) / n
        cpu_empty = 1000 * (statistics.median(empty_cpu) - base) / n
        print(f"one `comments worker --burst` process, {n} jobs x {args.rounds} rounds, first to last completion:")
        print(f"  spam checks: {rate:7.1f} per second ({1000 / rate:.2f} ms per check; rounds "
              f"{', '.join(f'{c:.0f}' for c in checks)}); by RQ's ended_at {statistics.median(check_ends):.1f}/s")
        print(f"  empty jobs:  {empty_rate:7.1f} per second ({1000 / empty_rate:.2f} ms per job; rounds "
              f"{', '.join(f'{c:.0f}' for c in empties)})")
        print(f"  ratio check/empty job time: {empty_rate / rate:.2f}; a check's own work "
              f"{1000 / rate - 1000 / empty_rate:.2f} ms")
        print(f"  worker CPU per job (its CPU minus an idle start-up's {base:.2f} s): check {cpu_check:.2f} ms, "
              f"empty job {cpu_empty:.2f} ms; one core's worth: {1000 / cpu_check:.0f} checks/s, "
              f"{1000 / cpu_empty:.0f} empty jobs/s")
        print(f"  the relay that enqueued the checks (in a worker's thread, before a job is fetched): "
              f"{statistics.median(relay_cpu):.2f} ms CPU per comment")
        print(f"  goal >= {GOAL:g} checks/s: {'PASS' if rate >= GOAL else 'FAIL'}")
        print(f"  worker VmRSS while working, model loaded: {rss:.0f} MB (peak VmHWM {hwm:.0f} MB); "
              f"goal <= {MEMORY_GOAL_MB:g} MB: {'PASS' if rss <= MEMORY_GOAL_MB else 'FAIL'}")
        fork_rate, fork_cpu = rq_class(app, Worker, 200)
        simple_rate, simple_cpu = rq_class(app, SimpleWorker, 200)
        print("RQ worker classes in this process, 200 empty jobs each:")
        print(f"  Worker (forks a work horse per job): {fork_rate:7.1f} jobs/s, {fork_cpu:.2f} ms CPU per job")
        print(f"  SimpleWorker (runs jobs in-process): {simple_rate:7.1f} jobs/s, {simple_cpu:.2f} ms CPU per job")
        print(f"  ratio Worker/SimpleWorker CPU per job: {fork_cpu / simple_cpu:.1f}")
        if args.profile:
            profile(app, texts, offset)


if __name__ == "__main__":
    main()
