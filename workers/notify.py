"""Emailing moderators when a comment is held for them, as WordPress's "moderation_notify" does.

One job per held comment on its own queue: a slow or unreachable mail server delays the email
(RQ retries with back-off) but never a verdict. The email is plain text, so nothing a commenter
wrote can render as markup in a mail client; their text is quoted line by line after the review
link, so it cannot pass for the notification's own words.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import time
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import redis
from flask import current_app
from rq import Callback, Queue, get_current_job
from rq.serializers import JSONSerializer

from service import queue, status, store
from service.config import SMTP_SCHEMES
from service.db import get_engine

logger = logging.getLogger(__name__)

JOB_FUNCTION = "workers.notify.notify_held"
MAX_PER_HOUR = 30
"""Emails per clock hour; past it, one email says notifications pause until the next hour."""
COUNTER = "comments:notify-count:{hour}"
SMTP_TIMEOUT = 10.0
_SPACES = re.compile(r"\s+")


def enqueue(connection: redis.Redis, comment_id: int) -> None:
    """Queue the email about a comment just held; Redis failing costs the email, never the verdict."""
    if not current_app.config.get("NOTIFY_EMAIL"):
        return
    try:
        Queue(queue.NOTIFY_QUEUE, connection=connection, serializer=JSONSerializer).enqueue(
            JOB_FUNCTION, comment_id, job_id=f"notify-{comment_id}", retry=queue.RETRY,
            result_ttl=queue.RESULT_TTL, failure_ttl=queue.FAILURE_TTL,
            on_failure=Callback("workers.notify.on_failure"), description=f"notify moderators of comment {comment_id}")
    except redis.RedisError as error:
        logger.warning("no notification for held comment %s: Redis unavailable (%s)", comment_id, error)


def notify_held(comment_id: int) -> str:
    """Email the moderators about one held comment, unless one of them has already decided it."""
    config = current_app.config
    with get_engine().connect() as conn:
        comment = store.get_comment(conn, comment_id)
    if comment is None or comment["status"] != status.HELD:
        return "already decided"
    job = get_current_job()
    assert job is not None, "runs as an RQ job"
    counter, sent = _count_this_hour(job.connection)
    if sent > MAX_PER_HOUR + 1:
        return "paused"
    message = _paused(config) if sent == MAX_PER_HOUR + 1 else held_message(dict(comment), config)
    try:
        send(config, message)
    except Exception:
        job.connection.decr(counter)  # the retry counts it again
        raise
    logger.info("moderators notified of comment %s%s", comment_id, "" if sent <= MAX_PER_HOUR else " (paused)")
    return "sent"


def on_failure(job: Any, connection: Any, exc_type: type, exc_value: BaseException, traceback: Any) -> None:
    """After the last retry: the comment still waits in the held queue; say why no email came."""
    if not job.retries_left:
        logger.error("no notification for held comment %s: %s: %s", job.args[0], exc_type.__name__, exc_value)


def _count_this_hour(connection: redis.Redis) -> tuple[str, int]:
    """This hour's counter and the number of emails it now holds, this one included."""
    key = COUNTER.format(hour=int(time.time() // 3600))
    with connection.pipeline() as pipe:
        pipe.incr(key)
        pipe.expire(key, 3600)
        count, _ = pipe.execute()
    return key, int(count)


def _line(value: Any) -> str:
    """One line of a header or a field: a newline in a name must not forge a line of the email."""
    return _SPACES.sub(" ", str(value or "")).strip() or "-"


def held_message(comment: dict[str, Any], config: Any) -> EmailMessage:
    """The email about one held comment: who, why, the review link, then the comment quoted."""
    query = urlencode({"status": status.HELD, "post_id": comment["post_id"]})
    reasons = [f"  - {_line(found['reason'])}" for found in comment["reasons"] or [] if found.get("reason")]
    lines = [
        f"A comment on post {_line(comment['post_id'])} is held for a moderator.",
        "",
        f"Review it: {config['BASE_URL']}/admin/?{query}#c{comment['id']}",
        "",
        f"Author:  {_line(comment['author'])}",
        f"Email:   {_line(comment['email'])}",
        f"Website: {_line(comment['url'])}",
        f"Address: {_line(comment['ip'])}",
        f"Page:    {_line(comment['referrer'])}",
        f"Score:   {comment['spam_score'] or 0:.2f}",
        "Why it is held:",
        *(reasons or ["  - no reason recorded"]),
        "",
        "The comment as submitted:",
        "",
        *(f"> {line}" for line in comment["original"].splitlines()),
    ]
    return _message(config, f"Comment awaiting moderation on {_line(comment['post_id'])[:80]}", "\n".join(lines))


def _paused(config: Any) -> EmailMessage:
    text = (f"More than {MAX_PER_HOUR} comments were held this hour, so notifications pause until the next one.\n"
            f"Every held comment waits in the queue: {config['BASE_URL']}/admin/?status={status.HELD}\n")
    return _message(config, "Many comments awaiting moderation", text)


def _message(config: Any, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config["NOTIFY_FROM"]
    message["To"] = ", ".join(config["NOTIFY_EMAIL"])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    return message


def send(config: Any, message: EmailMessage) -> None:
    """Deliver through COMMENTS_SMTP_URL; any error raises, so RQ retries with back-off."""
    parts = urlsplit(config["SMTP_URL"])
    port = parts.port or SMTP_SCHEMES[parts.scheme]
    context = ssl.create_default_context()
    client = (smtplib.SMTP_SSL(parts.hostname, port, timeout=SMTP_TIMEOUT, context=context)
              if parts.scheme == "smtps" else smtplib.SMTP(parts.hostname, port, timeout=SMTP_TIMEOUT))
    with client:
        if parts.scheme == "smtp+starttls":
            client.starttls(context=context)
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)
