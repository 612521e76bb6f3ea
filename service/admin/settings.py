"""Settings a moderator can change on the settings page; they override the environment's defaults."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select

from ..config import MODERATION_POLICIES
from ..schema import settings

POLICY = "moderation_policy"
GET_POLICY = select(settings.c.value).where(settings.c.key == POLICY)
"""Built once: the worker reads it for every comment."""


def policy(conn: Connection, default: str) -> str:
    """The moderation policy set on the settings page, else COMMENTS_MODERATION."""
    value = conn.execute(GET_POLICY).scalar()
    return value if value in MODERATION_POLICIES else default


def set_policy(conn: Connection, value: str) -> None:
    if value not in MODERATION_POLICIES:
        raise ValueError(f"the policy is one of {', '.join(MODERATION_POLICIES)}")
    conn.execute(delete(settings).where(settings.c.key == POLICY))
    conn.execute(insert(settings).values(key=POLICY, value=value))
