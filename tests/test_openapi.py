"""/openapi.json stays true: every API route is described, every described path is a route,
and real answers match the schemas."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
from flask import Flask
from flask.testing import FlaskClient

from .conftest import valid

NOT_API = ("static", "openapi.openapi", "demo.post")
"""Routes that are pages or files, not API endpoints."""


def api_routes(app: Flask) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_API or rule.endpoint.startswith("admin_page"):
            continue
        path = re.sub(r"<(?:[a-z_]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule.rule)
        routes |= {(path, method.lower()) for method in rule.methods or () if method not in ("HEAD", "OPTIONS")}
    return routes


def test_every_api_route_is_described_and_nothing_else(app: Flask, client: FlaskClient) -> None:
    document = client.get("/openapi.json").get_json()
    described = {(path, method) for path, item in document["paths"].items() for method in item}
    assert described == api_routes(app)


def schema_for(document: dict[str, Any], path: str, method: str, code: int) -> dict[str, Any]:
    response = document["paths"][path][method]["responses"][str(code)]
    return dict(response["content"]["application/json"]["schema"])


def test_answers_match_their_schemas(client: FlaskClient) -> None:
    document = client.get("/openapi.json").get_json()
    checks = [
        ("/comments", "post", client.post("/comments", json=valid())),
        ("/comments", "post", client.post("/comments", json={"author": ""})),
        ("/comments", "post", client.post("/comments", data=b"{", content_type="application/json")),
        ("/comments", "post", client.post("/comments", data=b"x", content_type="text/plain",
                                          headers={"Accept": "application/json"})),
        ("/posts/{post_id}/comments", "get", client.get("/posts/secure-communities/comments")),
        ("/allowed-tags", "get", client.get("/allowed-tags")),
        ("/form-token", "get", client.get("/form-token")),
        ("/healthz", "get", client.get("/healthz")),
        ("/readyz", "get", client.get("/readyz")),
    ]
    for path, method, response in checks:
        jsonschema.validate(response.get_json(), schema_for(document, path, method, response.status_code))


def test_admin_answers_match_their_schemas(app: Flask, admin: Any) -> None:
    client = app.test_client()
    document = client.get("/openapi.json").get_json()
    comment_id = client.post("/comments", json=valid()).get_json()["id"]
    checks = [
        ("/admin/api/comments", "get", admin.api("GET", "/comments?status=pending")),
        ("/admin/api/comments", "get", admin.api("GET", "/comments?page=0")),
        ("/admin/api/comments/{comment_id}", "get", admin.api("GET", f"/comments/{comment_id}")),
        ("/admin/api/comments/{comment_id}/{action}", "post", admin.api("POST", f"/comments/{comment_id}/spam")),
        ("/admin/api/comments/{comment_id}", "patch", admin.api("PATCH", f"/comments/{comment_id}",
                                                               json={"text": "Edited."})),
        ("/admin/api/comments/{comment_id}", "patch", admin.api("PATCH", f"/comments/{comment_id}", json={})),
        ("/admin/api/comments/{comment_id}/replies", "post", admin.api("POST", f"/comments/{comment_id}/replies",
                                                                       json={"text": "Thanks."})),
        ("/admin/api/comments/{comment_id}/replies", "post", admin.api("POST", "/comments/999999/replies",
                                                                       json={"text": "Thanks."})),
        ("/admin/api/comments/bulk", "post", admin.api("POST", "/comments/bulk", json={"action": "ham",
                                                                                        "ids": [comment_id]})),
        ("/admin/api/lists", "get", admin.api("GET", "/lists")),
        ("/admin/api/lists/{list_name}", "post", admin.api("POST", "/lists/moderation", json={"add": ["x"]})),
        ("/admin/api/lists/{list_name}", "post", admin.api("POST", "/lists/moderation", json={})),
        ("/admin/api/lists/{list_name}", "post", admin.api("POST", "/lists/nope", json={"add": ["x"]})),
        ("/admin/api/stats", "get", admin.api("GET", "/stats")),
        ("/admin/api/stats", "get", client.get("/admin/api/stats")),
    ]
    for path, method, response in checks:
        jsonschema.validate(response.get_json(), schema_for(document, path, method, response.status_code))
