"""Form tokens: what GET /form-token hands out and what the intake makes of it."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from service.form_token import issue, token_signals

CONFIG = {"SECRET_KEY": "test-secret-key-0123456789", "TOKEN_MAX_AGE": 7200}


def test_endpoint_names_the_token_and_honeypot_fields(client: FlaskClient) -> None:
    response = client.get("/form-token")
    body = response.get_json()
    assert body["field"] == "form_token" and body["honeypot"] == "url2" and body["token"]
    assert response.headers["Cache-Control"] == "no-store"


def test_signals() -> None:
    token = issue(CONFIG["SECRET_KEY"])
    assert token_signals(None, CONFIG) == {"token": "missing"}
    assert token_signals(token + "x", CONFIG) == {"token": "forged"}
    assert token_signals(issue("another-secret-key-0123"), CONFIG) == {"token": "forged"}
    valid = token_signals(token, CONFIG, now=time.time() + 10)
    assert valid["token"] == "valid" and 9 <= valid["age"] <= 11
    assert token_signals(token, {**CONFIG, "TOKEN_MAX_AGE": -1}) == {"token": "stale"}


def test_token_survives_two_hours_by_default(app: Flask) -> None:
    assert app.config["TOKEN_MAX_AGE"] >= 2 * 3600


def test_intake_records_the_token_signals(app: Flask, client: FlaskClient) -> None:
    from .test_worker import comment, submit

    token: Any = client.get("/form-token").get_json()["token"]
    with_token = submit(app, form_token=token)
    without = submit(app, comment="no token")
    assert comment(app, with_token)["signals"]["token"] == "valid"
    assert comment(app, without)["signals"] == {"token": "missing"}


def test_a_site_page_may_fetch_a_token(client: FlaskClient) -> None:
    allowed = client.get("/form-token", headers={"Origin": "https://blog.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://blog.example"
    other = client.get("/form-token", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
