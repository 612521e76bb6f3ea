"""The floor for bench/isso_compare.py --floor: the least a durable Flask intake can do per comment.

It reads the JSON comment, checks that the required fields are there, cleans the text with nh3 to the
allowed set, inserts one row into a SQLite file (WAL, synchronous=NORMAL, as service/db.py) and commits
before it answers 202. No Redis hand-off, no duplicate or flood check, no audit row, no e-mail syntax
check, no log line: strictly less than POST /comments has to do, so its CPU per comment, measured in
the same run as Isso's, is a lower bound for any Flask intake under the same gunicorn settings.
"""

from __future__ import annotations

import os
import sqlite3
import time

import nh3
from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from service.sanitize import ALLOWED_SCHEMES, ALLOWED_TAGS, LINK_REL

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS comments"
    " (id INTEGER PRIMARY KEY, post_id TEXT, author TEXT, email TEXT, content TEXT, created REAL)"
)
CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes={"*": set(), **{tag: set(names) for tag, names in ALLOWED_TAGS.items()}},
    link_rel=LINK_REL,
    url_schemes=set(ALLOWED_SCHEMES),
    url_relative="deny",
)


_connections: dict[int, sqlite3.Connection] = {}


def connection() -> sqlite3.Connection:
    """One connection per worker process (gunicorn forks them), opened on first use, in autocommit mode."""
    pid = os.getpid()
    if pid not in _connections:
        conn = sqlite3.connect(os.environ["FLOOR_DB"], timeout=5, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(SCHEMA)
        _connections[pid] = conn
    return _connections[pid]


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/comments")
    def comments() -> ResponseReturnValue:
        body = request.get_json(silent=True) or {}
        missing = [name for name in ("post_id", "author", "email", "comment") if not body.get(name)]
        if missing:
            return jsonify(error="missing", fields=missing), 422
        content = CLEANER.clean(body["comment"])
        row = (body["post_id"], body["author"], body["email"], content, time.time())
        cursor = connection().execute(
            "INSERT INTO comments (post_id, author, email, content, created) VALUES (?, ?, ?, ?, ?)", row
        )
        return jsonify(id=cursor.lastrowid, status="pending"), 202

    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        return jsonify(status="ok")

    return app
