"""Carrying out moderators' decisions from the page and the API alike: commit, then teach the engine."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import limits, moderation, queue, sanitize, status, store
from ..db import get_engine
from ..submission import CONTROL

BULK_ACTIONS = (*moderation.ACTIONS, "delete")
MAX_BULK = 500


def decide(comment_id: int, action: str, moderator: str) -> moderation.Decision | None:
    """One action on one comment; None if the comment does not exist."""
    with get_engine().begin() as conn:
        decision = moderation.apply(conn, comment_id, action, moderator)
    if decision is not None:
        moderation.teach(queue.get_redis(), decision)
    return decision


def delete(comment_id: int, moderator: str) -> bool:
    with get_engine().begin() as conn:
        return moderation.delete_forever(conn, comment_id, moderator)


def bulk(ids: Iterable[int], action: str, moderator: str) -> list[dict[str, Any]]:
    """The same action on many comments; one result per id, in order."""
    results: list[dict[str, Any]] = []
    for comment_id in ids:
        if action == "delete":
            found = delete(comment_id, moderator)
            results.append({"id": comment_id, "deleted": True} if found else {"id": comment_id, "error": "not found"})
            continue
        decision = decide(comment_id, action, moderator)
        results.append({"id": comment_id, "from": decision.from_status, "to": decision.to_status} if decision
                        else {"id": comment_id, "error": "not found"})
    return results


def move_back(comment_id: int, to_status: str, moderator: str) -> bool:
    """Undo: put a comment back in the status it had before the last action."""
    if to_status not in status.ALL or to_status == status.PENDING:
        raise ValueError("a comment can be moved back to held, approved, spam or trash")
    with get_engine().begin() as conn:
        decision = moderation.move(conn, comment_id, to_status, moderator, "undo")
    if decision is not None:
        moderation.teach(queue.get_redis(), decision)  # an undone spam mark teaches not spam, and back again
    return decision is not None


class Refused(ValueError):
    """A moderator's text or the comment it is for cannot be taken; the message says why."""


def reply(parent_id: int, text: str, moderator: str, engine: str) -> int | None:
    """Publish a moderator's reply under a comment, approving a held or pending parent first.

    Returns the reply's id, or None if there is no such comment; raises Refused.
    """
    content = cleaned(text, engine)
    with get_engine().begin() as conn:
        parent = store.get_comment(conn, parent_id)
        if parent is None:
            return None
        if parent["status"] in (status.SPAM, status.TRASH):
            raise Refused("Only an approved, held or pending comment can be answered.")
        if parent["status"] != status.APPROVED:
            moderation.apply(conn, parent_id, "approve", moderator, "approved by replying")
        values = {"post_id": parent["post_id"], "parent_id": parent_id, "author": moderator,
                  "email": f"{moderator}@moderators.invalid", "url": None, "content": content, "original": text}
        reply_id = store.insert_comment(conn, values, status.APPROVED, f"reply by {moderation.actor(moderator)}")
        store.note_reply(conn, reply_id)
    return reply_id


def edit(comment_id: int, text: str, moderator: str, engine: str) -> bool:
    """Replace a comment's text (sanitized like any submission); False if there is no such comment.

    Raises Refused.
    """
    content = cleaned(text, engine)
    with get_engine().begin() as conn:
        return store.edit_content(conn, comment_id, text, content, moderation.actor(moderator))


def cleaned(text: str, engine: str) -> str:
    """A moderator's text sanitized as the intake does; Refused says why it cannot be."""
    if match := CONTROL.search(text):
        raise Refused(f"The text contains a control character (U+{ord(match.group()):04X}).")
    if len(text) > limits.COMMENT:
        raise Refused(f"The text is longer than {limits.COMMENT:,} characters.")
    if problem := sanitize.complexity_error(text):
        raise Refused(problem)
    content = sanitize.sanitize(text, engine)
    if not content.strip():
        raise Refused("The text is empty once markup outside the allowed tags is removed.")
    return content
