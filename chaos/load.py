"""Load: 20,000 submissions at 32 clients with two workers; each stored once with one verdict, no 5xx, queue empty."""

from __future__ import annotations

import multiprocessing
import os
import secrets
import statistics
import threading
import time
from collections import Counter
from typing import Any

from bench.load import private_redis

from .harness import Answer, Client, Report, body, folder, scalar, sqlite_url, stack, verify_verdicts, wait_for

SUBMISSIONS = int(os.environ.get("CHAOS_LOAD_SUBMISSIONS", "20000"))
"""The issue asks for at least 20,000; a smaller number is for trying the scenario out only."""
CLIENTS = 32
PROCESSES = 4
"""Client processes, each running CLIENTS / PROCESSES threads, so the load is not held by one GIL."""
CLIENT_TIMEOUT = 30.0
POST_ID = "chaos-load"
VERDICT_TIMEOUT = 900.0


def _clients(base_url: str, shares: list[list[bytes]], barrier: Any, results: Any) -> None:
    """One client process: a thread per share, each with its own keep-alive connection recording answers."""
    clients = [Client(base_url, CLIENT_TIMEOUT) for _ in shares]
    threads = [threading.Thread(target=client.stream, args=(share, lambda: False))
               for client, share in zip(clients, shares, strict=True)]
    barrier.wait()
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((started, time.monotonic(), [(a.code, a.comment_id, a.seconds) for c in clients for a in c.answers]))


def submit_all(base_url: str, payloads: list[bytes], clients: int) -> tuple[list[Answer], float]:
    """POST every payload over `clients` concurrent connections; every answer (with its comment id) and the seconds."""
    shares = [payloads[n::clients] for n in range(clients)]
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(PROCESSES + 1), context.Queue()
    processes = [context.Process(target=_clients, args=(base_url, shares[n::PROCESSES], barrier, results))
                 for n in range(PROCESSES)]
    for process in processes:
        process.start()
    barrier.wait()
    collected = [results.get(timeout=1800) for _ in processes]
    for process in processes:
        process.join()
    seconds = max(end for _, end, _ in collected) - min(start for start, _, _ in collected)
    return [Answer(code, comment_id, None, s) for _, _, out in collected for code, comment_id, s in out], seconds


def run(report: Report, model_path: str) -> None:
    tag = secrets.token_hex(4)
    payloads = [body(POST_ID, n, tag) for n in range(SUBMISSIONS)]
    with folder() as tmp, private_redis() as redis_url, stack(redis_url, sqlite_url(tmp), model_path) as service:
        service.upgrade()
        web = service.web()
        service.worker()
        service.worker()
        report.say(f"{SUBMISSIONS} submissions (unique text each) at {CLIENTS} keep-alive clients in {PROCESSES} "
                   "processes; SQLite, nh3, `comments serve` with 2 workers, 2 `comments worker`")
        answers, seconds = submit_all(web.base_url, payloads, CLIENTS)
        posted = time.monotonic()
        codes = Counter(a.code for a in answers)
        latencies = sorted(a.seconds * 1000 for a in answers)
        report.say(f"posted in {seconds:.1f} s = {SUBMISSIONS / seconds:.0f} req/s; p50 "
                   f"{statistics.median(latencies):.1f} ms, p99 {latencies[int(0.99 * (len(latencies) - 1))]:.1f} ms, "
                   f"slowest {latencies[-1]:.0f} ms")
        other_4xx = sum(n for code, n in codes.items() if 400 <= code < 500)
        fivexx = sum(n for code, n in codes.items() if code >= 500)
        report.say(f"answers: {codes[202]} 202, {other_4xx} 4xx, {fivexx} 5xx, {codes[0]} connection errors")
        decided = scalar(service.engine, "SELECT count(*) FROM comments WHERE post_id = :p AND status <> 'pending'",
                         p=POST_ID)
        report.say(f"{decided} already had a verdict when the last answer came")
        waited = wait_for(lambda: service.pending(POST_ID) == 0 and service.queue_length() == 0, VERDICT_TIMEOUT)
        if waited is not None:
            total = time.monotonic() - posted + seconds
            report.say(f"every verdict {waited:.1f} s after the last answer ({total:.1f} s after the first "
                       f"submission: {SUBMISSIONS / total:.0f} verdicts/s end to end)")
        report.check(f"no pending comment and an empty queue (queued + started) within {VERDICT_TIMEOUT:.0f} s",
                     waited is not None, f"{service.pending(POST_ID)} pending, {service.queue_length()} queued/started")
        report.check("no 5xx answered", fivexx == 0, f"{fivexx} 5xx")
        report.check("every submission answered 202", codes[202] == SUBMISSIONS, f"{codes[202]} of {SUBMISSIONS}")
        ids = [a.comment_id for a in answers if a.code == 202 and a.comment_id]
        report.check("every 202 carried its own comment id", len(ids) == len(set(ids)) == codes[202],
                     f"{len(ids)} ids, {len(set(ids))} distinct")
        verify_verdicts(report, service.engine, POST_ID, set(ids))
