"""The RQ job: load the comment, run the checks, write the verdict. Safe to run twice."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from rq.job import Job

from service import queue, status, store
from service.db import get_engine

from . import model, notify
from .checks.context import Context
from .verdict import decide

logger = logging.getLogger(__name__)


def check_comment(comment_id: int) -> str:
    """Decide one pending comment; one that already has a verdict (or is gone) is left alone."""
    engine = get_engine()
    config = current_app.config
    with engine.connect() as conn:
        comment = store.get_comment(conn, comment_id)
        if comment is None or comment["status"] != status.PENDING:
            logger.info("comment %s needs no check (already decided or deleted)", comment_id)
            return "skipped"
        ctx = Context(dict(comment), conn, config, classifier=model.current(config))
        verdict, score, findings = decide(ctx, model.policy(conn, config))
    with engine.begin() as conn:
        written = store.set_verdict(conn, comment_id, verdict, score, findings, store.SPAM_CHECK,
                                    comment["content_hash"])
        if written and verdict == status.APPROVED and comment["parent_id"] is not None:
            store.note_reply(conn, comment_id)
    logger.info("comment %s: %s (score %.2f)%s", comment_id, verdict, score, "" if written else ", lost a race")
    if written and (verdict == status.HELD or (verdict == status.APPROVED and config["NOTIFY_ON"] == "all")):
        notify.enqueue(queue.get_redis(), comment_id, verdict)
    return verdict if written else "skipped"


def on_failure(job: Job, connection: Any, exc_type: type, exc_value: BaseException, traceback: Any) -> None:
    """After the last retry, hold the comment with the error as its reason: never lost, never approved."""
    if job.retries_left:
        return
    comment_id = int(job.args[0])
    reason = f"spam check failed: {exc_type.__name__}: {exc_value}"[:500]
    finding = {"check": "error", "score": 0.0, "reason": reason}
    with get_engine().begin() as conn:
        written = store.set_verdict(conn, comment_id, status.HELD, 0.0, [finding], store.SPAM_CHECK)
    logger.error("comment %s held: %s", comment_id, reason)
    if written:
        notify.enqueue(connection, comment_id)
