"""Reputation: authors with approved comments are trusted; emails, addresses and link domains that
moderators marked as spam count against a new comment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select

from service import status
from service.schema import comment_domains, comments, status_changes

from . import Finding
from .context import Context

TRUSTED_SCORE = -0.4
"""An author the moderators approved before: a little benefit of the doubt, not a free pass."""
SPAM_WEIGHTS = {"email": 0.6, "ip": 0.4, "domain": 0.6}


def times(count: int) -> str:
    return "once" if count == 1 else "twice" if count == 2 else f"{count} times"


def marked_spam(ctx: Context, condition: ColumnElement[bool], *joins: Any) -> int:
    """Comments matching `condition` that are spam because a moderator said so."""
    query = (
        select(func.count(func.distinct(comments.c.id)))
        .select_from(comments.join(status_changes, status_changes.c.comment_id == comments.c.id))
        .where(condition, comments.c.id != ctx.comment["id"], comments.c.status == status.SPAM,
               status_changes.c.to_status == status.SPAM, status_changes.c.actor.like("moderator:%"))
    )
    for table, on in joins:
        query = query.join(table, on)
    return int(ctx.conn.execute(query).scalar_one())


def approved_count(ctx: Context) -> int:
    query = select(func.count()).where(func.lower(comments.c.email) == ctx.comment["email"].lower(),
                                       comments.c.status == status.APPROVED, comments.c.id != ctx.comment["id"])
    return int(ctx.conn.execute(query).scalar_one())


def check(ctx: Context) -> list[Finding]:
    findings = []
    if count := marked_spam(ctx, func.lower(comments.c.email) == ctx.comment["email"].lower()):
        findings.append(Finding("reputation", SPAM_WEIGHTS["email"] * min(count, 2),
                                f"author's email was marked spam {times(count)} before"))
    if ctx.comment.get("ip") and (count := marked_spam(ctx, comments.c.ip == ctx.comment["ip"])):
        findings.append(Finding("reputation", SPAM_WEIGHTS["ip"] * min(count, 2),
                                f"this address was marked spam {times(count)} before"))
    mine = select(comment_domains.c.domain).where(comment_domains.c.comment_id == ctx.comment["id"])
    domains = list(ctx.conn.execute(mine).scalars())
    for domain in domains:
        join = (comment_domains, comment_domains.c.comment_id == comments.c.id)
        if count := marked_spam(ctx, comment_domains.c.domain == domain, join):
            findings.append(Finding("reputation", SPAM_WEIGHTS["domain"] * min(count, 2),
                                    f"links to {domain}, marked spam {times(count)} before"))
    if not findings and (approved := approved_count(ctx)):
        findings.append(Finding("reputation", TRUSTED_SCORE, f"author has {approved} approved comment"
                                + "s" * (approved > 1)))
    return findings
