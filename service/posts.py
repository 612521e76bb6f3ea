"""Whether a post takes new comments: a moderator's choice for that post, else the age rule.

WordPress lets a site close comments on one post and on every post older than some days; Remark42
makes a post read-only by hand or by age. This service never learns when a post was published, so
the age rule (`COMMENTS_CLOSE_AFTER_DAYS`) counts from the post's first comment, as Remark42's
`read-age` does: a post is at least that old, so no post closes early.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select

from . import limits, store
from .prepared import Prepared
from .schema import comments, posts
from .submission import CONTROL

CLOSED = "Comments are closed on this post."
CHOICE = Prepared(select(posts.c.comments_open).where(posts.c.post_id == bindparam("post_id")))
FIRST_COMMENT = Prepared(select(func.min(comments.c.created_at)).where(comments.c.post_id == bindparam("post_id")))
"""Compiled once: every read of a thread asks for the choice, and with the age rule every submission asks
for the first comment (the intake gets the choice with its duplicate check: `store.duplicate_and_choice`)."""


def post_id_error(post_id: str) -> str | None:
    """Why this cannot be the id of a post that has comments, or None."""
    if len(post_id) > limits.POST_ID or CONTROL.search(post_id):
        return f"A post id is at most {limits.POST_ID} characters, without control characters."
    return None


def closed(conn: Connection, post_id: str, close_after_days: int) -> bool:
    """Whether the post refuses new comments."""
    choice = CHOICE.rows(conn, {"post_id": post_id})
    return closed_by(conn, post_id, bool(choice[0][0]) if choice else None, close_after_days)


def closed_by(conn: Connection, post_id: str, choice: bool | None, close_after_days: int) -> bool:
    """Whether the post refuses new comments, its moderator's choice (None for none) already known."""
    if choice is not None:
        return not choice
    if not close_after_days:
        return False
    [(first,)] = FIRST_COMMENT.rows(conn, {"post_id": post_id})
    if first is None:
        return False
    if isinstance(first, str):  # SQLite's min() hands back the stored text, not a datetime
        first = datetime.fromisoformat(first)
    return store.as_utc(first) < store.utcnow() - timedelta(days=close_after_days)


def choose(conn: Connection, post_id: str, comments_open: bool | None, by: str) -> None:
    """A moderator's choice for one post: open, closed, or None to leave it to the age rule."""
    conn.execute(delete(posts).where(posts.c.post_id == post_id))
    if comments_open is not None:
        conn.execute(insert(posts).values(post_id=post_id, comments_open=comments_open, changed_at=store.utcnow(),
                                          changed_by=by))


def choices(conn: Connection) -> list[dict[str, Any]]:
    """Every post a moderator closed or kept open, most recent first."""
    query = select(posts).order_by(posts.c.changed_at.desc(), posts.c.post_id)
    return [{**row, "changed_at": store.as_utc(row["changed_at"]).isoformat()}
            for row in conn.execute(query).mappings()]
