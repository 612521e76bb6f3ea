"""The spam checks: one module each, every one returning a Finding a moderator can read."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Select, func, select

COUNT_CAP = 100
"""Counts stop here ("100 or more"): a flood from one sender must not make every later check slower."""


def capped_count(rows: Select[Any]) -> Select[Any]:
    """How many rows `rows` finds, reading at most COUNT_CAP of them (through whatever index it uses)."""
    return select(func.count()).select_from(rows.limit(COUNT_CAP).subquery())


def how_many(count: int) -> str:
    return f"{COUNT_CAP} or more" if count >= COUNT_CAP else str(count)


@dataclass(frozen=True)
class Finding:
    """One check's contribution to the verdict: a score and the reason behind it.

    `verdict` forces at least that outcome whatever the score (a disallowed word files as spam).
    """

    check: str
    score: float
    reason: str
    verdict: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}
