"""`comments import wordpress FILE`: a WordPress site's comments, statuses and threads, on both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from service import status, store
from service.db import get_engine
from service.schema import comment_domains, comments, status_changes
from service.wordpress_import import ACTOR

from .conftest import valid
from .test_cli import run

EXPORT = Path(__file__).parent / "data" / "wordpress-export.xml"


def stored(app: Flask) -> dict[str, dict[str, Any]]:
    """Every comment by its author's name."""
    with app.app_context(), get_engine().connect() as conn:
        return {row["author"]: dict(row) for row in conn.execute(select(comments)).mappings()}


def count(app: Flask, table: Any) -> int:
    with app.app_context(), get_engine().connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_import_keeps_statuses_threads_dates_and_authors(any_app: Flask) -> None:
    result = run(any_app, "import", "wordpress", str(EXPORT))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Imported 6 comments on 2 posts (3 approved, 1 held, 1 spam, 1 trash)."
    assert lines[1] == "1 of these posts closed to new comments, as in WordPress."
    assert lines[2] == "Skipped: 1 pingback, 1 too costly to sanitize."
    assert lines[3:] == ["  WordPress comment 17: Comment nests HTML tags too deeply (limit 20)."]
    rows = stored(any_app)
    ada, bob, grace = rows["Ada Lovelace"], rows["Bob"], rows["Grace"]
    assert (ada["post_id"], ada["status"], ada["email"], ada["url"], ada["ip"]) == \
        ("1234", status.APPROVED, "ada@example.org", "https://ada.example.org", "203.0.113.7")
    assert ada["content"] == "Only <b>1 in 4</b> were convicted of a serious crime."
    assert ada["original"].endswith("<script>alert(1)</script>")
    assert store.as_utc(ada["created_at"]).isoformat() == "2011-06-05T14:23:00+00:00"
    assert store.as_utc(grace["created_at"]).isoformat() == "2011-06-06T09:00:00+00:00"  # no GMT date: local one
    assert (grace["url"], grace["ip"], bob["ip"]) == (None, None, "2001:db8::1")  # javascript: and junk dropped
    assert (bob["parent_id"], grace["parent_id"]) == (ada["id"], bob["id"])  # threads, whatever the file's order
    assert (rows["Waiting Reader"]["status"], rows["cheap pills"]["status"]) == (status.HELD, status.SPAM)
    assert (rows["Anonymous"]["status"], rows["Anonymous"]["post_id"], rows["Anonymous"]["email"]) == \
        (status.TRASH, "1300", "")
    with any_app.app_context(), get_engine().connect() as conn:
        [change] = store.changes_for(conn, ada["id"])
        spam_domains = conn.execute(select(comment_domains.c.domain).where(
            comment_domains.c.comment_id == rows["cheap pills"]["id"])).scalars().all()
    assert (change["from_status"], change["to_status"], change["actor"], change["reason"]) == \
        (None, status.APPROVED, ACTOR, "imported from WordPress comment 11")
    assert spam_domains == ["spam.example"]
    closed = any_app.test_client().post("/comments", json=valid(post_id="1300"))
    assert closed.status_code == 403 and any_app.test_client().get("/posts/1234/comments").get_json()["open"]
    thread = any_app.test_client().get("/posts/1234/comments").get_json()["comments"]
    assert [(c["author"], c["depth"]) for c in thread] == [("Ada Lovelace", 0), ("Bob", 1), ("Grace", 2)]
    assert "ada@example.org" not in str(thread) and "203.0.113.7" not in str(thread)


def test_importing_again_adds_nothing(app: Flask) -> None:
    assert run(app, "import", "wordpress", str(EXPORT)).exit_code == 0
    before = (count(app, comments), count(app, status_changes))
    again = run(app, "import", "wordpress", str(EXPORT))
    assert again.output.splitlines()[0] == "Imported 0 comments on 0 posts (none)."
    assert "6 already stored" in again.output
    assert (count(app, comments), count(app, status_changes)) == before


def test_a_moderators_choice_for_a_post_outlives_an_import(app: Flask) -> None:
    """WordPress closed the second post; a moderator here had kept it open before the import."""
    assert run(app, "posts", "set", "open", "1300").exit_code == 0
    assert run(app, "import", "wordpress", str(EXPORT)).exit_code == 0
    assert app.test_client().get("/posts/1300/comments").get_json()["open"]


def test_a_dry_run_stores_nothing_and_says_what_it_would_do(app: Flask) -> None:
    result = run(app, "import", "wordpress", str(EXPORT), "--dry-run")
    assert result.output.startswith("Would import 6 comments on 2 posts")
    assert count(app, comments) == 0 and count(app, status_changes) == 0


def test_posts_can_be_named_by_slug_or_address(app: Flask) -> None:
    assert run(app, "import", "wordpress", str(EXPORT), "--post-id", "slug").exit_code == 0
    assert stored(app)["Ada Lovelace"]["post_id"] == "patrick-letter"
    assert stored(app)["Ada Lovelace"]["page"] == "https://blog.example/2011/06/patrick-letter/"  # for the spam engine
    assert run(app, "import", "wordpress", str(EXPORT), "--post-id", "link").exit_code == 0
    assert "https://blog.example/2011/06/patrick-letter/" in {row["post_id"] for row in stored(app).values()}


def test_a_file_that_is_not_an_export_is_refused_with_a_sentence(app: Flask, tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text("<rss><channel><item><wp:comment>", encoding="utf-8")
    result = run(app, "import", "wordpress", str(broken))
    assert result.exit_code == 1 and f"{broken} is not a WordPress export file:" in result.output
    assert count(app, comments) == 0
