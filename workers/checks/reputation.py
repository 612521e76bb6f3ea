"""Reputation: authors with approved comments are trusted; emails, addresses and link domains that
moderators marked as spam count against a new comment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, func, select

from service import status, store
from service.schema import comment_domains, comments, status_changes

from . import Finding
from .context import Context

TRUSTED_SCORE = -0.4
"""An author the moderators approved before: a little benefit of the doubt, not a free pass."""
SPAM_WEIGHTS = {"email": 0.6, "ip": 0.4, "domain": 0.6}


def _marked_spam(condition: Any, *, by_domain: bool = False) -> Select[Any]:
    """Count other comments matching `condition` that are spam because a moderator said so."""
    source = comments.join(status_changes, status_changes.c.comment_id == comments.c.id)
    if by_domain:
        source = source.join(comment_domains, comment_domains.c.comment_id == comments.c.id)
    return (select(func.count(func.distinct(comments.c.id))).select_from(source)
            .where(condition, comments.c.id != bindparam("id"), comments.c.status == status.SPAM,
                   status_changes.c.to_status == status.SPAM, status_changes.c.actor.like("moderator:%")))


# Built once: these run for every comment, and building a statement costs more than running it here.
EMAIL_SPAM = _marked_spam(func.lower(comments.c.email) == bindparam("email"))
IP_SPAM = _marked_spam(comments.c.ip == bindparam("ip"))
DOMAIN_SPAM = _marked_spam(comment_domains.c.domain == bindparam("domain"), by_domain=True)
APPROVED = select(func.count()).where(func.lower(comments.c.email) == bindparam("email"),
                                      comments.c.status == status.APPROVED, comments.c.id != bindparam("id"))


def times(count: int) -> str:
    return "once" if count == 1 else "twice" if count == 2 else f"{count} times"


def check(ctx: Context) -> list[Finding]:
    comment = ctx.comment
    email = comment["email"].lower()
    count = ctx.conn.execute
    findings = []
    if spam := int(count(EMAIL_SPAM, {"email": email, "id": comment["id"]}).scalar_one()):
        findings.append(Finding("reputation", SPAM_WEIGHTS["email"] * min(spam, 2),
                                f"author's email was marked spam {times(spam)} before"))
    if comment.get("ip") and (spam := int(count(IP_SPAM, {"ip": comment["ip"], "id": comment["id"]}).scalar_one())):
        findings.append(Finding("reputation", SPAM_WEIGHTS["ip"] * min(spam, 2),
                                f"this address was marked spam {times(spam)} before"))
    for domain in sorted(store.link_domains(comment["content"], comment.get("url"))):
        if spam := int(count(DOMAIN_SPAM, {"domain": domain, "id": comment["id"]}).scalar_one()):
            findings.append(Finding("reputation", SPAM_WEIGHTS["domain"] * min(spam, 2),
                                    f"links to {domain}, marked spam {times(spam)} before"))
    if not findings and (approved := int(count(APPROVED, {"email": email, "id": comment["id"]}).scalar_one())):
        findings.append(Finding("reputation", TRUSTED_SCORE, f"author has {approved} approved comment"
                                + "s" * (approved > 1)))
    return findings
