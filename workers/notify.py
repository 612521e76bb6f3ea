"""Emails: moderators about a held comment (WordPress's "moderation_notify"), commenters about replies.

One job per email on its own queue: a slow or unreachable mail server delays the email (RQ retries
with back-off) but never a verdict. The email is plain text, so nothing a commenter wrote can render
as markup in a mail client; their text is quoted line by line after the notification's own lines,
so it cannot pass for them.

Reply emails go to commenters who ticked `notify_replies`. The approval that makes one due writes
it to the `reply_notices` outbox in its own transaction (store.note_reply); the worker's maintenance
queues what is due, so a Redis outage delays an email and never loses one.
"""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import ssl
import time
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import redis
from flask import current_app
from rq import Callback, Queue, get_current_job
from rq.exceptions import DuplicateJobError
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import Engine, func, select, update

from service import queue, status, store
from service.config import SMTP_SCHEMES
from service.db import get_engine
from service.public import link_on_site
from service.replies import CONFIRM, UNSUBSCRIBE, set_subscriber, token
from service.schema import comments, reply_notices, reply_subscribers

logger = logging.getLogger(__name__)

JOB_FUNCTION = "workers.notify.notify_held"
MAX_PER_HOUR = 30
"""Emails per clock hour; past it, one email says notifications pause until the next hour."""
COUNTER = "comments:notify-count:{hour}"
SMTP_TIMEOUT = 10.0
_SPACES = re.compile(r"\s+")


def enqueue(connection: redis.Redis, comment_id: int, state: str = status.HELD) -> None:
    """Queue the email about a comment just held (or approved); Redis failing costs the email, never the verdict."""
    if not current_app.config.get("NOTIFY_EMAIL"):
        return
    try:
        Queue(queue.NOTIFY_QUEUE, connection=connection, serializer=JSONSerializer).enqueue(
            JOB_FUNCTION, comment_id, state, job_id=f"notify-{comment_id}", retry=queue.RETRY,
            result_ttl=queue.RESULT_TTL, failure_ttl=queue.FAILURE_TTL,
            on_failure=Callback("workers.notify.on_failure"), description=f"notify moderators of comment {comment_id}")
    except redis.RedisError as error:
        logger.warning("no notification for %s comment %s: Redis unavailable (%s)", state, comment_id, error)


def notify_held(comment_id: int, state: str = status.HELD) -> str:
    """Email the moderators about one held (or approved) comment, unless a moderator has moved it since."""
    config = current_app.config
    with get_engine().connect() as conn:
        comment = store.get_comment(conn, comment_id)
    if comment is None or comment["status"] != state:
        return "already decided"
    job = get_current_job()
    assert job is not None, "runs as an RQ job"
    counter, sent = _count_this_hour(job.connection)
    if sent > MAX_PER_HOUR + 1:
        return "paused"
    message = _paused(config) if sent == MAX_PER_HOUR + 1 else held_message(dict(comment), config, state)
    try:
        send(config, message)
    except Exception:
        job.connection.decr(counter)  # the retry counts it again
        raise
    logger.info("moderators notified of comment %s%s", comment_id, "" if sent <= MAX_PER_HOUR else " (paused)")
    return "sent"


def on_failure(job: Any, connection: Any, exc_type: type, exc_value: BaseException, traceback: Any) -> None:
    """After the last retry: the comment is in the review queue all the same; say why no email came."""
    if not job.retries_left:
        logger.error("no notification for comment %s: %s: %s", job.args[0], exc_type.__name__, exc_value)


def _count_this_hour(connection: redis.Redis, counter: str = COUNTER) -> tuple[str, int]:
    """This hour's counter and the number of emails it now holds, this one included."""
    key = counter.format(hour=int(time.time() // 3600))
    with connection.pipeline() as pipe:
        pipe.incr(key)
        pipe.expire(key, 3600)
        count, _ = pipe.execute()
    return key, int(count)


def _line(value: Any) -> str:
    """One line of a header or a field: a newline in a name must not forge a line of the email."""
    return _SPACES.sub(" ", str(value or "")).strip() or "-"


def held_message(comment: dict[str, Any], config: Any, state: str = status.HELD) -> EmailMessage:
    """The email about one held (or approved) comment: who, why, the review link, then the comment quoted."""
    held = state == status.HELD
    query = urlencode({"status": state, "post_id": comment["post_id"]})
    reasons = [f"  - {_line(found['reason'])}" for found in comment["reasons"] or [] if found.get("reason")]
    post = _line(comment["post_id"])
    lines = [
        f"A comment on post {post} is held for a moderator." if held else f"A new comment on post {post} is published.",
        "",
        f"Review it: {config['BASE_URL']}/admin/?{query}#c{comment['id']}",
        "",
        f"Author:  {_line(comment['author'])}",
        f"Email:   {_line(comment['email'])}",
        f"Website: {_line(comment['url'])}",
        f"Address: {_line(comment['ip'])}",
        f"Page:    {_line(comment['referrer'])}",
        f"Score:   {comment['spam_score'] or 0:.2f}",
        "Why it is held:" if held else "Why the spam check approved it:",
        *(reasons or ["  - no reason recorded"]),
        "",
        "The comment as submitted:",
        "",
        *(f"> {line}" for line in comment["original"].splitlines()),
    ]
    subject = f"Comment awaiting moderation on {post[:80]}" if held else f"New comment on {post[:80]}"
    return _message(config, subject, "\n".join(lines))


def _paused(config: Any) -> EmailMessage:
    text = (f"More than {MAX_PER_HOUR} comments were held this hour, so notifications pause until the next one.\n"
            f"Every held comment waits in the queue: {config['BASE_URL']}/admin/?status={status.HELD}\n")
    return _message(config, "Many comments awaiting moderation", text)


def _message(config: Any, subject: str, text: str, to: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config["NOTIFY_FROM"]
    message["To"] = to or ", ".join(config["NOTIFY_EMAIL"])
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


# Replies ------------------------------------------------------------------------------------------------

REPLY_FUNCTION = "workers.notify.notify_reply"
REPLIES_PER_HOUR = 10
"""Reply emails per recipient and clock hour; past it they are dropped (outcome 'capped'): a thread
that takes off must not flood one commenter's inbox."""
REPLY_COUNTER = "comments:reply-count:{recipient}:{{hour}}"
ASK_EVERY = timedelta(days=7)
"""At most one confirmation email per unconfirmed address this often: ignoring one is enough."""
STALE_AFTER = timedelta(days=2)
"""A reply email not sent within this long (reply emails were off, the mail server down) is dropped."""
_PARENT = comments.alias("parent")


def enqueue_replies(connection: redis.Redis, engine: Engine, config: Any) -> int:
    """Queue an email for every reply notice not yet done; one with a live job is left alone."""
    if not config.get("REPLY_NOTIFY"):
        return 0
    with engine.connect() as conn:
        query = select(reply_notices.c.comment_id).where(reply_notices.c.done_at.is_(None))
        due = list(conn.execute(query.order_by(reply_notices.c.created_at).limit(500)).scalars())
    notices = Queue(queue.NOTIFY_QUEUE, connection=connection, serializer=JSONSerializer)
    ids = [f"notify-reply-{comment_id}" for comment_id in due]
    queued = 0
    jobs = Job.fetch_many(ids, connection=connection, serializer=JSONSerializer)
    for comment_id, job_id, job in zip(due, ids, jobs, strict=True):
        if not queue.clear_finished(job):  # a finished one: the notice was reopened by a confirmation
            continue
        try:
            notices.enqueue(
                REPLY_FUNCTION, comment_id, job_id=job_id, unique=True, retry=queue.RETRY,
                result_ttl=queue.RESULT_TTL, failure_ttl=queue.FAILURE_TTL,
                on_failure=Callback("workers.notify.on_reply_failure"), description=f"email about reply {comment_id}")
            queued += 1
        except DuplicateJobError:  # another worker's sweep queued it a moment ago
            continue
    return queued


def notify_reply(comment_id: int) -> str:
    """Email the parent's author about one approved reply, unless that is no longer wanted; returns the outcome."""
    config = current_app.config
    with get_engine().connect() as conn:
        found = conn.execute(_reply_query(comment_id)).mappings().first()
    if found is None:
        return "gone"
    outcome = _why_not(found, config)
    if outcome is None:
        outcome = _deliver(dict(found), config)
    _done(comment_id, outcome)
    logger.info("reply %s: email to the parent's author %s", comment_id, outcome)
    return outcome


def _deliver(found: dict[str, Any], config: Any) -> str:
    """The reply email to a confirmed address; to another, a confirmation email, at most one a week."""
    address = found["parent_email"].lower()
    confirmed = found["confirmed_at"] is not None
    asked = found["asked_at"]
    if not confirmed and asked is not None and store.utcnow() - store.as_utc(asked) < ASK_EVERY:
        return "unconfirmed"
    job = get_current_job()
    assert job is not None, "runs as an RQ job"
    recipient = hashlib.sha256(address.encode()).hexdigest()[:24]  # no address in Redis
    counter, sent = _count_this_hour(job.connection, REPLY_COUNTER.format(recipient=recipient))
    if sent > REPLIES_PER_HOUR:
        return "capped"
    try:
        send(config, reply_message(found, config) if confirmed else confirmation_message(found, config))
    except Exception:
        job.connection.decr(counter)
        raise
    if confirmed:
        return "sent"
    with get_engine().begin() as conn:
        set_subscriber(conn, address, asked_at=store.utcnow())
    return "confirmation sent"


def on_reply_failure(job: Any, connection: Any, exc_type: type, exc_value: BaseException, traceback: Any) -> None:
    """After the last retry the notice is done, failed: maintenance does not queue it again."""
    if not job.retries_left:
        _done(int(job.args[0]), "failed")
        logger.error("no email about reply %s: %s: %s", job.args[0], exc_type.__name__, exc_value)


def _reply_query(comment_id: int) -> Any:
    reply = comments
    return (
        select(reply.c.id, reply.c.post_id, reply.c.author, reply.c.original, reply.c.status, reply.c.referrer,
               reply_notices.c.created_at.label("due_since"), _PARENT.c.id.label("parent_id"),
               _PARENT.c.email.label("parent_email"), _PARENT.c.status.label("parent_status"),
               _PARENT.c.notify_replies, _PARENT.c.referrer.label("parent_referrer"),
               _PARENT.c.created_at.label("parent_created_at"), reply_subscribers.c.asked_at,
               reply_subscribers.c.confirmed_at)
        .join(reply_notices, reply_notices.c.comment_id == reply.c.id)
        .join(_PARENT, _PARENT.c.id == reply.c.parent_id)
        .outerjoin(reply_subscribers, reply_subscribers.c.email == func.lower(_PARENT.c.email))
        .where(reply.c.id == comment_id)
    )


def _why_not(found: Any, config: Any) -> str | None:
    """Why no email goes after all: moderators or the commenter changed their minds since it was due."""
    if not config.get("REPLY_NOTIFY"):
        return "reply emails off"
    if found["status"] != status.APPROVED:
        return "reply not approved"
    if found["parent_status"] != status.APPROVED:
        return "parent not approved"
    if not found["notify_replies"] or not found["parent_email"]:
        return "unsubscribed"
    if store.utcnow() - store.as_utc(found["due_since"]) > STALE_AFTER:
        return "stale"
    return None


def _done(comment_id: int, outcome: str) -> None:
    with get_engine().begin() as conn:
        conn.execute(update(reply_notices).where(reply_notices.c.comment_id == comment_id)
                     .values(done_at=store.utcnow(), outcome=outcome))


def reply_message(found: dict[str, Any], config: Any) -> EmailMessage:
    """The email about one reply: who answered, the reply quoted, where to read it, how to stop these."""
    post = _line(found["post_id"])
    unsubscribe = f"{config['BASE_URL']}/unsubscribe?{urlencode({'token': token(found['parent_id'], UNSUBSCRIBE)})}"
    # the page the reply (or else its parent) was posted from
    page = link_on_site([found["referrer"], found["parent_referrer"]], found["id"], config["ALLOWED_ORIGINS"])
    lines = [
        f"{_line(found['author'])} replied to your comment on {post}:",
        "",
        *(f"> {line}" for line in found["original"].splitlines()),
        "",
        *([f"Read it on the page: {page}", ""] if page else []),
        f"You get this email because you asked for replies when you commented on "
        f"{store.as_utc(found['parent_created_at']):%d %B %Y}.",
        f"Stop these emails: {unsubscribe}",
    ]
    message = _message(config, f"New reply to your comment on {post[:80]}", "\n".join(lines), found["parent_email"])
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message


def confirmation_message(found: dict[str, Any], config: Any) -> EmailMessage:
    """The double opt-in email. Nothing a commenter wrote is in it (not even the post id), so a box
    ticked with someone else's address cannot carry a spammer's words to them."""
    link = f"{config['BASE_URL']}/confirm-replies?{urlencode({'token': token(found['parent_id'], CONFIRM)})}"
    site = urlsplit(config["BASE_URL"]).hostname
    lines = [
        f"Someone, probably you, posted a comment on {site} with this address and asked to be emailed",
        "when someone replies. A reply has just been published.",
        "",
        f"To get it, and future replies, confirm: {link}",
        "",
        "If that was not you, ignore this email: no reply will be sent to this address, and this",
        "question comes at most once a week.",
    ]
    return _message(config, f"Confirm emails about replies on {site}", "\n".join(lines), found["parent_email"])


