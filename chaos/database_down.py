"""Database down: PostgreSQL stopped mid-stream answers quick 503s, writes nothing half; back, all is decided.

Every answer while it is down is a 503 with Retry-After within the client's timeout; after it returns,
submissions succeed again and every pending comment gets its verdict.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import time
from itertools import count

from bench.load import private_redis

from .harness import (
    CLIENT_TIMEOUT,
    Answer,
    Client,
    Postgres,
    Report,
    body,
    codes,
    folder,
    scalar,
    stack,
    verify_verdicts,
    wait_for,
)

POST_ID = "chaos-database-down"
BEFORE, DURING, AFTER = 100, 100, 100
"""Answers before PostgreSQL is stopped, while it is down, and after it is back."""
VERDICT_TIMEOUT = 120.0


def stream(client: Client, tag: str, numbers: count, answers: int) -> list[Answer]:  # type: ignore[type-arg]
    """Post until `answers` more answers have come, on a thread, so the caller can act in between."""
    first = len(client.answers)
    return client.stream((body(POST_ID, n, tag) for n in numbers), lambda: len(client.answers) - first >= answers)


def run(report: Report, model_path: str) -> None:
    tag, numbers = secrets.token_hex(4), count()
    with folder() as tmp, private_redis() as redis_url:
        data = os.path.join(tmp, "pg")
        os.mkdir(data, 0o700)
        postgres = Postgres(data)
        postgres.init()
        postgres.start()
        try:
            with stack(redis_url, postgres.url, model_path, COMMENTS_SWEEP_SECONDS="2") as service:
                service.upgrade()
                web = service.web()
                worker = service.worker()
                client = Client(web.base_url, CLIENT_TIMEOUT)
                stop = threading.Event()
                thread = threading.Thread(target=client.stream,
                                          args=((body(POST_ID, n, tag) for n in numbers), stop.is_set))
                thread.start()
                try:
                    wait_for(lambda: len(client.answers) >= BEFORE, 60)
                    stopping = len(client.answers)
                    postgres.stop()
                    down = len(client.answers)
                    wait_for(lambda: len(client.answers) >= down + DURING, 60)
                finally:
                    stop.set()
                    thread.join()
                before, transition, outage = (client.answers[:stopping], client.answers[stopping:down + 1],
                                              client.answers[down + 1:])
                report.say(f"PostgreSQL stopped (pg_ctl stop -m fast) after {stopping} answers; "
                           f"{len(transition)} answers while it shut down, {len(outage)} while it was down")
                report.check("before: every submission answered 202", codes(before)[202] == len(before),
                             f"{dict(codes(before))}")
                report.check("while shutting down: only 202 or 503",
                             set(codes(transition)) <= {202, 503}, f"{dict(codes(transition))}")
                report.check("while down: every answer 503 with Retry-After",
                             all(a.code == 503 and a.retry_after for a in outage), f"{dict(codes(outage))}")
                slowest = max(a.seconds for a in client.answers)
                report.check(f"no answer slower than the client's {CLIENT_TIMEOUT:g} s (no hang)",
                             slowest < CLIENT_TIMEOUT, f"slowest {slowest:.2f} s")
                postgres.start()
                accepted = {a.comment_id for a in client.answers if a.comment_id}
                stored = scalar(service.engine, "SELECT count(*) FROM comments WHERE post_id = :p", p=POST_ID)
                intake = scalar(service.engine, "SELECT count(*) FROM status_changes s JOIN comments c "
                                "ON c.id = s.comment_id WHERE c.post_id = :p AND s.actor = 'intake'", p=POST_ID)
                report.check("after the restart: comments stored == submissions answered 202, each with its intake "
                             "audit row", stored == intake == len(accepted),
                             f"{len(accepted)} answered 202, {stored} comments, {intake} intake rows")
                started = time.monotonic()
                after = stream(client, tag, numbers, AFTER)
                report.check("after the restart: submissions answered 202 again", codes(after)[202] == len(after),
                             f"{dict(codes(after))}")
                waited = wait_for(lambda: service.pending(POST_ID) == 0 and service.queue_length() == 0,
                                  VERDICT_TIMEOUT)
                report.check(f"every pending comment decided within {VERDICT_TIMEOUT:.0f} s of the restart",
                             waited is not None, f"{time.monotonic() - started:.1f} s; "
                             f"{service.pending(POST_ID)} pending")
                report.check("the worker survived the outage",
                             worker.process is not None and worker.process.poll() is None)
                accepted = {a.comment_id for a in client.answers if a.comment_id}
                verify_verdicts(report, service.engine, POST_ID, accepted)
        finally:
            if postgres.running():
                postgres.stop()
            shutil.rmtree(data, ignore_errors=True)
