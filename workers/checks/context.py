"""What every check gets: the comment, a database connection, the settings, and shared lazy lookups."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection


@dataclass
class Context:
    """One comment under examination. `comment` is its row as a dict (content is sanitized HTML)."""

    comment: dict[str, Any]
    conn: Connection
    config: Mapping[str, Any]
    classifier: Any = None
    cache: dict[str, Any] = field(default_factory=dict)
