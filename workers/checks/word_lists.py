"""Word lists, as WordPress's moderation and disallowed keys: a term anywhere in the comment's fields."""

from __future__ import annotations

from service import status
from service import word_lists as lists

from . import Finding
from .context import Context

FIELDS = ("original", "author", "email", "url", "ip", "user_agent")


def first_hit(terms: list[str], haystacks: dict[str, str]) -> tuple[str, str] | None:
    for term in terms:
        for name, text in haystacks.items():
            if term in text:
                return term, name
    return None


def check(ctx: Context) -> Finding | None:
    """A disallowed term files as spam; a moderation term holds. Matching is case-insensitive."""
    haystacks = {name: str(ctx.comment.get(name) or "").lower() for name in FIELDS}
    terms = lists.all_terms(ctx.conn)
    for list_name, verdict, score in ((lists.DISALLOWED, status.SPAM, 1.0), (lists.MODERATION, status.HELD, 0.5)):
        if hit := first_hit(sorted(terms[list_name]), haystacks):
            where = "text" if hit[1] == "original" else hit[1].replace("_", " ")
            return Finding("word list", score, f"{list_name} list: '{hit[0]}' in the {where}", verdict)
    return None
