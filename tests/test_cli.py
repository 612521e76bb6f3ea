"""The `comments` command group."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, inspect


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url, "COMMENTS_SECRET_KEY": "test-secret-key-0123456789"}
    result = subprocess.run([sys.executable, "-m", "service", "db", "upgrade"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Database is up to date." in result.stdout
    tables = set(inspect(create_engine(url)).get_table_names())
    assert {"comments", "status_changes", "word_lists", "alembic_version"} <= tables


def test_bad_setting_stops_with_the_variable_named(tmp_path: Path) -> None:
    env = {**os.environ, "COMMENTS_MODERATION": "sometimes", "COMMENTS_SECRET_KEY": "test-secret-key-0123456789"}
    result = subprocess.run([sys.executable, "-m", "service", "db", "upgrade"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "COMMENTS_MODERATION" in result.stderr
