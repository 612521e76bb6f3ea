"""The store against both backends: transitions, the audit trail, duplicates and thread order."""

from __future__ import annotations

import os
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import select, text

from service import db, status, store
from service.db import checkpoint, get_engine, make_engine, upgrade
from service.schema import comment_domains, metadata, spam_marks

from .conftest import VALID, in_database_file
from .test_worker import submit


def new_comment(conn: Any, state: str = status.PENDING, **changes: Any) -> int:
    values = {"post_id": VALID["post_id"], "author": VALID["author"], "email": VALID["email"], "url": None,
              "content": "hello", "original": "hello", **changes}
    return store.insert_comment(conn, values, state)


@pytest.mark.filterwarnings("ignore:.*expression-based index")  # SQLite cannot reflect the lower(email) index
def test_the_migrations_build_the_schema_the_code_declares(backend_url: str) -> None:
    engine = make_engine(backend_url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    engine.dispose()


def test_insert_records_arrival_in_the_audit_trail(any_app: Flask) -> None:
    with any_app.app_context(), get_engine().begin() as conn:
        comment_id = new_comment(conn)
        (change,) = store.changes_for(conn, comment_id)
    assert (change["from_status"], change["to_status"], change["actor"]) == (None, status.PENDING, store.INTAKE)


def test_verdict_is_written_once(any_app: Flask) -> None:
    """Of two writers (a job delivered twice, two workers racing) only the first changes anything."""
    with any_app.app_context(), get_engine().begin() as conn:
        comment_id = new_comment(conn)
    with any_app.app_context():
        with get_engine().begin() as conn:
            assert store.set_verdict(conn, comment_id, status.HELD, 0.5, [{"check": "x", "reason": "r"}], "w1")
        with get_engine().begin() as conn:
            assert not store.set_verdict(conn, comment_id, status.SPAM, 2.0, [], "w2")
        with get_engine().connect() as conn:
            row = store.get_comment(conn, comment_id)
            changes = store.changes_for(conn, comment_id)
    assert row is not None and row["status"] == status.HELD and row["spam_score"] == 0.5
    assert row["reasons"] == [{"check": "x", "reason": "r"}]
    assert [(c["to_status"], c["actor"], c["reason"]) for c in changes][1:] == [(status.HELD, "w1", "r")]


def test_transition_records_who_and_why(any_app: Flask) -> None:
    with any_app.app_context(), get_engine().begin() as conn:
        comment_id = new_comment(conn, status.HELD)
        assert store.transition(conn, comment_id, status.APPROVED, "moderator:ann", "fine") == status.HELD
        assert store.transition(conn, 10**9, status.APPROVED, "moderator:ann") is None
        last = store.changes_for(conn, comment_id)[-1]
    assert (last["from_status"], last["to_status"], last["actor"], last["reason"]) == (
        status.HELD, status.APPROVED, "moderator:ann", "fine")


@pytest.mark.parametrize(("state", "duplicate"), [(status.APPROVED, True), (status.SPAM, True),
                                                   (status.TRASH, False)])
def test_duplicates_ignore_trash(any_app: Flask, state: str, duplicate: bool) -> None:
    with any_app.app_context(), get_engine().begin() as conn:
        new_comment(conn, state, original="same words")
        same_email = store.same_text(VALID["post_id"], "other", VALID["email"], "same words")
        assert store.duplicate_and_choice(conn, same_email) == (duplicate, None)
        other = store.same_text(VALID["post_id"], "other", "other@x.org", "same words")
        assert store.duplicate_and_choice(conn, other) == (False, None)


def test_link_domains_are_kept_for_reputation(any_app: Flask) -> None:
    content = '<a href="https://www.Spam.example/x" rel="nofollow ugc">x</a> <a href="mailto:a@b.c">m</a>'
    with any_app.app_context(), get_engine().begin() as conn:
        comment_id = new_comment(conn, content=content, url="http://author.example/")
        domains = set(conn.execute(select(comment_domains.c.domain)
                                   .where(comment_domains.c.comment_id == comment_id)).scalars())
    assert domains == {"spam.example", "author.example"}


def test_approved_thread_orders_replies_under_parents(any_app: Flask) -> None:
    with any_app.app_context(), get_engine().begin() as conn:
        first = new_comment(conn, status.APPROVED, content="first")
        second = new_comment(conn, status.APPROVED, content="second")
        reply = new_comment(conn, status.APPROVED, content="reply", parent_id=first)
        new_comment(conn, status.APPROVED, content="reply to reply", parent_id=reply)
        hidden = new_comment(conn, status.HELD, content="held", parent_id=second)
        new_comment(conn, status.APPROVED, content="orphan", parent_id=hidden)
        thread = store.approved_thread(conn, VALID["post_id"])
    assert [(c["content"], c["depth"]) for c in thread] == [
        ("first", 0), ("reply", 1), ("reply to reply", 2), ("second", 0), ("orphan", 0)]
    assert all("email" not in c and "ip" not in c for c in thread)


def test_first_time_authors_are_known_by_approved_email(any_app: Flask) -> None:
    with any_app.app_context(), get_engine().begin() as conn:
        new_comment(conn, status.HELD)
        assert not store.has_approved_comment(conn, VALID["email"])
        new_comment(conn, status.APPROVED, original="other")
        assert store.has_approved_comment(conn, VALID["email"].upper())


def test_migration_0005_marks_the_spam_moderators_filed(tmp_path: Any) -> None:
    """Upgrading a database with moderators' spam verdicts carries them into spam_marks; the engine's do not count."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade(url, "0004")
    engine = make_engine(url)
    with engine.begin() as conn:
        for email, actor in (("Mod@Spam.example", "moderator:ann"), ("engine@spam.example", store.SPAM_CHECK)):
            comment_id = int(conn.execute(text(
                "INSERT INTO comments (post_id, author, email, url, content, original, content_hash, ip, status,"
                " reasons, signals, created_at, updated_at) VALUES ('p', 'A', :email, NULL,"
                " '<a href=\"https://pills.example/\">x</a>', 'x', 'h', '192.0.2.1', 'spam', '[]', '{}',"
                " '2026-01-01', '2026-01-01') RETURNING id"), {"email": email}).scalar_one())
            conn.execute(text("INSERT INTO comment_domains VALUES (:id, 'pills.example')"), {"id": comment_id})
            conn.execute(text("INSERT INTO status_changes (comment_id, from_status, to_status, actor, created_at)"
                              " VALUES (:id, 'held', 'spam', :actor, '2026-01-01')"),
                         {"id": comment_id, "actor": actor})
    upgrade(url)
    with engine.connect() as conn:
        marks = conn.execute(select(spam_marks.c.kind, spam_marks.c.value).order_by(spam_marks.c.kind)).all()
    engine.dispose()
    assert [tuple(mark) for mark in marks] == [("domain", "pills.example"), ("email", "mod@spam.example"),
                                              ("ip", "192.0.2.1")]


def test_requests_leave_the_sqlite_checkpoint_to_the_workers(app: Flask, sqlite_url: str) -> None:
    """A submission stays in the write-ahead log until `checkpoint` (the workers' relay thread) copies it back."""
    with app.app_context():
        checkpoint(get_engine())  # an empty log: no request of this test reaches the safety net's size
        # Well over SQLite's default of 1,000 pages of log, after which a commit would copy it back itself.
        ids = [submit(app, comment=f"{n} " + "A longer comment that fills pages. " * 100) for n in range(150)]
        assert not any(in_database_file(sqlite_url, comment_id) for comment_id in ids)
        checkpoint(get_engine())
    assert all(in_database_file(sqlite_url, comment_id) for comment_id in ids)


def test_the_sqlite_log_shrinks_back_after_a_burst(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A burst grows the write-ahead log; once it is copied back, the next write cuts it to the limit."""
    monkeypatch.setattr(db, "SQLITE_WAL_LIMIT_BYTES", 64 * 1024)
    engine = make_engine(f"sqlite:///{tmp_path / 'burst.sqlite3'}")
    wal = tmp_path / "burst.sqlite3-wal"
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (body TEXT)"))
        conn.execute(text("INSERT INTO t VALUES (:body)"), [{"body": "x" * 4000}] * 500)
    burst = os.path.getsize(wal)
    checkpoint(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES ('after')"))
    after = os.path.getsize(wal)  # the pool keeps a connection open, so the log is still there
    engine.dispose()
    assert burst > 1024 * 1024 and after <= 64 * 1024
