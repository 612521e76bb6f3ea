"""Moderators' decisions: the actions, the status each leads to, and teaching the spam engine from them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import redis
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import Connection, delete, select

from . import queue as queues
from . import status, store
from .schema import comments, status_changes

logger = logging.getLogger(__name__)

ACTIONS = {
    "approve": status.APPROVED,
    "unapprove": status.HELD,
    "spam": status.SPAM,
    "ham": status.APPROVED,
    "trash": status.TRASH,
    "restore": None,
}
"""Action name -> the status it leads to; `restore` goes back to where the comment was before trash or spam."""
LEARN_FUNCTION = "workers.learning.learn_from_decision"


UNSPAM = (status.APPROVED, status.HELD)


@dataclass(frozen=True)
class Decision:
    comment_id: int
    action: str
    from_status: str
    to_status: str
    suspected: bool = False
    """The classifier counted against the comment when it was checked (its finding scored above 0)."""
    approved_before: bool = False
    """A moderator had approved it before (approve, unapprove, approve teaches once)."""


def actor(moderator: str) -> str:
    return f"{store.MODERATOR}{moderator}"


def restore_target(conn: Connection, comment_id: int) -> str:
    """The status a comment had before it went to trash or spam; held if unknown."""
    query = (
        select(status_changes.c.from_status)
        .where(status_changes.c.comment_id == comment_id,
               status_changes.c.to_status.in_((status.TRASH, status.SPAM)))
        .order_by(status_changes.c.id.desc())
        .limit(1)
    )
    previous = conn.execute(query).scalar()
    return previous if previous in (status.APPROVED, status.HELD) else status.HELD


def apply(conn: Connection, comment_id: int, action: str, moderator: str, reason: str | None = None) -> Decision | None:
    """Carry out one action and record it; None if the comment does not exist. Raises KeyError for a bad action."""
    return move(conn, comment_id, ACTIONS[action], moderator, reason or action, action)


def move(conn: Connection, comment_id: int, to_status: str | None, moderator: str, why: str,
         action: str = "undo") -> Decision | None:
    """Put a comment in `to_status` (None: back to where it was before trash or spam); None if it does not exist."""
    row = conn.execute(select(comments.c.status, comments.c.reasons).where(comments.c.id == comment_id)).first()
    if row is None:
        return None
    if to_status is None:
        to_status = restore_target(conn, comment_id) if row.status in (status.TRASH, status.SPAM) else row.status
    suspected = classifier_suspected(row.reasons)
    again = suspected and row.status == status.HELD and to_status == status.APPROVED and approved_by_moderator(
        conn, comment_id)
    store.transition(conn, comment_id, to_status, actor(moderator), why)
    return Decision(comment_id, action, row.status, to_status, suspected, again)


def approved_by_moderator(conn: Connection, comment_id: int) -> bool:
    query = select(status_changes.c.id).where(
        status_changes.c.comment_id == comment_id, status_changes.c.to_status == status.APPROVED,
        status_changes.c.actor.startswith(store.MODERATOR, autoescape=True)).limit(1)
    return conn.execute(query).first() is not None


def classifier_suspected(reasons: list[dict[str, Any]] | None) -> bool:
    return any(r.get("check") == "classifier" and (r.get("score") or 0) > 0 for r in reasons or [])


def delete_forever(conn: Connection, comment_id: int, moderator: str) -> bool:
    """Remove a comment and its audit trail; logged, since the trail goes with it."""
    removed = conn.execute(delete(comments).where(comments.c.id == comment_id)).rowcount
    if removed:
        logger.info("comment %s deleted for ever by %s", comment_id, moderator)
    return bool(removed)


def lesson(decision: Decision) -> bool | None:
    """What a decision teaches: True (spam), False (not spam) or nothing.

    Marking spam teaches spam. Not spam is taught by "not spam", by any move out of spam to approved
    or held (WordPress's "unspam", which also puts a comment back where it was; an undone spam mark
    is one), and by approving a held comment that the classifier had counted against, the first time a
    moderator approves it: that is where the bundled model's mistakes on a new site's comments end up.
    Other moves (approving a comment held by a word list or the policy, approving it again, trash,
    restore from trash) say nothing about the words.
    """
    if decision.to_status == status.SPAM and decision.from_status != status.SPAM:
        return True
    if decision.action == "ham" or (decision.from_status == status.SPAM and decision.to_status in UNSPAM):
        return False
    if (decision.from_status == status.HELD and decision.to_status == status.APPROVED and decision.suspected
            and not decision.approved_before):
        return False
    return None


def teach(connection: redis.Redis, decision: Decision) -> None:
    """After the decision is committed: spam / not-spam teach the classifier (and Akismet) on the learning queue."""
    spam = lesson(decision)
    if spam is None:
        return
    queue = Queue(queues.LEARN_QUEUE, connection=connection, serializer=JSONSerializer)
    try:
        queue.enqueue(LEARN_FUNCTION, decision.comment_id, spam,
                      failure_ttl=queues.FAILURE_TTL, result_ttl=queues.RESULT_TTL, retry=queues.RETRY)
    except redis.RedisError as error:
        logger.warning("comment %s: decision kept, but the engine was not taught (%s)", decision.comment_id, error)
