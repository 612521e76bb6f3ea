"""The moderation and disallowed word lists, as WordPress's `moderation_keys` and `disallowed_keys`."""

from __future__ import annotations

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


def normalize(term: str) -> str:
    """Terms match case-insensitively, so they are stored lower-cased and trimmed."""
    return term.strip().lower()


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
    term = normalize(term)
    if list_name not in LISTS:
        raise ValueError(f"unknown list {list_name!r}; use {' or '.join(LISTS)}")
    if not term or len(term) > MAX_TERM:
        raise ValueError(f"a term is 1 to {MAX_TERM} characters")
    try:
        with conn.begin_nested():
            conn.execute(insert(word_lists).values(list=list_name, term=term, created_at=utcnow()))
    except IntegrityError:
        return False
    return True


def remove(conn: Connection, list_name: str, term: str) -> bool:
    query = delete(word_lists).where(word_lists.c.list == list_name, word_lists.c.term == normalize(term))
    return bool(conn.execute(query).rowcount)
