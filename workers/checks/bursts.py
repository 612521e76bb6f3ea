"""Duplicates and bursts seen from the worker: one text on several posts, many comments from one sender."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, case, func, select

from service import status
from service.schema import comments
from service.store import as_utc

from . import Finding
from .context import Context

WINDOW = timedelta(minutes=10)
BURST = 5
"""This many other comments from one address or email within WINDOW reads as a burst."""

OTHER_POSTS = select(func.count(func.distinct(comments.c.post_id))).where(
    comments.c.content_hash == bindparam("hash"), comments.c.post_id != bindparam("post_id"),
    comments.c.status != status.TRASH, comments.c.id != bindparam("id"))
RECENT = select(
    func.coalesce(func.sum(case((comments.c.ip == bindparam("ip"), 1), else_=0)), 0),
    func.coalesce(func.sum(case((comments.c.email == bindparam("email"), 1), else_=0)), 0),
).where(comments.c.created_at >= bindparam("since"), comments.c.created_at <= bindparam("until"),
        comments.c.id != bindparam("id"),
        (comments.c.ip == bindparam("ip")) | (comments.c.email == bindparam("email")))
"""Other comments from this address and from this email in the window, in one query."""


def check(ctx: Context) -> list[Finding]:
    comment = ctx.comment
    findings = []
    posts = ctx.conn.execute(OTHER_POSTS, {"hash": comment["content_hash"], "post_id": comment["post_id"],
                                           "id": comment["id"]}).scalar_one()
    if count := int(posts):
        findings.append(Finding("bursts", 0.3 + 0.2 * min(count, 3),
                                f"same text posted to {count} other post{'s' * (count > 1)}"))
    until = as_utc(comment["created_at"])
    by_ip, by_email = ctx.conn.execute(RECENT, {"ip": comment.get("ip") or "", "email": comment["email"],
                                                "since": until - WINDOW, "until": until,
                                                "id": comment["id"]}).one()
    for count, label in ((int(by_ip), "address"), (int(by_email), "email")):
        if count >= BURST:
            findings.append(Finding("bursts", 0.5, f"{count} other comments from this {label} in 10 minutes"))
    return findings
