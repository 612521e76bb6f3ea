"""Signed form tokens: prove a submission came from a form the service handed out, and how fast it came back.

GET /form-token gives a token (an HMAC over its issue time, keyed with the secret key);
the intake records what it found in the comment's `signals` for the spam check to judge.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

from .cors import cors

TOKEN_FIELD = "form_token"
"""The form field that carries the token."""
SALT = "comments.form-token"

bp = Blueprint("form_token", __name__)
bp.after_request(cors)


def _signer(secret: str) -> TimestampSigner:
    return TimestampSigner(secret, salt=SALT)


def issue(secret: str) -> str:
    return _signer(secret).sign(b"form").decode("ascii")


def token_signals(token: str | None, config: Mapping[str, Any], now: float | None = None) -> dict[str, Any]:
    """What the token says: `valid` with its age in seconds, or `missing`, `forged` or `stale`."""
    if not token:
        return {"token": "missing"}
    try:
        _, signed_at = _signer(config["SECRET_KEY"]).unsign(
            token, max_age=config["TOKEN_MAX_AGE"], return_timestamp=True
        )
    except SignatureExpired:
        return {"token": "stale"}
    except BadSignature:
        return {"token": "forged"}
    age = (time.time() if now is None else now) - signed_at.timestamp()
    return {"token": "valid", "age": round(max(age, 0.0), 3)}


@bp.get("/form-token")
def form_token() -> ResponseReturnValue:
    """Tell a form which field carries the token and which field must stay empty."""
    config = current_app.config
    response = jsonify(field=TOKEN_FIELD, token=issue(config["SECRET_KEY"]), honeypot=config["HONEYPOT_FIELD"])
    response.headers["Cache-Control"] = "no-store"
    return response
