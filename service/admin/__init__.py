"""The moderators' side: the review page at /admin and the JSON API at /admin/api."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.routing import BaseConverter

from ..submission import MAX_ID

SESSION_HOURS = 12
"""A moderator logs in again after this long; a copied cookie stops working too."""
ADMIN_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
             "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def admin_headers(response: Response) -> Response:
    """No inline script, no framing, no caching of moderators' pages."""
    if request.path.startswith("/admin"):
        response.headers["Content-Security-Policy"] = ADMIN_CSP
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
    return response


class CommentIdConverter(BaseConverter):
    """Any number of digits; one past the 32-bit ids becomes 0, which no comment has, so it answers 404.

    (Werkzeug's own `int(max=…)` makes such a URL answer 405 for some methods instead.)
    """

    regex = r"\d+"

    def to_python(self, value: str) -> int:
        number = int(value)
        return number if number <= MAX_ID else 0

    def to_url(self, value: object) -> str:
        return str(value)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, marked Secure whenever the request came over https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Without a session cookie (every public request) skip parsing cookies and building the serializer."""
        if f"{self.get_cookie_name(app)}=" not in request.environ.get("HTTP_COOKIE", ""):
            return self.session_class()
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """Register the page and API blueprints; session cookies HttpOnly, SameSite=Lax, Secure over https."""
    from . import api, pages

    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_NAME="comments_admin", SESSION_COOKIE_PATH="/admin",
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS))
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.session_interface = SessionInterface()
    app.after_request(admin_headers)
