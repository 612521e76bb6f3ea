"""Who may use the admin side: a session for the pages (with CSRF tokens), a bearer token for the API.

Both checks run before every request of their blueprint, so a new route is protected
without anyone remembering to decorate it.
"""

from __future__ import annotations

import hmac
import logging
import secrets

import redis
from flask import abort, current_app, g, jsonify, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from .. import queue
from ..client_ip import client_ip
from ..db import get_engine
from . import accounts

logger = logging.getLogger(__name__)

LOGIN_ATTEMPTS = 5
"""Failed logins allowed per address and per name within LOGIN_WINDOW."""
LOGIN_WINDOW = 15 * 60
PUBLIC_PAGES = ("admin_pages.login", "admin_pages.static")


def csrf_token() -> str:
    """The session's CSRF token, made on first use; forms carry it, fetch() sends it as X-CSRF-Token."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def check_csrf() -> None:
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = str(session.get("csrf", ""))
    # Bytes, since compare_digest refuses non-ASCII strings (a forged token must be a 400, not a 500).
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, "The form is stale or forged (CSRF token missing or wrong); reload the page and try again.")


def require_session() -> ResponseReturnValue | None:
    """Pages: a live session of a moderator that still exists, and a CSRF token on every change."""
    if request.endpoint in PUBLIC_PAGES:
        if request.method == "POST":
            check_csrf()
        return None
    token = session.get("sid")
    if isinstance(token, str) and token:
        with get_engine().connect() as conn:
            if name := accounts.session_owner(conn, token):
                g.moderator = name
    if "moderator" not in g:
        session.pop("sid", None)
        return redirect(url_for("admin_pages.login", next=request.full_path.rstrip("?")))
    if request.method not in ("GET", "HEAD"):
        check_csrf()
    return None


def require_token() -> ResponseReturnValue | None:
    """API: `Authorization: Bearer TOKEN` of a moderator, else 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    name = None
    if scheme.lower() == "bearer" and token.strip():
        with get_engine().begin() as conn:
            name = accounts.token_owner(conn, token.strip())
    if name is None:
        response = jsonify(error="A valid API token is required: Authorization: Bearer TOKEN.")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="comments admin"'
        return response
    g.moderator = name
    return None


def _address() -> str:
    return client_ip(request.remote_addr, request.headers.get("X-Forwarded-For"),
                     current_app.config["TRUSTED_PROXIES"]) or "unknown"


def _keys(name: str) -> list[str]:
    return [f"comments:login:ip:{_address()}", f"comments:login:name:{name.lower()}"]


def login_wait(name: str) -> int:
    """Seconds until another attempt is allowed for this address or name; 0 if allowed. Fails open."""
    try:
        connection = queue.get_redis()
        # At least 1 s: a key can expire between the GET and the TTL, which then answers -2.
        waits = [max(1, int(connection.ttl(key))) for key in _keys(name)
                 if int(connection.get(key) or 0) >= LOGIN_ATTEMPTS]
    except redis.RedisError as error:
        logger.warning("login rate limit skipped: Redis unavailable (%s)", error)
        return 0
    return max(waits, default=0)


def login_failed(name: str) -> None:
    try:
        with queue.get_redis().pipeline() as pipe:
            for key in _keys(name):
                pipe.incr(key)
                pipe.expire(key, LOGIN_WINDOW, nx=True)
            pipe.execute()
    except redis.RedisError as error:
        logger.warning("login failure not counted: Redis unavailable (%s)", error)
    logger.warning("failed admin login for %r from %s", name[:80], _address())
