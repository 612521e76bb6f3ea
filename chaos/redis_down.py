"""Redis down mid-stream: submissions keep answering 202, stay pending, and get verdicts once Redis is back."""

from __future__ import annotations

import secrets
import threading
from itertools import count

from .harness import Client, RedisServer, Report, body, codes, folder, sqlite_url, stack, verify_verdicts, wait_for

POST_ID = "chaos-redis-down"
BEFORE, DURING = 100, 200
"""Answers before Redis is stopped, and answers while it is down."""
VERDICT_TIMEOUT = 120.0


def run(report: Report, model_path: str) -> None:
    tag = secrets.token_hex(4)
    with folder() as tmp:
        redis_server = RedisServer(tmp)
        redis_server.start()
        try:
            with stack(redis_server.url, sqlite_url(tmp), model_path, COMMENTS_SWEEP_SECONDS="2") as service:
                service.upgrade()
                web = service.web()
                worker = service.worker()
                client, stop = Client(web.base_url), threading.Event()
                payloads = (body(POST_ID, n, tag) for n in count())
                stream = threading.Thread(target=client.stream, args=(payloads, stop.is_set))
                stream.start()
                try:
                    wait_for(lambda: len(client.answers) >= BEFORE, 60)
                    redis_server.stop()
                    first_down = len(client.answers) + 1  # the comment in flight may have been relayed already
                    report.say(f"redis-server stopped (SIGTERM by PID) after {first_down - 1} answers")
                    wait_for(lambda: len(client.answers) >= first_down + DURING, 60)
                finally:
                    stop.set()
                    stream.join()
                down = client.answers[first_down:]
                report.say(f"{len(client.answers)} submissions in all, {len(down)} of them while Redis was down; "
                           f"answers {dict(codes(client.answers))}; slowest {max(a.seconds for a in down):.2f} s")
                report.check("every submission answered 202", codes(client.answers)[202] == len(client.answers),
                             f"{dict(codes(client.answers))}")
                down_ids = {a.comment_id for a in down if a.comment_id}
                held = service.pending_among(down_ids)
                report.check("comments taken while Redis was down stay pending", held == len(down_ids),
                             f"{held} of {len(down_ids)} pending")
                redis_server.start()
                report.say(f"redis-server started again, empty, on the same port; nobody acts; "
                           f"worker alive: {worker.process is not None and worker.process.poll() is None}")
                waited = wait_for(lambda: service.pending(POST_ID) == 0 and service.queue_length() == 0,
                                  VERDICT_TIMEOUT)
                report.check(f"every pending comment decided within {VERDICT_TIMEOUT:.0f} s of Redis' return",
                             waited is not None, f"{waited:.1f} s" if waited is not None else
                             f"{service.pending(POST_ID)} still pending")
                report.check("the worker survived the outage",
                             worker.process is not None and worker.process.poll() is None)
                accepted = {a.comment_id for a in client.answers if a.comment_id}
                verify_verdicts(report, service.engine, POST_ID, accepted)
        finally:
            redis_server.stop()
