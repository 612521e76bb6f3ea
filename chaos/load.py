"""Load: 20,000 submissions at 32 clients with two workers; each stored once with one verdict, no 5xx, queue empty."""

from __future__ import annotations

import json
import os
import secrets
import time

from sqlalchemy import text

from bench.load import private_redis, run_load

from .harness import Report, body, folder, scalar, sqlite_url, stack, verify_verdicts, wait_for

SUBMISSIONS = int(os.environ.get("CHAOS_LOAD_SUBMISSIONS", "20000"))
"""The issue asks for at least 20,000; a smaller number is for trying the scenario out only."""
CLIENTS = 32
POST_ID = "chaos-load"
VERDICT_TIMEOUT = 600.0


def run(report: Report, model_path: str) -> None:
    tag = secrets.token_hex(4)
    work = [("/comments", body(POST_ID, n, tag)) for n in range(SUBMISSIONS)]
    with folder() as tmp, private_redis() as redis_url, stack(redis_url, sqlite_url(tmp), model_path) as service:
        service.upgrade()
        web = service.web()
        service.worker()
        service.worker()
        report.say(f"{SUBMISSIONS} submissions (unique text each) at {CLIENTS} clients; SQLite, 2 web processes, "
                   "2 `comments worker`")
        result = run_load(web.base_url, work, CLIENTS)
        posted = time.monotonic()
        rate = SUBMISSIONS / result["seconds"]
        report.say(f"posted in {result['seconds']:.1f} s = {rate:.0f} req/s; p50 {result['p50']:.1f} ms, "
                   f"p99 {result['p99']:.1f} ms; answers {dict(result['codes'])}")
        decided = scalar(service.engine, "SELECT count(*) FROM comments WHERE post_id = :p AND status <> 'pending'",
                         p=POST_ID)
        report.say(f"{decided} already had a verdict when the last answer came")
        waited = wait_for(lambda: service.pending(POST_ID) == 0 and service.queue_length() == 0, VERDICT_TIMEOUT)
        if waited is not None:
            total = time.monotonic() - posted + result["seconds"]
            report.say(f"every verdict {waited:.1f} s after the last answer ({total:.1f} s after the first "
                       f"submission: {SUBMISSIONS / total:.0f} verdicts/s end to end)")
        report.check(f"no pending comment and an empty queue within {VERDICT_TIMEOUT:.0f} s", waited is not None,
                     f"{service.pending(POST_ID)} pending, {service.queue_length()} queued")
        fivexx = sum(n for code, n in result["codes"].items() if code >= 500)
        report.check("no 5xx answered", fivexx == 0, f"{fivexx} 5xx")
        accepted = result["codes"][202]
        report.check("every submission answered 202", accepted == SUBMISSIONS, f"{accepted} of {SUBMISSIONS}")
        # run_load keeps codes, not bodies: with every answer a 202 and every text unique, the stored ids are
        # exactly the ids answered 202 when the stored texts are exactly the texts sent, once each.
        with service.engine.connect() as conn:
            found = conn.execute(text("SELECT id, original FROM comments WHERE post_id = :p"), {"p": POST_ID})
            stored = {row.original: row.id for row in found}
        sent = {json.loads(payload)["comment"] for _, payload in work}
        report.check("stored texts == texts sent", set(stored) == sent,
                     f"{len(sent - set(stored))} missing, {len(set(stored) - sent)} unexpected")
        verify_verdicts(report, service.engine, POST_ID, set(stored.values()) if accepted == SUBMISSIONS else set())
