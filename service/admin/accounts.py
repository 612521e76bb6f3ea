"""Moderator accounts, page sessions and API tokens: passwords hashed, tokens stored only as a sha256."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from ..schema import admin_sessions, api_tokens, moderators
from ..store import as_utc, utcnow

MIN_PASSWORD = 10
DUMMY_HASH = generate_password_hash("not a real password")
"""Checked against when the name is unknown, so a login takes as long whether or not the name exists."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add(conn: Connection, name: str, password: str) -> None:
    """Create a moderator; ValueError for a taken name or a short password."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password must have at least {MIN_PASSWORD} characters")
    try:
        with conn.begin_nested():
            conn.execute(insert(moderators).values(name=name, password_hash=generate_password_hash(password),
                                                   created_at=utcnow()))
    except IntegrityError:
        raise ValueError(f"a moderator named {name!r} exists already") from None


def any_moderator(conn: Connection) -> bool:
    return conn.execute(select(moderators.c.id).limit(1)).first() is not None


def remove(conn: Connection, name: str) -> bool:
    return bool(conn.execute(delete(moderators).where(moderators.c.name == name)).rowcount)


def check_password(conn: Connection, name: str, password: str) -> bool:
    row = conn.execute(select(moderators.c.password_hash).where(moderators.c.name == name)).first()
    valid = check_password_hash(row.password_hash if row else DUMMY_HASH, password)
    return bool(row) and valid


def create_token(conn: Connection, name: str) -> str:
    """A new API token for a moderator; only its hash is kept, so this is the one time it is seen."""
    moderator_id = conn.execute(select(moderators.c.id).where(moderators.c.name == name)).scalar()
    if moderator_id is None:
        raise ValueError(f"no moderator named {name!r}")
    token = secrets.token_urlsafe(32)
    conn.execute(insert(api_tokens).values(moderator_id=moderator_id, token_hash=token_hash(token),
                                           created_at=utcnow()))
    return token


def revoke(conn: Connection, name: str, token: str | None = None) -> int:
    """Revoke one token of a moderator, or all of them; returns how many."""
    moderator_id = select(moderators.c.id).where(moderators.c.name == name).scalar_subquery()
    query = update(api_tokens).where(api_tokens.c.moderator_id == moderator_id, api_tokens.c.revoked_at.is_(None))
    if token is not None:
        query = query.where(api_tokens.c.token_hash == token_hash(token))
    return int(conn.execute(query.values(revoked_at=utcnow())).rowcount)


def token_owner(conn: Connection, token: str) -> str | None:
    """The moderator a live token belongs to (and note its use), or None."""
    wanted = token_hash(token)
    row = conn.execute(
        select(api_tokens.c.id, api_tokens.c.token_hash, moderators.c.name)
        .join(moderators, moderators.c.id == api_tokens.c.moderator_id)
        .where(api_tokens.c.token_hash == wanted, api_tokens.c.revoked_at.is_(None))
    ).first()
    if row is None or not hmac.compare_digest(row.token_hash, wanted):
        return None
    conn.execute(update(api_tokens).where(api_tokens.c.id == row.id).values(last_used_at=utcnow()))
    return str(row.name)


def open_session(conn: Connection, name: str, lifetime: timedelta) -> str:
    """A new page session for a logged-in moderator; the cookie carries the token, the table its hash."""
    now = utcnow()
    conn.execute(delete(admin_sessions).where(admin_sessions.c.expires_at < now))
    moderator_id = select(moderators.c.id).where(moderators.c.name == name).scalar_subquery()
    token = secrets.token_urlsafe(32)
    conn.execute(insert(admin_sessions).values(moderator_id=moderator_id, token_hash=token_hash(token),
                                               created_at=now, expires_at=now + lifetime))
    return token


def session_owner(conn: Connection, token: str) -> str | None:
    """The moderator of a live session, or None once it was closed, expired or its moderator removed."""
    wanted = token_hash(token)
    row = conn.execute(
        select(admin_sessions.c.token_hash, admin_sessions.c.expires_at, moderators.c.name)
        .join(moderators, moderators.c.id == admin_sessions.c.moderator_id)
        .where(admin_sessions.c.token_hash == wanted)
    ).first()
    if row is None or not hmac.compare_digest(row.token_hash, wanted) or as_utc(row.expires_at) <= utcnow():
        return None
    return str(row.name)


def close_session(conn: Connection, token: str) -> None:
    conn.execute(delete(admin_sessions).where(admin_sessions.c.token_hash == token_hash(token)))
