"""Prepared statements write exactly what SQLAlchemy would, in the connection's transaction, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, delete, insert, select, text

from service import status
from service.db import get_engine
from service.prepared import Prepared
from service.schema import comments
from service.store import utcnow


def row(n: int, **changes: Any) -> dict[str, Any]:
    values = {"post_id": "p", "parent_id": None, "author": f"Reader {n}", "email": f"reader{n}@example.org",
              "url": None, "content": "<b>hi</b>", "original": "<b>hi</b>", "content_hash": f"{n:064d}",
              "ip": "192.0.2.1", "user_agent": None, "referrer": None, "status": status.PENDING,
              "reasons": [{"check": "links", "score": 0.5, "reason": "2 links (limit 2)"}],
              "signals": {"token": "valid", "seconds": 12.5}, "notify_replies": True,
              "created_at": utcnow()}
    return {**values, "updated_at": values["created_at"], **changes}


@pytest.fixture()
def engine(app_factory: Callable[..., Flask], backend_url: str) -> Engine:
    app = app_factory(backend_url)
    with app.app_context():
        return get_engine()


def stored(engine: Engine, comment_id: int) -> dict[str, Any]:
    """The row as the database holds it, read as text so no type conversion can hide a difference."""
    columns = ", ".join(f"CAST({name} AS TEXT)" for name in row(0) if name != "content_hash")
    with engine.connect() as conn:
        found = conn.execute(text(f"SELECT {columns} FROM comments WHERE id = :i"), {"i": comment_id}).one()
    return dict(zip([name for name in row(0) if name != "content_hash"], found, strict=True))


def test_an_insert_stores_what_sqlalchemy_stores(engine: Engine) -> None:
    values = row(1)
    prepared = Prepared(insert(comments).returning(comments.c.id))
    with engine.begin() as conn:
        [(ours,)] = prepared.rows(conn, values)
        theirs = conn.execute(insert(comments).returning(comments.c.id), {**values, "content_hash": "f" * 64}).scalar()
    assert stored(engine, ours) == stored(engine, theirs)


def test_a_select_binds_the_values_the_statement_carries(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(comments), [row(1), row(2, status=status.TRASH)])
    query = Prepared(select(comments.c.author).where(comments.c.status != status.TRASH).limit(5))
    with engine.connect() as conn:
        assert query.rows(conn, {}) == [("Reader 1",)]


def test_it_joins_the_transaction_and_begins_one_when_none_is(engine: Engine) -> None:
    prepared = Prepared(insert(comments).returning(comments.c.id))
    with engine.connect() as conn:
        [(kept,)] = prepared.rows(conn, row(1))
        conn.commit()
        [(dropped,)] = prepared.rows(conn, row(2))
        conn.rollback()
    with engine.connect() as conn:
        assert list(conn.execute(select(comments.c.id)).scalars()) == [kept] != [dropped]
        conn.execute(delete(comments))


def test_other_columns_get_their_own_compiled_form(engine: Engine) -> None:
    prepared = Prepared(insert(comments).returning(comments.c.id))
    with engine.begin() as conn:
        [(first,)] = prepared.rows(conn, row(1))
        [(chosen,)] = prepared.rows(conn, {**row(2), "id": first + 10})
    assert chosen == first + 10


def test_a_column_with_a_python_default_must_be_given(engine: Engine) -> None:
    values = row(1)
    del values["notify_replies"]
    with engine.begin() as conn, pytest.raises(ValueError, match="notify_replies"):
        Prepared(insert(comments)).rows(conn, values)
