"""Closing a post to new comments: by a moderator (API, page, command) or by age, on both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from service import posts, store
from service.db import get_engine
from service.schema import comments

from .conftest import Admin, valid
from .test_admin_forms import Moderator
from .test_cli import run

CLOSED = {"errors": {"post_id": "Comments are closed on this post."}}


def submit(app: Flask, post_id: str = "p1", **changes: Any) -> Any:
    return app.test_client().post("/comments", json=valid(post_id=post_id, **changes))


def is_open(app: Flask, post_id: str = "p1") -> bool:
    answer = app.test_client().get(f"/posts/{post_id}/comments").get_json()
    assert answer["post_id"] == post_id
    return bool(answer["open"])


def age(app: Flask, post_id: str, days: float) -> None:
    """Make the post's comments as old as that."""
    with app.app_context(), get_engine().begin() as conn:
        conn.execute(update(comments).where(comments.c.post_id == post_id)
                     .values(created_at=store.utcnow() - timedelta(days=days)))


def test_a_moderator_closes_a_post_and_opens_it_again(any_app: Flask) -> None:
    admin = Admin(any_app)
    assert submit(any_app).status_code == 202 and is_open(any_app)
    closing = admin.api("PUT", "/posts/p1", json={"comments_open": False})
    assert closing.get_json() == {"post_id": "p1", "comments_open": False, "open": False}
    refused = submit(any_app, comment="Too late.")
    assert refused.status_code == 403 and refused.get_json() == CLOSED
    form = any_app.test_client().post("/comments", data=valid(post_id="p1", comment="Too late."))
    assert form.status_code == 403 and "Comments are closed on this post." in form.get_data(as_text=True)
    assert not is_open(any_app) and is_open(any_app, "p2") and submit(any_app, "p2").status_code == 202
    [choice] = admin.api("GET", "/posts").get_json()["posts"]
    assert (choice["post_id"], choice["comments_open"], choice["changed_by"]) == ("p1", False, "moderator:ann")
    assert admin.api("PUT", "/posts/p1", json={"comments_open": None}).get_json()["open"] is True
    assert submit(any_app, comment="Open again.").status_code == 202
    assert admin.api("GET", "/posts").get_json() == {"posts": [], "close_after_days": 0}


def test_old_posts_close_by_the_age_of_their_first_comment(app_factory: Any, backend_url: str) -> None:
    app = app_factory(backend_url, CLOSE_AFTER_DAYS=14)
    for post_id, days in (("old", 15), ("recent", 13)):
        assert submit(app, post_id).status_code == 202
        age(app, post_id, days)
    assert submit(app, "old", comment="Another.").get_json() == CLOSED
    assert submit(app, "recent", comment="Another.").status_code == 202
    assert (is_open(app, "old"), is_open(app, "recent"), is_open(app, "never-commented")) == (False, True, True)
    Admin(app).api("PUT", "/posts/old", json={"comments_open": True})  # kept open whatever its age
    assert submit(app, "old", comment="Another.").status_code == 202


def test_the_command(app: Flask) -> None:
    assert run(app, "posts", "set", "close", "a/b").output == "a/b: closed to new comments.\n"
    assert submit(app, "a/b").get_json() == CLOSED
    shown = run(app, "posts", "show").output.splitlines()
    assert shown[0].startswith("closed  a/b  (cli, ") and shown[1:] == ["Any other post is open."]
    assert run(app, "posts", "set", "default", "a/b").output == "a/b: open for new comments.\n"
    assert run(app, "posts", "show").output == "Any other post is open.\n"
    refused = run(app, "posts", "set", "close", "a\x01b")
    assert refused.exit_code == 2 and "at most 200 characters, without control characters" in refused.output


def test_the_settings_page_closes_and_reopens(app: Flask, admin: Admin) -> None:
    moderator = Moderator(admin)
    moderator.post("/admin/settings", close_posts="p1\n\n p2 \n")
    page = moderator.page("/admin/settings")
    assert "Posts: 2 closed, 0 back to the default." in page and "<code>p2</code>" in page
    assert not is_open(app, "p1") and not is_open(app, "p2")
    moderator.post("/admin/settings", default_post="p1")
    assert is_open(app, "p1") and not is_open(app, "p2")
    refused = moderator.post("/admin/settings", close_posts="x" * 201)
    assert "Nothing was changed: a post id is at most 200" in moderator.page(refused.headers["Location"])


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/posts/p1", {"comments_open": "no"}, "comments_open"),
    ("/posts/p1", {"comments_open": 1}, "comments_open"),
    ("/posts/p1", {}, "comments_open"),
    ("/posts/p1", ["comments_open"], "comments_open"),
    ("/posts/" + "x" * 201, {"comments_open": False}, "post_id"),
])
def test_a_bad_choice_is_a_422_naming_it(app: Flask, admin: Admin, path: str, body: Any, field: str) -> None:
    response = admin.api("PUT", path, json=body)
    assert response.status_code == 422 and list(response.get_json()["errors"]) == [field]


def test_the_demo_post_says_so_instead_of_showing_its_form(app: Flask) -> None:
    from service.demo import seed_posts

    post_id = next(iter(seed_posts()))
    with app.app_context(), get_engine().begin() as conn:
        posts.choose(conn, post_id, False, "cli")
    page = app.test_client().get(f"/demo/{post_id}").get_data(as_text=True)
    assert "Comments are closed." in page and 'id="commentform"' not in page
