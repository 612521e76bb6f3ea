"""The demo post: the seed page with its approved thread and a working comment form."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from service import status, store
from service.db import get_engine
from service.demo import seed_posts

from .conftest import valid

POST_ID = next(iter(seed_posts()))


def test_demo_post_shows_the_seed_and_only_approved_comments(app: Flask, client: FlaskClient) -> None:
    shown = client.post("/comments", json=valid(post_id=POST_ID, comment="Published <em>thought</em>"))
    client.post("/comments", json=valid(post_id=POST_ID, comment="Still waiting"))
    with app.app_context(), get_engine().begin() as conn:
        store.transition(conn, shown.get_json()["id"], status.APPROVED, "moderator:test")
    page = client.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Massachusetts Gov. Patrick Letter" in html
    assert "Published <em>thought</em>" in html and "Still waiting" not in html
    assert "Your email address will not be published. Required fields are marked *" in html
    assert "You may use these HTML tags and attributes: a href title" in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]
    assert client.get("/demo/no-such-post").status_code == 404


def test_the_demo_form_posts_and_comes_back(client: FlaskClient) -> None:
    data = valid(post_id=POST_ID, redirect_to=f"http://localhost/demo/{POST_ID}")
    response = client.post("/comments", data=data)
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"http://localhost/demo/{POST_ID}#comment-")


def test_reply_links_set_the_forms_parent_as_wordpress_replytocom_does(app: Flask, client: FlaskClient) -> None:
    shown = client.post("/comments", json=valid(post_id=POST_ID, author="Ada <b>L</b>")).get_json()["id"]
    waiting = client.post("/comments", json=valid(post_id=POST_ID, comment="Still waiting")).get_json()["id"]
    with app.app_context(), get_engine().begin() as conn:
        store.transition(conn, shown, status.APPROVED, "moderator:test")
    page = client.get("/").get_data(as_text=True)
    assert f'href="?replytocom={shown}#respond"' in page and 'name="parent_id" value="0"' in page
    assert 'type="application/atom+xml"' in page and f"/feed?post_id={POST_ID}" in page
    replying = client.get(f"/?replytocom={shown}").get_data(as_text=True)
    assert f'name="parent_id" value="{shown}"' in replying
    assert "Reply to Ada &lt;b&gt;L&lt;/b&gt;" in replying and "Cancel reply" in replying
    for other in (waiting, "x", ""):  # not an approved comment of this thread: a top-level comment
        assert 'name="parent_id" value="0"' in client.get(f"/?replytocom={other}").get_data(as_text=True)
    data = valid(post_id=POST_ID, parent_id=str(shown), comment="A reply", redirect_to=f"http://localhost/demo/{POST_ID}")
    assert client.post("/comments", data=data).status_code == 303
