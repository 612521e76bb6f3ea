"""The Atom feeds: approved comments only, public fields only, valid XML whatever the comments hold."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest
from flask import Flask
from sqlalchemy import update

from service import status, store
from service.db import get_engine
from service.schema import comments

from .conftest import valid

ATOM = "{http://www.w3.org/2005/Atom}"
SITE = "https://blog.example"


def stored(app: Flask, state: str = status.APPROVED, referrer: str | None = None, **changes: Any) -> int:
    values = {**valid(), "original": "x", "ip": "192.0.2.7", "referrer": referrer, **changes}
    values["content"] = values.pop("comment")
    with app.app_context(), get_engine().begin() as conn:
        return store.insert_comment(conn, values, state)


def entries(app: Flask, query: str = "") -> list[ElementTree.Element]:
    answer = app.test_client().get(f"/feed{query}")
    assert answer.status_code == 200 and answer.mimetype == "application/atom+xml"
    root = ElementTree.fromstring(answer.data)
    assert root.tag == f"{ATOM}feed" and root.find(f"{ATOM}id") is not None
    return root.findall(f"{ATOM}entry")


def test_one_posts_feed_holds_its_approved_comments_newest_first(any_app: Flask) -> None:
    first = stored(any_app, post_id="letter", comment="<b>First</b> &amp; best")
    second = stored(any_app, post_id="letter", comment="Second", url=None)
    stored(any_app, status.HELD, post_id="letter", comment="Held")
    stored(any_app, status.SPAM, post_id="letter", comment="Spam")
    stored(any_app, post_id="other", comment="Elsewhere")
    found = entries(any_app, "?post_id=letter")
    assert [e.findtext(f"{ATOM}id", "").rsplit("-", 1)[1] for e in found] == [str(second), str(first)]
    assert found[1].findtext(f"{ATOM}content") == "<b>First</b> &amp; best"  # the HTML, escaped once in the XML
    assert found[1].find(f"{ATOM}content").get("type") == "html"  # type: ignore[union-attr]
    assert found[1].findtext(f"{ATOM}author/{ATOM}uri") == valid()["url"]
    assert found[0].find(f"{ATOM}author/{ATOM}uri") is None
    assert len(entries(any_app)) == 3  # the whole site: both posts, approved only


def test_the_feed_shows_no_email_address_or_user_agent(app: Flask) -> None:
    stored(app, email="secret@example.org", user_agent="SecretAgent/1.0", comment="Hello")
    body = app.test_client().get("/feed").data
    assert b"secret@example.org" not in body and b"192.0.2.7" not in body and b"SecretAgent" not in body


def test_an_entry_links_its_page_only_on_the_sites_origin(app_factory: Any) -> None:
    app = app_factory(ALLOWED_ORIGINS=[SITE])
    mine = stored(app, referrer=f"{SITE}/2011/06/letter/#respond", comment="Mine")
    stored(app, referrer="https://evil.example/", comment="Theirs")
    form = stored(app, referrer=f"{SITE}/", page=f"{SITE}/2011/06/letter/", comment="From the form")
    links = {e.findtext(f"{ATOM}content"): e.find(f"{ATOM}link") for e in entries(app)}
    assert links["Mine"] is not None and links["Mine"].get("href") == f"{SITE}/2011/06/letter/#comment-{mine}"
    assert links["From the form"].get("href") == f"{SITE}/2011/06/letter/#comment-{form}"  # the page, not the origin
    assert links["Theirs"] is None


def test_characters_xml_cannot_hold_are_left_out(app: Flask) -> None:
    stored(app, author="Ada\ufffe", comment="odd \uffff text")
    [found] = entries(app)
    assert found.findtext(f"{ATOM}content") == "odd  text" and found.findtext(f"{ATOM}author/{ATOM}name") == "Ada"


def test_at_most_fifty_entries_and_an_etag(app: Flask) -> None:
    for n in range(55):
        stored(app, comment=f"Comment {n}")
    assert len(entries(app)) == 50
    client = app.test_client()
    tag = client.get("/feed").headers["ETag"]
    assert client.get("/feed", headers={"If-None-Match": tag}).status_code == 304
    with app.app_context(), get_engine().begin() as conn:
        conn.execute(update(comments).where(comments.c.content == "Comment 54").values(status=status.TRASH))
    assert client.get("/feed", headers={"If-None-Match": tag}).status_code == 200


@pytest.mark.parametrize(("query", "sentence"), [
    ("?post_id=a&post_id=b", "Give one post id, or none for the whole site."),
    ("?post_id=" + "x" * 300, "A post id is at most 200 characters, without control characters."),
    ("?post_id=a%01", "A post id is at most 200 characters, without control characters."),
])
def test_a_bad_post_id_is_a_422_naming_it_and_saying_what_is_wrong(app: Flask, query: str, sentence: str) -> None:
    answer = app.test_client().get(f"/feed{query}")
    assert answer.status_code == 422 and answer.get_json()["errors"] == {"post_id": sentence}


def test_an_empty_feed_is_valid(app: Flask) -> None:
    assert entries(app, "?post_id=nothing-yet") == []
