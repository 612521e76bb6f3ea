"""Emails about replies, the web side: the commenter's unsubscribe link and the page behind it.

A commenter who ticks `notify_replies` is emailed (by the worker, workers/notify.py) when a reply to
their comment is approved. Every email carries a signed link that stops them for every comment from
that address, as Isso and WordPress's subscription plugins do, with RFC 8058's one-click POST.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, update

from .db import get_engine
from .schema import comments

SALT = "comments.unsubscribe-replies"

bp = Blueprint("replies", __name__)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def unsubscribe_token(comment_id: int) -> str:
    """Names the comment, not the address, so the link shows no email; it does not expire."""
    return str(_serializer().dumps(comment_id))


def _comment_id(token: str) -> int | None:
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@bp.route("/unsubscribe", methods=["GET", "POST"])
def unsubscribe() -> ResponseReturnValue:
    """GET asks (a mail scanner following the link changes nothing); POST stops the emails, idempotently."""
    token = request.args.get("token") or request.form.get("token") or ""
    comment_id = _comment_id(token)
    if comment_id is None:
        message = "This unsubscribe link is not valid. Copy the whole link from the email."
        return render_template("public/error.html", code=400, message=message), 400
    if request.method == "GET":
        return render_template("public/unsubscribe.html", token=token, done=False)
    with get_engine().begin() as conn:
        email = conn.execute(select(comments.c.email).where(comments.c.id == comment_id)).scalar()
        if email:
            conn.execute(update(comments).where(func.lower(comments.c.email) == email.lower())
                         .values(notify_replies=False))
    return render_template("public/unsubscribe.html", token=token, done=True)
