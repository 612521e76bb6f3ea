"""The review queue in a real headless Chromium, as a moderator uses it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from service import status, store
from service.db import get_engine

from .browser import live_server, watched_page
from .conftest import PASSWORD, Admin
from .test_xss_browser import DOM_REPORT, PAYLOADS, assert_inert

pytestmark = pytest.mark.browser


def held(app: Flask, text: str, **changes: Any) -> int:
    values = {"post_id": "secure-communities", "author": "Ada", "email": "ada@example.org", "url": None,
              "content": text, "original": text, "ip": "203.0.113.5", **changes}
    with app.app_context(), get_engine().begin() as conn:
        comment_id = store.insert_comment(conn, values, status.PENDING)
        store.set_verdict(conn, comment_id, status.HELD, 0.6,
                          [{"check": "links", "score": 0.6, "reason": "2 links (limit 1)"}], store.SPAM_CHECK)
    return comment_id


def state(app: Flask, comment_id: int) -> str | None:
    with app.app_context(), get_engine().connect() as conn:
        row = store.get_comment(conn, comment_id)
    return row["status"] if row else None


def log_in(tab: Page, base: str) -> None:
    tab.goto("/admin/")
    expect(tab).to_have_url(f"{base}/admin/login?next=/admin/")
    tab.fill("input[name=name]", "ann")
    tab.fill("input[name=password]", PASSWORD)
    tab.click("button:text('Log in')")
    expect(tab.locator(".tabs a.active")).to_contain_text("Held")


@pytest.fixture()
def page(app: Flask, admin: Admin, chromium: Any) -> Iterator[Page]:
    """A logged-in moderator's page on a live server."""
    with live_server(app) as base:
        context = chromium.new_context(base_url=base)
        tab = context.new_page()
        log_in(tab, base)
        yield tab
        context.close()


def test_login_rejects_a_wrong_password(app: Flask, admin: Admin, chromium: Any) -> None:
    with live_server(app) as base:
        context = chromium.new_context(base_url=base)
        tab = context.new_page()
        tab.goto("/admin/login")
        tab.fill("input[name=name]", "ann")
        tab.fill("input[name=password]", "not the password")
        tab.click("button:text('Log in')")
        expect(tab.locator(".error")).to_have_text("Wrong name or password.")
        context.close()


def test_approve_a_held_comment(app: Flask, page: Page) -> None:
    comment_id = held(app, "Held for its links")
    page.reload()
    row = page.locator(f"#c{comment_id}")
    expect(row.locator(".reasons")).to_contain_text("2 links (limit 1)")
    row.locator("button.approve").click()
    expect(row).to_have_count(0)
    expect(page.locator('[data-count="approved"]')).to_have_text("1")
    assert state(app, comment_id) == status.APPROVED


def test_bulk_mark_spam(app: Flask, page: Page) -> None:
    ids = [held(app, f"Bulk {n}") for n in range(3)]
    keep = held(app, "Not this one")
    page.reload()
    for comment_id in ids:
        page.check(f"#c{comment_id} input[name=ids]")
    page.select_option("select[name=action]", "spam")
    page.click("button[name=bulk]")
    expect(page.locator("li.comment")).to_have_count(1)
    assert [state(app, i) for i in ids] == [status.SPAM] * 3 and state(app, keep) == status.HELD
    expect(page.locator('[data-count="spam"]')).to_have_text("3")


def test_keyboard_shortcuts_and_undo(app: Flask, page: Page) -> None:
    first, second, third = (held(app, f"Keyboard {n}") for n in range(3))  # newest first on the page
    page.reload()
    expect(page.locator("li.comment.current")).to_have_attribute("data-id", str(third))
    page.keyboard.press("j")
    expect(page.locator("li.comment.current")).to_have_attribute("data-id", str(second))
    page.keyboard.press("a")
    expect(page.locator(f"#c{second}")).to_have_count(0)
    assert state(app, second) == status.APPROVED
    page.keyboard.press("u")
    expect(page.locator(f"#c{second}")).to_have_count(1)
    assert state(app, second) == status.HELD
    # Undo reloads the page: the rows can be there before its script listens for keys and marks the current one.
    expect(page.locator("li.comment.current")).to_have_attribute("data-id", str(third))
    page.keyboard.press("k")
    page.keyboard.press("s")
    expect(page.locator(f"#c{third}")).to_have_count(0)
    assert state(app, third) == status.SPAM
    page.keyboard.press("d")
    expect(page.locator("li.comment")).to_have_count(1)  # the page has caught up before the next key
    assert_eventually(lambda: state(app, second) == status.TRASH or state(app, first) == status.TRASH)
    page.keyboard.press("x")
    expect(page.locator("li.comment.current input[name=ids]")).to_be_checked()


def assert_eventually(condition: Any) -> None:
    from .conftest import wait_for

    wait_for(condition, timeout=10)


def test_delete_for_ever_asks_first(app: Flask, page: Page) -> None:
    comment_id = held(app, "Delete me")
    page.reload()
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click(f"#c{comment_id} a.delete")
    assert state(app, comment_id) == status.HELD
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"#c{comment_id} a.delete")
    expect(page.locator(f"#c{comment_id}")).to_have_count(0)
    assert state(app, comment_id) is None


@pytest.mark.parametrize("engine", ["bleach", "nh3"])
def test_hostile_comments_render_inert_in_the_queue(app: Flask, admin: Admin, chromium: Any, engine: str) -> None:
    """The XSS corpus, stored as the intake stores it, shown on the queue with the originals opened."""
    from service import sanitize

    stored = 0
    for payload in PAYLOADS:
        content = sanitize.sanitize(payload, engine)
        if content.strip():
            held(app, content, original=payload, author=payload[:245], url=None)
            stored += 1
    with live_server(app) as base:
        with watched_page(chromium, base) as (tab, watch):
            log_in(tab, base)
            tab.goto("/admin/?per_page=200")
            for summary in tab.locator("details.original summary").all():
                summary.click()
            report = tab.evaluate(DOM_REPORT)
    assert report["contents"] == stored
    assert_inert(report, watch)
