"""Reputation: authors with approved comments are trusted; emails, addresses and link domains that
moderators marked as spam count against a new comment."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select

from service import status, store
from service.schema import comments, spam_marks

from . import COUNT_CAP, Finding, capped_count, how_many
from .context import Context

TRUSTED_SCORE = -0.4
"""An author the moderators approved before: a little benefit of the doubt, not a free pass."""
SPAM_WEIGHTS = {"email": 0.6, "ip": 0.4, "domain": 0.6}

# Built once: these run for every comment, and building a statement costs more than running it here.
# Both read an index by key (spam_marks' primary key, lower(email) with status) and stop at the cap.
MARKED = capped_count(select(spam_marks.c.comment_id).where(
    spam_marks.c.kind == bindparam("kind"), spam_marks.c.value == bindparam("value"),
    spam_marks.c.comment_id != bindparam("id")))
APPROVED = capped_count(select(comments.c.id).where(
    func.lower(comments.c.email) == bindparam("email"), comments.c.status == status.APPROVED,
    comments.c.id != bindparam("id")))


def times(count: int) -> str:
    if count >= COUNT_CAP:
        return f"{COUNT_CAP} times or more"
    return "once" if count == 1 else "twice" if count == 2 else f"{count} times"


def check(ctx: Context) -> list[Finding]:
    comment = ctx.comment
    email = comment["email"].lower()
    findings = []

    def marked(kind: str, value: str) -> int:
        return int(ctx.conn.execute(MARKED, {"kind": kind, "value": value, "id": comment["id"]}).scalar_one())

    if spam := marked("email", email):
        findings.append(Finding("reputation", SPAM_WEIGHTS["email"] * min(spam, 2),
                                f"author's email was marked spam {times(spam)} before"))
    if comment.get("ip") and (spam := marked("ip", comment["ip"])):
        findings.append(Finding("reputation", SPAM_WEIGHTS["ip"] * min(spam, 2),
                                f"this address was marked spam {times(spam)} before"))
    for domain in sorted(store.link_domains(comment["content"], comment.get("url"))):
        if spam := marked("domain", domain):
            findings.append(Finding("reputation", SPAM_WEIGHTS["domain"] * min(spam, 2),
                                    f"links to {domain}, marked spam {times(spam)} before"))
    if not findings and (approved := int(ctx.conn.execute(APPROVED, {"email": email, "id": comment["id"]})
                                         .scalar_one())):
        findings.append(Finding("reputation", TRUSTED_SCORE, f"author has {how_many(approved)} approved comment"
                                + "s" * (approved > 1)))
    return findings
