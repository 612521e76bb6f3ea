"""Fixtures: a private Redis, real SQLite and PostgreSQL databases, the app, its client and a burst worker."""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import socket
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from email.message import EmailMessage
from typing import Any

import pytest
import redis
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from service import create_app
from service.db import get_engine, upgrade
from service.schema import metadata

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll until `condition()` is truthy; fail after `timeout` seconds. Never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server on a free port (or REDIS_TEST_URL), so tests never touch anyone's data."""
    if url := os.environ.get("REDIS_TEST_URL"):
        yield url
        return
    binary = shutil.which("redis-server")
    assert binary, "redis-server is needed for the tests (apt-get install redis-server)"
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    wait_for(lambda: _pings(client))
    yield url
    process.terminate()
    process.wait(timeout=10)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@pytest.fixture()
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the PostgreSQL server for this run; in CI an unreachable server fails the tests."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"comments_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure to reach the server is reported the same way
        if IN_CI:
            pytest.fail(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {error}")
        pytest.skip(f"PostgreSQL unreachable ({error}); CI fails here instead of skipping")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One classifier file for the run, trained from the bundled data on first use."""
    return str(tmp_path_factory.mktemp("model") / "classifier.joblib")


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = "sqlite:///" + str(tmp_path_factory.mktemp("sqlite") / "comments.sqlite3")
    upgrade(url)
    return url


def make_app(database_url: str, redis_url: str, model_path: str, **overrides: Any) -> Flask:
    config = {
        "MODEL_PATH": model_path,
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-0123456789",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "FLOOD_SECONDS": 0,
        "ALLOWED_ORIGINS": ("https://blog.example",),
        **overrides,
    }
    return create_app(config)


def empty_tables(app: Flask) -> None:
    with get_engine().begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=["sqlite", "postgres"])
def backend_url(request: pytest.FixtureRequest) -> str:
    """Both storage backends: tests using this run once against each."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture()
def app_factory(sqlite_url: str, redis_client: redis.Redis, redis_url: str,
                model_path: str) -> Iterator[Callable[..., Flask]]:
    """Build apps with config overrides; each starts with empty tables."""
    made: list[Flask] = []

    def build(database_url: str = sqlite_url, **overrides: Any) -> Flask:
        app = make_app(database_url, redis_url, model_path, **overrides)
        with app.app_context():
            empty_tables(app)
        made.append(app)
        return app

    yield build
    for app in made:
        app.extensions["db"].dispose()


@pytest.fixture()
def app(app_factory: Callable[..., Flask]) -> Flask:
    return app_factory()


@pytest.fixture()
def pg_app(app_factory: Callable[..., Flask], postgres_url: str) -> Flask:
    return app_factory(postgres_url)


@pytest.fixture()
def any_app(app_factory: Callable[..., Flask], backend_url: str) -> Flask:
    return app_factory(backend_url)


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def work() -> Callable[[Flask], bool]:
    """Drain the spam-check queue with a real RQ SimpleWorker in this process (burst mode)."""
    from workers.worker import make_worker

    def run(app: Flask) -> bool:
        worker = make_worker(app)
        with app.app_context():
            return bool(worker.work(burst=True, with_scheduler=False))

    return run


def relay(app: Flask) -> int:
    """One pass of the workers' relay: the checks of comments stored since the last pass are enqueued."""
    from service import queue
    from service import relay as relay_module

    with app.app_context():
        return relay_module.relay(get_engine(), queue.get_queue(), app.config["JOB_TIMEOUT"])


def in_database_file(sqlite_url: str, comment_id: int) -> bool:
    """Whether the comment is in the SQLite file itself, not only in its write-ahead log (read as immutable)."""
    path = sqlite_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(f"file:{path}?immutable=1", uri=True)) as conn:
        return bool(conn.execute("SELECT count(*) FROM comments WHERE id = ?", (comment_id,)).fetchone()[0])


def lessons(client: redis.Redis) -> list[list[Any]]:
    """The arguments (comment id, spam?) of every learning job waiting on the queue, oldest first."""
    from rq import Queue
    from rq.serializers import JSONSerializer

    from service.queue import LEARN_QUEUE

    return [list(job.args) for job in Queue(LEARN_QUEUE, connection=client, serializer=JSONSerializer).jobs]


VALID = {
    "author": "Ada Lovelace",
    "email": "ada@example.org",
    "url": "https://ada.example.org",
    "comment": "The letter makes a fair point about <b>Secure Communities</b>.",
    "post_id": "secure-communities",
}


def valid(**changes: Any) -> dict[str, Any]:
    """A valid submission with some fields changed (None removes a field)."""
    data = {**VALID, **changes}
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    from .browser import launch

    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


PASSWORD = "correct horse battery staple"


class Admin:
    """A moderator of an app: an API token for /admin/api and a logged-in test client for the pages."""

    def __init__(self, app: Flask, name: str = "ann") -> None:
        from service.admin import accounts

        self.app, self.name = app, name
        with app.app_context(), get_engine().begin() as conn:
            accounts.add(conn, name, PASSWORD)
            self.token = accounts.create_token(conn, name)
        self.headers = {"Authorization": f"Bearer {self.token}"}
        self.client = app.test_client()

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.client.open(f"/admin/api{path}", method=method, headers=self.headers, **kwargs)

    def csrf(self, path: str = "/admin/login") -> str:
        import re

        page = self.client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert match, page[:300]
        return match.group(1)

    def login(self) -> Admin:
        response = self.client.post("/admin/login", data={"name": self.name, "password": PASSWORD,
                                                           "csrf_token": self.csrf()})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return self


@pytest.fixture()
def admin(app: Flask) -> Admin:
    return Admin(app)


# A real SMTP server on loopback (aiosmtpd), for the emails to moderators and commenters ---------------


class Inbox:
    """aiosmtpd handler: every message the server accepted, parsed."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


def serve(inbox: Inbox, **options: Any) -> tuple[Controller, int]:
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return controller, port


@pytest.fixture()
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller, port = serve(inbox)
    yield inbox, port
    controller.stop()
