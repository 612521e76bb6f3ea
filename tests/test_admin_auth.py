"""Nobody gets into the admin side without credentials: every registered admin route is walked."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from .conftest import PASSWORD, Admin


def admin_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, path with sample values) for every admin rule but the login page."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint in ("admin_pages.login",):
            continue
        path = re.sub(r"<comment_id:comment_id>", "1", rule.rule)
        path = re.sub(r"<[^>]*action>", "approve", path)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, path))
    return found


def test_the_walk_covers_the_whole_admin_side(app: Flask) -> None:
    routes = admin_routes(app)
    assert len(routes) >= 15
    assert ("GET", "/admin/api/stats") in routes and ("POST", "/admin/comments/bulk") in routes


@pytest.mark.parametrize("credential", [None, "Bearer wrong-token", "Basic YW5uOnB3", "Bearer "])
def test_every_admin_route_refuses_without_valid_credentials(app: Flask, admin: Admin, credential: str | None) -> None:
    client = app.test_client()
    headers = {"Authorization": credential} if credential else {}
    for method, path in admin_routes(app):
        response = client.open(path, method=method, headers=headers)
        if path.startswith("/admin/api"):
            assert response.status_code == 401, (method, path)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        else:
            assert response.status_code == 302, (method, path)
            assert response.headers["Location"].startswith("/admin/login")


def test_a_page_session_does_not_open_the_api_and_a_token_does_not_open_pages(app: Flask, admin: Admin) -> None:
    admin.login()
    assert admin.client.get("/admin/api/stats").status_code == 401
    other = app.test_client()
    assert other.get("/admin/", headers=admin.headers).status_code == 302


def test_revoked_token_and_removed_moderator_are_refused(app: Flask, admin: Admin) -> None:
    from service.admin import accounts
    from service.db import get_engine

    assert admin.api("GET", "/stats").status_code == 200
    with app.app_context(), get_engine().begin() as conn:
        assert accounts.revoke(conn, "ann") == 1
    assert admin.api("GET", "/stats").status_code == 401
    admin.login()
    assert admin.client.get("/admin/").status_code == 200
    with app.app_context(), get_engine().begin() as conn:
        accounts.remove(conn, "ann")
    assert admin.client.get("/admin/").status_code == 302


def test_wrong_password_and_rate_limit(app: Flask, admin: Admin) -> None:
    csrf = admin.csrf()
    for _ in range(5):
        response = admin.client.post("/admin/login", data={"name": "ann", "password": "wrong", "csrf_token": csrf})
        assert response.status_code == 401 and "Wrong name or password." in response.get_data(as_text=True)
    blocked = admin.client.post("/admin/login", data={"name": "ann", "password": PASSWORD, "csrf_token": csrf})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0


def test_every_change_needs_the_csrf_token(app: Flask, admin: Admin) -> None:
    admin.login()
    for method, path in admin_routes(app):
        if method == "POST" and not path.startswith("/admin/api"):
            response = admin.client.post(path, data={"status": "held", "action": "spam", "ids": "1"})
            assert response.status_code == 400, path
            assert "CSRF" in response.get_data(as_text=True)
    login_without = app.test_client().post("/admin/login", data={"name": "ann", "password": PASSWORD})
    assert login_without.status_code == 400
    for forged in ("é" * 43, "x" * 43, admin.csrf("/admin/")[:-1]):
        assert admin.client.post("/admin/comments/bulk", data={"csrf_token": forged}).status_code == 400
        assert admin.client.post("/admin/logout", headers={"X-CSRF-Token": forged.encode().decode("latin-1")}
                                 ).status_code == 400


def test_session_cookie_flags(app: Flask, admin: Admin) -> None:
    admin.csrf()
    response = admin.client.post("/admin/login", data={"name": "ann", "password": PASSWORD,
                                                        "csrf_token": admin.csrf()},
                                 base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie and "Path=/admin" in cookie


def test_admin_pages_send_their_security_headers(admin: Admin) -> None:
    page = admin.login().client.get("/admin/")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "<script>" not in html and " onclick=" not in html



def test_the_session_expires(app: Flask, admin: Admin) -> None:
    response = admin.client.post("/admin/login", data={"name": "ann", "password": PASSWORD,
                                                        "csrf_token": admin.csrf()})
    assert "Expires=" in response.headers["Set-Cookie"]
    assert app.permanent_session_lifetime.total_seconds() == 12 * 3600


def test_a_session_ends_on_the_server(app: Flask, admin: Admin) -> None:
    """A copied cookie is worthless once its session is logged out, expired or its moderator removed."""
    from sqlalchemy import update

    from service.admin import accounts
    from service.db import get_engine
    from service.schema import admin_sessions

    def copy_of_cookie() -> Any:
        admin.login()
        copy = app.test_client()
        copy.set_cookie("comments_admin", admin.client.get_cookie("comments_admin", path="/admin").value,
                        path="/admin")
        assert copy.get("/admin/").status_code == 200
        return copy

    copy = copy_of_cookie()
    assert admin.client.post("/admin/logout", data={"csrf_token": admin.csrf("/admin/")}).status_code == 302
    assert copy.get("/admin/").status_code == 302 and "/admin/login" in copy.get("/admin/").location

    copy = copy_of_cookie()
    with app.app_context(), get_engine().begin() as conn:
        conn.execute(update(admin_sessions).values(expires_at=accounts.utcnow()))
    assert copy.get("/admin/").status_code == 302

    copy = copy_of_cookie()
    with app.app_context(), get_engine().begin() as conn:
        accounts.remove(conn, admin.name)
    assert copy.get("/admin/").status_code == 302
