"""CORS for the public endpoints: only the origins in COMMENTS_ALLOWED_ORIGINS may call them from a page."""

from __future__ import annotations

from flask import Response, current_app, request


def cors(response: Response) -> Response:
    """Allow the configured origins; preflights name what a comment form and its author's edits need.

    No credentials, ever: an author's token travels in the Authorization header, never in a cookie.
    """
    origin = request.headers.get("Origin")
    if origin and origin.lower() in current_app.config["ALLOWED_ORIGINS"]:
        response.headers["Access-Control-Allow-Origin"] = origin
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, DELETE, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept, Authorization"
            response.headers["Access-Control-Max-Age"] = "600"
    response.vary.add("Origin")
    return response
