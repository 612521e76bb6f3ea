"""A worker SIGKILLed in the middle of a job (blocked inside its Akismet call): the comment still gets one verdict.

The job's timeout is the one it was enqueued with, and RQ 2.12's StartedJobRegistry gives a SimpleWorker's
job `timeout + 60` seconds before its cleanup calls it abandoned (the 60 is RQ's); so the web and the workers run
with COMMENTS_JOB_TIMEOUT=3 and the new worker runs maintenance every second. That cleanup calls the failure
callback (which leaves the comment alone while retries are left) and, the job having `Retry(max=5)`, schedules
it again rather than failing it; the sweeper is the net for a job with no retries left.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.load import private_redis
from service.queue import job_id
from tests.stubs.akismet import VALID_KEY

from .harness import Client, Report, body, folder, kill_tree, scalar, sqlite_url, stack, verify_verdicts, wait_for

POST_ID = "chaos-worker-kill"
VERDICT_TIMEOUT = 180.0


class BlockingAkismet:
    """Answers comment-check "false", except that the first call waits until `release` is set."""

    def __init__(self) -> None:
        self.received, self.release, self.calls = threading.Event(), threading.Event(), 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.calls += 1
                if self.path.endswith("comment-check") and not outer.received.is_set():
                    outer.received.set()
                    outer.release.wait(60)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    self.wfile.write(b"false" if self.path.endswith("comment-check") else b"Thanks.")
                except OSError:
                    pass  # the worker that asked was killed

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def __enter__(self) -> BlockingAkismet:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def run(report: Report, model_path: str) -> None:
    settings = {"COMMENTS_JOB_TIMEOUT": "3", "COMMENTS_AKISMET_KEY": VALID_KEY,
                "COMMENTS_AKISMET_BLOG": "https://blog.example"}
    with folder() as tmp, private_redis() as redis_url, BlockingAkismet() as akismet, \
            stack(redis_url, sqlite_url(tmp), model_path, COMMENTS_AKISMET_URL=akismet.url, **settings) as service:
        service.upgrade()
        web = service.web()
        first = service.worker()
        answer = Client(web.base_url).post(body(POST_ID, 1, secrets.token_hex(4)))
        report.check("the submission answered 202", answer.code == 202, f"{answer.code}")
        comment_id = answer.comment_id or 0
        report.check("the worker is inside its Akismet call", wait_for(akismet.received.is_set, 60) is not None)
        state = scalar(service.engine, "SELECT status FROM comments WHERE id = :i", i=comment_id)
        pids = kill_tree(first)
        killed_at = time.monotonic()
        akismet.release.set()
        report.say(f"comment {comment_id} was {state} mid-check; SIGKILLed the worker and its children "
                   f"({len(pids)} processes); a new worker starts with COMMENTS_SWEEP_SECONDS=1")
        log = os.path.join(tmp, "worker.log")
        service.worker(COMMENTS_SWEEP_SECONDS="1", log=log)
        waited = wait_for(lambda: service.pending(POST_ID) == 0 and service.queue_length() == 0, VERDICT_TIMEOUT)
        report.check(f"the comment got its verdict within {VERDICT_TIMEOUT:.0f} s of the kill", waited is not None,
                     f"{time.monotonic() - killed_at:.1f} s after the kill")
        with open(log, encoding="utf-8", errors="replace") as output:
            lines = output.read()
        runs = lines.count(f"Job OK ({job_id(comment_id)})")
        raised = lines.count(f"job {job_id(comment_id)}: exception raised while executing")
        swept = f"comment {comment_id} re-enqueued by the sweeper" in lines
        failed = "Moved to FailedJobRegistry" in lines
        retried = f"Job {job_id(comment_id)}: scheduled for retry" in lines
        report.say(f"Akismet was asked {akismet.calls} times; the new worker's log: abandoned job retried by RQ: "
                   f"{retried}, moved to failed: {failed}, re-enqueued by the sweeper: {swept}; "
                   f"job finished OK {runs} time(s), raised {raised} time(s) so far")
        if raised:
            # Not the criterion (one verdict, checked below) but worth a line: see docs/benchmarks.md.
            report.say("NOTE: after writing the verdict the re-run raised in RQ's job cleanup (result_ttl=0 deletes "
                       "the job, and RQ 2.12 fails on the dead worker's expired execution), so RQ retries it again")
        verify_verdicts(report, service.engine, POST_ID, {comment_id})

