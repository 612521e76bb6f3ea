"""A corpus of XSS payloads, posted through POST /comments and rendered in a real Chromium: nothing runs,
and nothing outside the allowed set survives in the DOM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from service import sanitize, status, store
from service.db import get_engine
from service.demo import seed_posts

from .browser import Watch, live_server, watched_page
from .conftest import valid

pytestmark = pytest.mark.browser

PAYLOADS = [line for line in (Path(__file__).parent / "data" / "xss_payloads.txt").read_text("utf-8").splitlines()
            if line and not line.startswith("# ")]
POST_ID = next(iter(seed_posts()))

DOM_REPORT = """
() => {
  const found = [];
  for (const element of document.querySelectorAll(".content *")) {
    found.push({tag: element.localName, attrs: element.getAttributeNames().map(
      (name) => [name, element.getAttribute(name)])});
    for (const type of ["mouseover", "mouseenter", "pointerenter", "focus", "click", "load", "error", "toggle"]) {
      if (type === "click" && element.localName === "a") continue;  // would navigate; handlers are checked below
      element.dispatchEvent(new Event(type));
    }
  }
  return {found, marks: window.__xss, contents: document.querySelectorAll(".content").length};
}
"""


def url_scheme(url: str) -> str | None:
    return sanitize.url_scheme(url)


def post_all(app: Flask) -> int:
    """Post every payload (as its own commenter) and approve what was stored; returns how many."""
    client = app.test_client()
    stored = 0
    for number, payload in enumerate(PAYLOADS):
        response = client.post("/comments", json=valid(post_id=POST_ID, comment=payload, email=f"x{number}@e.org"))
        assert response.status_code in (202, 422), (payload, response.get_json())
        if response.status_code == 202:
            stored += 1
            with app.app_context(), get_engine().begin() as conn:
                store.transition(conn, response.get_json()["id"], status.APPROVED, "moderator:test")
    return stored


def assert_inert(report: dict[str, Any], watch: Watch) -> None:
    assert report["marks"] == [], f"script ran: {report['marks']}"
    assert watch.dialogs == [] and watch.navigations == []
    assert watch.foreign_requests == [], f"beacons: {watch.foreign_requests}"
    for element in report["found"]:
        allowed = sanitize.ALLOWED_TAGS.get(element["tag"])
        assert allowed is not None, f"tag {element['tag']} survived"
        for name, value in element["attrs"]:
            assert not name.startswith("on"), f"handler {name} survived"
            assert name in allowed or (element["tag"] == "a" and name == "rel"), f"{element['tag']} {name} survived"
            if name in ("href", "cite"):
                assert url_scheme(value) in sanitize.ALLOWED_SCHEMES, f"{name}={value!r} survived"


@pytest.mark.parametrize("engine", sanitize.ENGINES)
def test_payloads_render_inert_on_the_public_thread(app_factory: Any, chromium: Any, engine: str) -> None:
    app = app_factory(SANITIZER=engine)
    stored = post_all(app)
    assert stored == sum(bool(sanitize.sanitize(p, engine).strip()) for p in PAYLOADS) > 50
    with live_server(app) as base:
        with watched_page(chromium, base) as (page, watch):
            page.goto(f"/demo/{POST_ID}", wait_until="load")
            report = page.evaluate(DOM_REPORT)
    assert report["contents"] == stored
    assert_inert(report, watch)
