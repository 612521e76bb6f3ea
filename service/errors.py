"""Error answers: every failure gets a status code and a sentence, as JSON or as a small page; never a 500
for bad input, and 503 with Retry-After while the database is unavailable."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

logger = logging.getLogger(__name__)

RETRY_AFTER = 5
"""Seconds a client is asked to wait while the database is unavailable."""


def wants_json() -> bool:
    """JSON for JSON requests, the two JSON-only APIs and clients that prefer it; HTML for browsers' form posts."""
    if request.mimetype == "application/json" or request.path.startswith(("/admin/api", "/comments/")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" or (best is None and request.method != "POST")


def answer(code: int, message: str) -> Response:
    if wants_json():
        response = jsonify(error=message)
    else:
        response = Response(render_template("public/error.html", code=code, message=message))
    response.status_code = code
    return response


def http_error(error: HTTPException) -> Response:
    if isinstance(error, RequestEntityTooLarge):
        limit = request.max_content_length or 0
        return answer(413, f"The request body is larger than the limit of {limit:,} bytes.")
    response = answer(error.code or 500, error.description or error.name)
    for name, value in error.get_headers():
        if name.lower() in ("allow", "retry-after", "www-authenticate"):
            response.headers[name] = value
    return response


def database_unavailable(error: Exception) -> Response:
    logger.error("database unavailable: %s", error)
    response = answer(503, "The comment store is unavailable; nothing was saved. Try again shortly.")
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(PoolTimeout, database_unavailable)
