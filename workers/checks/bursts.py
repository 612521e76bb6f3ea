"""Duplicates and bursts seen from the worker: one text on several posts, many comments from one sender."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from service import status
from service.schema import comments
from service.store import as_utc

from . import Finding
from .context import Context

WINDOW = timedelta(minutes=10)
BURST = 5
"""This many other comments from one address or email within WINDOW reads as a burst."""


def check(ctx: Context) -> list[Finding]:
    comment = ctx.comment
    findings = []
    others = comments.c.id != comment["id"]
    posts = select(func.count(func.distinct(comments.c.post_id))).where(
        comments.c.content_hash == comment["content_hash"], comments.c.post_id != comment["post_id"],
        comments.c.status != status.TRASH, others)
    if count := int(ctx.conn.execute(posts).scalar_one()):
        findings.append(Finding("bursts", 0.3 + 0.2 * min(count, 3),
                                f"same text posted to {count} other post{'s' * (count > 1)}"))
    since = as_utc(comment["created_at"]) - WINDOW
    for column, label in ((comments.c.ip, "address"), (comments.c.email, "email")):
        value = comment.get(column.name)
        if not value:
            continue
        recent = select(func.count()).where(column == value, comments.c.created_at >= since,
                                            comments.c.created_at <= as_utc(comment["created_at"]), others)
        if (count := int(ctx.conn.execute(recent).scalar_one())) >= BURST:
            findings.append(Finding("bursts", 0.5, f"{count} other comments from this {label} in 10 minutes"))
    return findings
