"""Carrying out moderators' decisions from the page and the API alike: commit, then teach the engine."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import moderation, queue, sanitize, status, store
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


def reply(parent_id: int, text: str, moderator: str, engine: str) -> str | None:
    """Publish a moderator's reply under a comment, approving a held or pending parent first."""
    content, problem = cleaned(text, engine)
    if problem:
        return problem
    with get_engine().begin() as conn:
        parent = store.get_comment(conn, parent_id)
        if parent is None or parent["status"] in (status.SPAM, status.TRASH):
            return "Only an approved, held or pending comment can be answered."
        if parent["status"] != status.APPROVED:
            moderation.apply(conn, parent_id, "approve", moderator, "approved by replying")
        values = {"post_id": parent["post_id"], "parent_id": parent_id, "author": moderator,
                  "email": f"{moderator}@moderators.invalid", "url": None, "content": content, "original": text}
        reply_id = store.insert_comment(conn, values, status.APPROVED, f"reply by {moderation.actor(moderator)}")
        store.note_reply(conn, reply_id)
    return None


def edit(comment_id: int, text: str, moderator: str, engine: str) -> str | None:
    """Replace a comment's text (sanitized like any submission); the error sentence if it is refused."""
    content, problem = cleaned(text, engine)
    if problem:
        return problem
    with get_engine().begin() as conn:
        if not store.edit_content(conn, comment_id, text, content, moderation.actor(moderator)):
            return "No such comment."
    return None


def cleaned(text: str, engine: str) -> tuple[str, str | None]:
    """A moderator's text sanitized as the intake does, or the sentence saying why it is refused."""
    if match := CONTROL.search(text):
        return "", f"The text contains a control character (U+{ord(match.group()):04X})."
    if problem := sanitize.complexity_error(text):
        return "", problem
    content = sanitize.sanitize(text, engine)
    if not content.strip():
        return "", "The text is empty once markup outside the allowed tags is removed."
    return content, None
