"""The moderation and disallowed word lists, as WordPress's `moderation_keys` and `disallowed_keys`."""

from __future__ import annotations

import re

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from .schema import word_lists
from .store import utcnow

MODERATION = "moderation"
"""A hit holds the comment for a moderator."""
DISALLOWED = "disallowed"
"""A hit files the comment as spam."""
LISTS = (MODERATION, DISALLOWED)
MAX_TERM = 200


LINE_OR_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def normalize(term: str) -> str:
    """Terms match case-insensitively, so they are stored lower-cased and trimmed."""
    return term.strip().lower()


def checked(term: str) -> str:
    """The term as stored; ValueError unless it is one line of 1 to MAX_TERM characters of valid Unicode.

    A NUL or a lone surrogate would otherwise reach the database, which refuses both.
    """
    term = normalize(term)
    if not term or len(term) > MAX_TERM:
        raise ValueError(f"a term is 1 to {MAX_TERM} characters")
    if LINE_OR_CONTROL.search(term):
        raise ValueError(f"the term {term[:40]!r} contains a line break or a control character")
    try:
        term.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a term is not valid Unicode text (a lone surrogate)") from None
    return term


def terms(conn: Connection, list_name: str) -> list[str]:
    query = select(word_lists.c.term).where(word_lists.c.list == list_name).order_by(word_lists.c.term)
    return list(conn.execute(query).scalars())


ALL_TERMS = select(word_lists.c.list, word_lists.c.term)


def all_terms(conn: Connection) -> dict[str, list[str]]:
    """Both lists in one query: the spam check reads them for every comment."""
    found: dict[str, list[str]] = {name: [] for name in LISTS}
    for list_name, term in conn.execute(ALL_TERMS):
        found.setdefault(list_name, []).append(term)
    return found


def add(conn: Connection, list_name: str, term: str) -> bool:
    """Add a term; False if it was already there. Raises ValueError for an unknown list or a bad term."""
    if list_name not in LISTS:
        raise ValueError(f"unknown list {list_name!r}; use {' or '.join(LISTS)}")
    term = checked(term)
    try:
        with conn.begin_nested():
            conn.execute(insert(word_lists).values(list=list_name, term=term, created_at=utcnow()))
    except IntegrityError:
        return False
    return True


def remove(conn: Connection, list_name: str, term: str) -> bool:
    query = delete(word_lists).where(word_lists.c.list == list_name, word_lists.c.term == normalize(term))
    return bool(conn.execute(query).rowcount)
