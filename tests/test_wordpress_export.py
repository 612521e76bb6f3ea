"""`comments export wordpress FILE`: every comment as WXR, which `comments import wordpress` reads back whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from flask import Flask
from sqlalchemy import select

from service import posts, status, store
from service.db import get_engine
from service.schema import comments

from .conftest import empty_tables, valid
from .test_cli import run
from .test_wordpress_import import EXPORT

KEPT = ("post_id", "author", "email", "url", "ip", "content", "status")


def snapshot(app: Flask) -> set[tuple[Any, ...]]:
    """What an export must carry, each comment with its parent's text instead of its id.

    WXR dates are whole seconds; the page is the post's (its item's link), asserted on its own.
    """
    with app.app_context(), get_engine().connect() as conn:
        rows = {row["id"]: row for row in conn.execute(select(comments)).mappings()}
    return {(*(row[name] for name in KEPT), store.as_utc(row["created_at"]).replace(microsecond=0).isoformat(),
             rows[row["parent_id"]]["content"] if row["parent_id"] else None) for row in rows.values()}


def pages(app: Flask) -> set[tuple[str, str | None]]:
    with app.app_context(), get_engine().connect() as conn:
        return {(post_id, page) for post_id, page in conn.execute(select(comments.c.post_id, comments.c.page))}


def export_and_import_again(app: Flask, path: Path, *options: str) -> Any:
    exported = run(app, "export", "wordpress", str(path), *options)
    assert exported.exit_code == 0, exported.output
    with app.app_context():
        empty_tables(app)
    imported = run(app, "import", "wordpress", str(path), "--post-id", "slug")
    assert imported.exit_code == 0, imported.output
    return exported


def test_an_imported_site_goes_out_and_back_unchanged(any_app: Flask, tmp_path: Path) -> None:
    assert run(any_app, "import", "wordpress", str(EXPORT)).exit_code == 0
    before, linked = snapshot(any_app), pages(any_app)
    exported = export_and_import_again(any_app, tmp_path / "out.xml")
    assert exported.output == "Exported 6 comments (3 approved, 1 held, 1 spam, 1 trash).\n"
    assert snapshot(any_app) == before and pages(any_app) == linked
    with any_app.app_context(), get_engine().connect() as conn:  # "second" was closed in WordPress
        assert [(p["post_id"], p["comments_open"]) for p in posts.choices(conn)] == [("1300", False)]
    assert any(row[0] == "1234" and row[-1] for row in before)  # a thread made the trip


def test_what_the_site_was_sent_goes_out_escaped_and_comes_back(app: Flask, tmp_path: Path) -> None:
    client = app.test_client()
    hostile = "Tom & Jerry say <b>hi</b> ]]> <script>x</script> \U0001f600 </wp:comment_content><wp:x>"
    first = client.post("/comments", json=valid(post_id="a/b & c", comment=hostile,
                                                redirect_to="https://blog.example/a-b-c/")).get_json()
    with app.app_context(), get_engine().begin() as conn:
        store.transition(conn, first["id"], status.APPROVED, "moderator:ann")
    client.post("/comments", json=valid(post_id="a/b & c", comment="A reply.", parent_id=first["id"],
                                        author="<b>Bob</b>", email="bob@example.org"))
    client.post("/comments", json=valid(post_id="7", comment="On a numbered post.", author="Grace",
                                        email="grace@example.org"))
    before = snapshot(app)
    path = tmp_path / "out.xml"
    export_and_import_again(app, path)
    assert "<script>" not in path.read_text(encoding="utf-8")  # the sanitized text, not the submission
    root = ElementTree.parse(path).getroot()  # well-formed, whatever the text
    wp = "{http://wordpress.org/export/1.2/}"
    items = {item.findtext(f"{wp}post_name"): item for item in root.iter("item")}
    assert items["7"].findtext(f"{wp}post_id") == "7" and items["a/b & c"].findtext(f"{wp}post_id") == "8"
    assert items["a/b & c"].findtext("link") == "https://blog.example/a-b-c/"  # the page a comment was on
    assert pages(app) == {("a/b & c", "https://blog.example/a-b-c/"), ("7", None)}
    assert items["a/b & c"].findtext("{http://www.disqus.com/}thread_identifier") == "a/b & c"
    # WordPress has no "pending": a comment not checked yet goes out, and comes back, held.
    assert snapshot(app) == {(*row[:6], status.HELD if row[6] == status.PENDING else row[6], *row[7:])
                             for row in before}


def test_only_some_statuses_and_to_standard_output(app: Flask) -> None:
    assert run(app, "import", "wordpress", str(EXPORT)).exit_code == 0
    result = run(app, "export", "wordpress", "-", "--status", "approved", "--status", "held")
    assert result.exit_code == 0
    xml = result.stdout
    root = ElementTree.fromstring(xml)
    wp = "{http://wordpress.org/export/1.2/}"
    assert sorted(c.findtext(f"{wp}comment_approved") for c in root.iter(f"{wp}comment")) == ["0", "1", "1", "1"]
    assert result.stderr == "Exported 4 comments (3 approved, 1 held).\n"
    none = run(app, "export", "wordpress", "-", "--status", "pending")
    assert none.stderr == "Exported 0 comments (none).\n" and not list(ElementTree.fromstring(none.stdout).iter("item"))


def test_characters_xml_cannot_carry_are_left_out(app: Flask, tmp_path: Path) -> None:
    """A noncharacter (U+FFFE) is a valid comment but no XML document may hold it, even escaped."""
    response = app.test_client().post("/comments", json=valid(comment="odd \ufffe one"))
    assert response.status_code == 202
    result = run(app, "export", "wordpress", "-")
    root = ElementTree.fromstring(result.stdout)
    assert [c.text for c in root.iter("{http://wordpress.org/export/1.2/}comment_content")] == ["odd  one"]
