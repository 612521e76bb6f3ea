"""Duplicates and bursts seen from the worker: one text on several posts, many comments from one sender."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, func, literal_column, select

from service import status
from service.schema import comments
from service.store import as_utc

from . import COUNT_CAP, Finding, capped_count, how_many
from .context import Context

WINDOW = timedelta(minutes=10)
BURST = 5
"""This many other comments from one address or email within WINDOW reads as a burst."""

OTHER_POSTS = select(func.count(func.distinct(literal_column("post_id")))).select_from(
    select(comments.c.post_id).where(
        comments.c.content_hash == bindparam("hash"), comments.c.post_id != bindparam("post_id"),
        comments.c.status != status.TRASH, comments.c.id != bindparam("id")).limit(COUNT_CAP).subquery())
"""Other posts among the first COUNT_CAP other comments with this text (under a flood of one text it may undercount)."""
IN_WINDOW = (comments.c.created_at >= bindparam("since"), comments.c.created_at <= bindparam("until"),
             comments.c.id != bindparam("id"))
RECENT_BY_IP = capped_count(select(comments.c.id).where(comments.c.ip == bindparam("ip"), *IN_WINDOW))
RECENT_BY_EMAIL = capped_count(select(comments.c.id).where(comments.c.email == bindparam("email"), *IN_WINDOW))
"""Each read through its (sender, created_at) index."""


def check(ctx: Context) -> list[Finding]:
    comment = ctx.comment
    findings = []
    posts = ctx.conn.execute(OTHER_POSTS, {"hash": comment["content_hash"], "post_id": comment["post_id"],
                                           "id": comment["id"]}).scalar_one()
    if count := int(posts):
        findings.append(Finding("bursts", 0.3 + 0.2 * min(count, 3),
                                f"same text posted to {count} other post{'s' * (count > 1)}"))
    until = as_utc(comment["created_at"])
    window = {"since": until - WINDOW, "until": until, "id": comment["id"]}
    by_ip = ctx.conn.execute(RECENT_BY_IP, {"ip": comment["ip"], **window}).scalar_one() if comment.get("ip") else 0
    by_email = ctx.conn.execute(RECENT_BY_EMAIL, {"email": comment["email"], **window}).scalar_one()
    for count, label in ((int(by_ip), "address"), (int(by_email), "email")):
        if count >= BURST:
            findings.append(Finding("bursts", 0.5, f"{how_many(count)} other comments from this {label} in 10 minutes"))
    return findings
