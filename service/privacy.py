"""A commenter's personal data on request: all of it exported, or erased, found by their email.

As WordPress's personal data tools do for comments: erasing keeps each comment's text (it may be
part of a published discussion) and removes who wrote it and from where: name, email, website,
address, user agent, referrer, the wish to be emailed about replies and the address's confirmation of
it, and the spam marks and link domains derived from them.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from . import limits, store
from .schema import comment_domains, comments, reply_subscribers, spam_marks
from .submission import CONTROL

logger = logging.getLogger(__name__)

ANONYMOUS = "Anonymous"
EXPORTED = ("id", "post_id", "parent_id", "status", "created_at", "author", "email", "url", "ip", "user_agent",
            "referrer", "page", "notify_replies", "original", "content")


def email_error(email: object) -> str | None:
    """Why this cannot be an email we store (old imports need not be valid addresses), or None."""
    if not isinstance(email, str) or not email.strip():
        return "Email is required."
    if len(email.strip()) > limits.EMAIL or CONTROL.search(email):
        return f"Email is at most {limits.EMAIL} characters, without control characters."
    return None


def _by_email(email: str) -> Any:
    return func.lower(comments.c.email) == email.strip().lower()


def personal_data(conn: Connection, email: str) -> dict[str, Any]:
    """Every comment stored under this email (any status, trash included) with what we keep about its author."""
    query = select(*(comments.c[name] for name in EXPORTED)).where(_by_email(email)).order_by(comments.c.id)
    rows = [{**row, "created_at": store.as_utc(row["created_at"]).isoformat()}
            for row in conn.execute(query).mappings()]
    found = conn.execute(select(reply_subscribers.c.asked_at, reply_subscribers.c.confirmed_at)
                         .where(reply_subscribers.c.email == email.strip().lower())).first()
    reply_emails = {name: store.as_utc(moment).isoformat() if moment else None
                    for name, moment in found._mapping.items()} if found else None
    return {"email": email.strip(), "exported_at": store.utcnow().isoformat(), "comments": rows,
            "reply_emails": reply_emails}


def erase(conn: Connection, email: str, by: str) -> list[int]:
    """Anonymise every comment stored under this email; returns their ids. The text stays; `by` is logged."""
    conn.execute(delete(reply_subscribers).where(reply_subscribers.c.email == email.strip().lower()))
    rows = conn.execute(select(comments.c.id, comments.c.content).where(_by_email(email))).all()
    if not rows:
        return []
    chosen = [comment_id for comment_id, _ in rows]
    conn.execute(update(comments).where(comments.c.id.in_(chosen)).values(
        author=ANONYMOUS, email="", url=None, ip=None, user_agent=None, referrer=None, page=None,
        notify_replies=False, updated_at=store.utcnow()))
    conn.execute(delete(spam_marks).where(spam_marks.c.comment_id.in_(chosen)))
    conn.execute(delete(comment_domains).where(comment_domains.c.comment_id.in_(chosen)))
    for comment_id, content in rows:  # the domains the text links to stay; the author's website goes
        store.write_domains(conn, comment_id, content, None)
    logger.info("%s erased the personal data of %d comments", by, len(chosen))
    return chosen
