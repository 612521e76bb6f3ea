"""Alembic environment: runs the migrations against the URL `service.db.upgrade` passes in."""

from __future__ import annotations

from alembic import context

from service.db import make_engine
from service.schema import metadata

config = context.config
target_metadata = metadata


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
