"""The spam checks: one module each, every one returning a Finding a moderator can read."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


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
