"""Emails about replies, the web side: the commenter's confirmation and unsubscribe links, and their pages.

A commenter who ticks `notify_replies` is emailed (by the worker, workers/notify.py) when a reply to
their comment is approved, once they have confirmed their address: the first reply brings a
confirmation email instead (double opt-in), so a box ticked with someone else's address costs that
person one email, not a stream of them. Every reply email carries a signed link that stops them for
every comment from that address, with RFC 8058's one-click POST. Both links name a comment, not an
address, so no address shows in a URL; GET only asks, because mail scanners follow links.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import store
from .db import get_engine
from .schema import comments, reply_notices, reply_subscribers

UNSUBSCRIBE = "comments.unsubscribe-replies"
CONFIRM = "comments.confirm-replies"
WAITING = ("confirmation sent", "unconfirmed")
"""Outcomes of reply emails held back for want of a confirmation; confirming sends them after all."""

bp = Blueprint("replies", __name__)


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def token(comment_id: int, salt: str) -> str:
    """Names the comment, not the address, so the link shows no email; it does not expire."""
    return str(_serializer(salt).dumps(comment_id))


def _email_of(token_text: str, salt: str) -> str | None:
    """The address behind a link's token (lower-cased), or None for a bad token or an erased comment."""
    try:
        comment_id = _serializer(salt).loads(token_text)
    except BadSignature:
        return None
    if not isinstance(comment_id, int) or isinstance(comment_id, bool):
        return None
    with get_engine().connect() as conn:
        email = conn.execute(select(comments.c.email).where(comments.c.id == comment_id)).scalar()
    return email.lower() if email else None


def _page(salt: str, template: str, action: Callable[[Connection, str], None]) -> ResponseReturnValue:
    link = request.args.get("token") or request.form.get("token") or ""
    email = _email_of(link, salt)
    if email is None:
        message = "This link is not valid (or its comment is gone). Copy the whole link from the email."
        return render_template("public/error.html", code=400, message=message), 400
    if request.method == "POST":
        with get_engine().begin() as conn:
            action(conn, email)
    return render_template(template, token=link, done=request.method == "POST")


@bp.route("/unsubscribe", methods=["GET", "POST"])
def unsubscribe_page() -> ResponseReturnValue:
    """GET asks; POST stops reply emails to the address, idempotently."""
    return _page(UNSUBSCRIBE, "public/unsubscribe.html", unsubscribe)


@bp.route("/confirm-replies", methods=["GET", "POST"])
def confirm_page() -> ResponseReturnValue:
    """GET asks; POST confirms the address and lets the reply emails held back for it go."""
    return _page(CONFIRM, "public/confirm.html", confirm)


def unsubscribe(conn: Connection, email: str) -> None:
    """No more reply emails for any comment of this address, and its confirmation is forgotten."""
    conn.execute(update(comments).where(func.lower(comments.c.email) == email).values(notify_replies=False))
    conn.execute(delete(reply_subscribers).where(reply_subscribers.c.email == email))


def set_subscriber(conn: Connection, email: str, **values: Any) -> None:
    """Write `values` (asked_at, confirmed_at) on the address's row, creating it if need be."""
    if conn.execute(update(reply_subscribers).where(reply_subscribers.c.email == email).values(**values)).rowcount:
        return
    try:
        with conn.begin_nested():
            conn.execute(insert(reply_subscribers).values(email=email, **values))
    except IntegrityError:  # created a moment ago by another request or job: write on it
        conn.execute(update(reply_subscribers).where(reply_subscribers.c.email == email).values(**values))


def confirm(conn: Connection, email: str) -> None:
    """Reply emails for this address from now on, and the ones held back for want of this confirmation."""
    set_subscriber(conn, email, confirmed_at=store.utcnow())
    replies_to_them = select(comments.c.id).where(comments.c.parent_id.in_(
        select(comments.c.id).where(func.lower(comments.c.email) == email).scalar_subquery()))
    conn.execute(update(reply_notices).where(reply_notices.c.outcome.in_(WAITING),
                                             reply_notices.c.comment_id.in_(replies_to_them.scalar_subquery()))
                 .values(done_at=None, outcome=None))
