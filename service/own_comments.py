"""A commenter's own comment: see it while it waits, and change or delete it for a while after posting.

WordPress shows a held comment to its author for a few minutes (its moderation hash); Isso and Remark42
let an author edit or delete within a window. Here POST /comments gives a JSON client an `author_token`,
signed with the secret key over the comment's id and creation time, and the three routes below take it
as `Authorization: Bearer` until `COMMENTS_EDIT_SECONDS` after the comment was posted.

The author is never told that a comment was filed as spam (as WordPress and Akismet): a comment that is
not published reads as `pending` whatever its status, and neither an edit nor a delete can clear what a
moderator marked.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta
from typing import Any

import redis
from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, Signer
from sqlalchemy import RowMapping

from . import queue, status, store, submission
from .cors import cors
from .db import get_engine

logger = logging.getLogger(__name__)

bp = Blueprint("own_comments", __name__)
bp.after_request(cors)

SALT = "comments.author-token"
OWN = "/comments/<comment_id:comment_id>"


def _signer() -> Signer:
    return _signer_for(current_app.config["SECRET_KEY"])


@functools.lru_cache(maxsize=4)
def _signer_for(secret: str) -> Signer:
    """One per key: building a Signer costs more than signing, and every JSON submission signs."""
    return Signer(secret, salt=SALT)


def _moment(created_at: datetime) -> str:
    """The creation time in microseconds: binds a token to this comment, not to a later one given its id."""
    return str(round(store.as_utc(created_at).timestamp() * 1_000_000))


def issue(comment_id: int, created_at: datetime) -> str:
    return _signer().sign(f"{comment_id}:{_moment(created_at)}").decode("ascii")


def editable_until(created_at: datetime) -> datetime:
    return store.as_utc(created_at) + timedelta(seconds=current_app.config["EDIT_SECONDS"])


def author_view(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    """The public fields, with every status but approved shown as pending."""
    shown = status.APPROVED if row["status"] == status.APPROVED else status.PENDING
    comment = store.public_view({**row, "status": shown})
    return {"id": row["id"], "status": shown, "comment": comment,
            "editable_until": editable_until(row["created_at"]).isoformat()}


Refusal = tuple[Response, int]


def denied(code: int, sentence: str) -> Refusal:
    response = jsonify(errors={"token": sentence})
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="comment author"'
    return response, code


def own_comment(comment_id: int) -> RowMapping | Refusal:
    """The comment the bearer token was issued for, or the answer that refuses the request.

    The signature is checked before the database is asked, so ids cannot be probed without a token.
    """
    if not current_app.config["EDIT_SECONDS"]:
        return denied(403, "Comments cannot be changed after posting here (COMMENTS_EDIT_SECONDS is 0).")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return denied(401, "Send the author_token that came with the comment as Authorization: Bearer.")
    try:
        claimed_id, _, moment = _signer().unsign(token.strip()).decode("ascii").partition(":")
    except (BadSignature, UnicodeDecodeError):
        return denied(403, "This token is not valid.")
    if claimed_id != str(comment_id):
        return denied(403, "This token is for another comment.")
    with get_engine().connect() as conn:
        row = store.get_comment(conn, comment_id)
    if row is None or row["status"] == status.TRASH or _moment(row["created_at"]) != moment:
        return gone(comment_id)
    if store.utcnow() > editable_until(row["created_at"]):
        minutes = current_app.config["EDIT_SECONDS"] / 60
        return denied(403, f"The {minutes:g} minutes to see or change this comment are over.")
    return row


def gone(comment_id: int) -> Refusal:
    return jsonify(error=f"Comment {comment_id} does not exist."), 404


@bp.get(OWN)
def show(comment_id: int) -> ResponseReturnValue:
    """The author's own comment, published or not, as the site would show it."""
    row = own_comment(comment_id)
    if isinstance(row, tuple):
        return row
    response = jsonify(author_view(row))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.put(OWN)
def edit(comment_id: int) -> ResponseReturnValue:
    """New text, sanitized and checked as a submission is; a published comment waits for a new spam check."""
    row = own_comment(comment_id)
    if isinstance(row, tuple):
        return row
    raw = submission.read_body(request.mimetype, request.content_type or "", request.get_data(cache=False))
    text, errors = submission.edited_comment(raw)
    content = submission.sanitized(text, current_app.config["SANITIZER"], errors)
    if errors:
        return jsonify(errors=errors), 422
    with get_engine().begin() as conn:
        now_status = store.author_edit(conn, comment_id, text, content)
        edited = store.get_comment(conn, comment_id) if now_status else None
    if edited is None:  # a moderator deleted or trashed it meanwhile
        return gone(comment_id)
    if now_status == status.PENDING:
        recheck(comment_id)
    return jsonify(author_view(edited))


@bp.delete(OWN)
def remove(comment_id: int) -> ResponseReturnValue:
    """Into the trash, where moderators still see it until the purge; its replies stay."""
    row = own_comment(comment_id)
    if isinstance(row, tuple):
        return row
    with get_engine().begin() as conn:
        store.author_delete(conn, comment_id)
    logger.info("comment %s deleted by its author", comment_id)
    return "", 204


def recheck(comment_id: int) -> None:
    """Enqueue the edited comment's check; with Redis down the sweeper does it (the comment is pending)."""
    try:
        queue.requeue(queue.get_queue(), comment_id, current_app.config["JOB_TIMEOUT"])
    except redis.RedisError as error:
        logger.warning("comment %s: recheck left to the sweeper: Redis unavailable (%s)", comment_id, error)
