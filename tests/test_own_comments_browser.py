"""The demo post in a real Chromium: its author sees a comment while it waits, edits it, and deletes it."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from service import status
from service.db import get_engine
from service.demo import seed_posts
from service.schema import comments

from .browser import live_server, watched_page

pytestmark = pytest.mark.browser

POST_ID = next(iter(seed_posts()))
DEADLINE_MS = 10_000


def statuses(app: Flask) -> list[str]:
    with app.app_context(), get_engine().connect() as conn:
        return list(conn.execute(comments.select().with_only_columns(comments.c.status)).scalars())


def test_the_author_sees_edits_and_deletes_their_comment(app_factory: Any, chromium: Any, work: Any) -> None:
    app = app_factory(MIN_SUBMIT_SECONDS=0.0)
    with live_server(app) as base, watched_page(chromium, base) as (page, watch):
        page.goto(f"/demo/{POST_ID}", wait_until="load")
        expect(page.locator("#commentform [name=form_token]")).not_to_have_value("", timeout=DEADLINE_MS)
        page.fill("#commentform [name=author]", "Ada Lovelace")
        page.fill("#commentform [name=email]", "ada@example.org")
        page.fill("#commentform [name=comment]", "A first thought.")
        page.click("#commentform button[type=submit]")
        own = page.locator("article.comment.own")
        own.locator(".notice").wait_for(timeout=DEADLINE_MS)
        assert own.locator(".notice").inner_text() == "Your comment is awaiting moderation."
        assert own.locator(".content").inner_text() == "A first thought."
        assert statuses(app) == [status.PENDING]

        page.reload(wait_until="load")  # the page shows it again from the token it kept
        own.locator(".notice").wait_for(timeout=DEADLINE_MS)
        own.locator("button.edit").click()
        page.fill("article.comment.own textarea", "A <b>second</b> thought.<img src=x onerror=xss(1)>")
        own.locator("button.save").click()
        own.locator(".content b").wait_for(timeout=DEADLINE_MS)
        assert own.locator(".content").inner_html() == "A <b>second</b> thought."

        assert work(app) and statuses(app) == [status.APPROVED]
        page.reload(wait_until="load")  # now in the thread the server renders, with the author's buttons
        published = page.locator("article.comment:not(.own)")
        published.locator("button.delete").wait_for(timeout=DEADLINE_MS)
        assert published.locator(".notice").count() == 0
        assert published.locator(".content").inner_html() == "A <b>second</b> thought."
        published.locator("button.delete").click()
        published.wait_for(state="detached", timeout=DEADLINE_MS)
        assert statuses(app) == [status.TRASH]
        page.reload(wait_until="networkidle")
        assert page.locator("article.comment").count() == 0
        marks = page.evaluate("window.__xss")
    assert marks == [] and watch.dialogs == [] and watch.foreign_requests == [] and watch.navigations == []
