"""The database engine: one per process, SQLite tuned for concurrent use, migrations through Alembic."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Engine, create_engine, event, make_url, text

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"

SQLITE_BUSY_MS = 5000
"""How long an SQLite writer waits for the lock before the request answers 503."""
SQLITE_AUTOCHECKPOINT_PAGES = 10_000
"""Pages in SQLite's write-ahead log before a committing connection copies them into the database itself.

The workers checkpoint after every relay pass (`checkpoint`), so a submission does it only when no
worker has for a while (40 MB of log). At SQLite's default of 1,000 pages, one submission in every few
dozen copied the log back, the workers' verdicts included, before its answer.
"""


SQLITE_WAL_LIMIT_BYTES = 64 * 1024 * 1024
"""Size the write-ahead log is cut back to when it starts over after a checkpoint (journal_size_limit).

Without it the file keeps the size of its largest burst for good: a flood that outran the checkpoints
(a reader holding a snapshot, a worker down) leaves a log of hundreds of MB on disk after it is copied back.
"""


def make_engine(url: str) -> Engine:
    """Create the engine; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000})

    @event.listens_for(engine, "connect")
    def _tune(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT_PAGES}")
        cursor.execute(f"PRAGMA journal_size_limit={SQLITE_WAL_LIMIT_BYTES}")
        cursor.close()

    return engine


def get_engine() -> Engine:
    """The engine of the current app."""
    engine: Engine = current_app.extensions["db"]
    return engine


def upgrade(url: str, revision: str = "head") -> None:
    """Apply the migrations up to `revision`.

    Alembic is imported here, not at the top: it (with Mako and Pygments) is 10 MB in every web and worker
    process, which only `comments db upgrade` and the tests need.
    """
    from alembic import command
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, revision)
    logger.info("database upgraded to %s", revision)


def checkpoint(engine: Engine) -> None:
    """Copy SQLite's write-ahead log into the database as far as readers allow, without waiting (PASSIVE)."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


def ping(engine: Engine) -> None:
    """Raise if the database does not answer."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def init_app(app: Flask) -> None:
    """Create the app's engine and dispose of it in forked children (gunicorn)."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["db"] = engine
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
