"""What every scenario needs: a private Redis that can be stopped and restarted on its port, a private
PostgreSQL, the service's processes, a recording HTTP client, and the checks on comments and their audit trail.

Processes are started with `bench.load.Server` (started by PID, stopped by PID) and every wait polls a
condition against a deadline.
"""

from __future__ import annotations

import glob
import http.client
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from rq.registry import StartedJobRegistry
from rq.serializers import JSONSerializer
from sqlalchemy import Engine, create_engine, text

from bench.load import Server, _redis_pings, free_port, process_tree, wait_until
from service.queue import QUEUE_NAME

COMMENTS = [sys.executable, "-m", "service"]
CLIENT_TIMEOUT = 5.0
"""Seconds a client waits for an answer; longer counts as a hang."""


class Report:
    """The checks of one scenario: each prints one PASS/FAIL line; `ok` is False after any failure."""

    def __init__(self, name: str) -> None:
        self.name, self.failures = name, 0

    def say(self, line: str) -> None:
        print(f"  {line}", flush=True)

    def check(self, what: str, ok: bool, detail: str = "") -> bool:
        self.failures += not ok
        print(f"  {'PASS' if ok else 'FAIL'}  {what}" + (f" ({detail})" if detail else ""), flush=True)
        return ok

    @property
    def ok(self) -> bool:
        return self.failures == 0


class RedisServer:
    """A redis-server on a fixed free port, keeping nothing on disk; `stop` and `start` again come back empty."""

    def __init__(self, folder: str) -> None:
        self.port, self.folder = free_port(), folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if not binary:
            raise SystemExit("redis-server is needed (apt-get install redis-server)")
        self.process = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no", "--dir", self.folder], stdout=subprocess.DEVNULL)
        wait_until(lambda: _redis_pings(self.port), 10, "redis")

    def stop(self) -> None:
        """SIGTERM by PID; with nothing to save it exits at once, and anything it held is gone."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5)


class Postgres:
    """A private PostgreSQL cluster in a temporary folder, run as the postgres user when we are root."""

    def __init__(self, folder: str) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            raise SystemExit("PostgreSQL is needed (apt-get install postgresql)")
        self.bin, self.folder, self.port = Path(found[-1]).parent, folder, free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")

    def run(self, *args: str) -> None:
        subprocess.run([*self.as_postgres, str(self.bin / args[0]), *args[1:]], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def init(self) -> None:
        self.run("initdb", "-D", self.folder, "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", "-D", self.folder, "-o", options, "-l", f"{self.folder}/log", "-w", "start")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", self.folder, "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        return os.path.exists(f"{self.folder}/postmaster.pid")


@dataclass
class Stack:
    """The environment shared by the service's processes of one scenario."""

    env: dict[str, str]
    engine: Engine
    servers: list[Server] = field(default_factory=list)

    def upgrade(self) -> None:
        subprocess.run([*COMMENTS, "db", "upgrade"], env=self.env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def web(self) -> Server:
        port = free_port()
        return self.start(Server([*COMMENTS, "serve", "--port", str(port), "--workers", "2"], self.env,
                                 f"http://127.0.0.1:{port}/healthz"))

    def worker(self, *args: str, log: str | None = None, **env: str) -> Server:
        command, environment = [*COMMENTS, "worker", *args], {**self.env, **env}
        return self.start(Server(command, environment, log=log))

    def start(self, server: Server) -> Server:
        self.servers.append(server)
        return server.__enter__()

    def stop_all(self) -> None:
        for server in reversed(self.servers):
            server.__exit__(None, None, None)
        self.servers.clear()
        self.engine.dispose()

    def queue_length(self) -> int:
        """Spam checks queued plus started (read only: no registry cleanup from here); zero once all is done."""
        connection = redis.Redis.from_url(self.env["REDIS_URL"], socket_timeout=5)
        started = StartedJobRegistry(QUEUE_NAME, connection=connection, serializer=JSONSerializer)
        return int(connection.llen(f"rq:queue:{QUEUE_NAME}")) + started.get_job_count(cleanup=False)

    def pending(self, post_id: str) -> int:
        return int(scalar(self.engine, "SELECT count(*) FROM comments WHERE post_id = :p AND status = 'pending'",
                          p=post_id))

    def pending_among(self, ids: set[int]) -> int:
        with self.engine.connect() as conn:
            found = conn.execute(text("SELECT id FROM comments WHERE status = 'pending'")).scalars()
            return len(ids & set(found))


@contextmanager
def stack(redis_url: str, database_url: str, model_path: str, **settings: str) -> Iterator[Stack]:
    """Settings for the service's processes; stops every process started through it on the way out."""
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
           "COMMENTS_SECRET_KEY": secrets.token_urlsafe(32), "COMMENTS_FLOOD_SECONDS": "0",
           "COMMENTS_SANITIZER": "nh3", "COMMENTS_MODEL_PATH": model_path, **settings}
    result = Stack(env, create_engine(database_url, pool_pre_ping=True))
    try:
        yield result
    finally:
        result.stop_all()


def sqlite_url(folder: str) -> str:
    return f"sqlite:///{folder}/comments.sqlite3"


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def kill_tree(server: Server) -> list[int]:
    """SIGKILL a started process and its children (RQ's scheduler) by their PIDs; returns them."""
    assert server.process is not None
    pids = process_tree(server.process.pid)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    server.process.wait(timeout=10)
    return pids


def body(post_id: str, number: int, tag: str) -> bytes:
    """A JSON submission whose text is unique to this run and number."""
    return json.dumps({"post_id": post_id, "author": f"Chaos reader {number}",
                       "email": f"reader-{number}@example.org",
                       "comment": f"Chaos comment {number} of run {tag}: the point stands, thanks."}).encode()


@dataclass
class Answer:
    code: int
    comment_id: int | None
    retry_after: str | None
    seconds: float


class Client:
    """One keep-alive HTTP connection that POSTs submissions and records each answer."""

    def __init__(self, base_url: str, timeout: float = CLIENT_TIMEOUT) -> None:
        host, port = base_url.split("//", 1)[1].split(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        self.answers: list[Answer] = []

    def post(self, payload: bytes) -> Answer:
        started = time.monotonic()
        try:
            self.connection.request("POST", "/comments", body=payload,
                                    headers={"Content-Type": "application/json", "Accept": "application/json"})
            response = self.connection.getresponse()
            data = response.read()
            code = response.status
            comment_id = json.loads(data).get("id") if code == 202 else None
            retry_after = response.getheader("Retry-After")
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            code, comment_id, retry_after = 0, None, None
        answer = Answer(code, comment_id, retry_after, time.monotonic() - started)
        self.answers.append(answer)
        return answer

    def stream(self, payloads: Iterable[bytes], until: Callable[[], bool]) -> list[Answer]:
        """POST payloads one after another until `until()` is true; returns the answers of this stream."""
        first = len(self.answers)
        for payload in payloads:
            if until():
                break
            self.post(payload)
        return self.answers[first:]


def codes(answers: Iterable[Answer]) -> Counter[int]:
    return Counter(answer.code for answer in answers)


def verify_verdicts(report: Report, engine: Engine, post_id: str, accepted: set[int]) -> None:
    """Every accepted comment stored once with a verdict, and exactly one audit row pending -> verdict."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, status, original FROM comments WHERE post_id = :p"),
                            {"p": post_id}).all()
        changes = conn.execute(text(
            "SELECT s.comment_id, s.from_status, s.to_status, s.actor FROM status_changes s "
            "JOIN comments c ON c.id = s.comment_id WHERE c.post_id = :p"), {"p": post_id}).all()
    stored = {row.id for row in rows}
    texts = Counter(row.original for row in rows)
    report.check("ids answered 202 == ids in the database", stored == accepted,
                 f"{len(accepted)} answered, {len(stored)} stored, {len(accepted - stored)} missing, "
                 f"{len(stored - accepted)} unexpected")
    report.check("no text stored twice", max(texts.values(), default=1) == 1,
                 f"{sum(n - 1 for n in texts.values())} duplicates")
    status_of = {row.id: row.status for row in rows}
    pending = [i for i, s in status_of.items() if s == "pending"]
    report.check("every comment has a verdict", not pending, f"{len(pending)} still pending; "
                 + ", ".join(f"{n} {s}" for s, n in sorted(Counter(status_of.values()).items())))
    intake = Counter(c.comment_id for c in changes if c.from_status is None and c.actor == "intake")
    verdicts = Counter(c.comment_id for c in changes if c.from_status == "pending" and c.actor == "spam-check")
    matching = Counter(c.comment_id for c in changes if c.from_status == "pending" and c.actor == "spam-check"
                       and c.to_status == status_of.get(c.comment_id))
    report.check("exactly one intake audit row per comment", all(intake[i] == 1 for i in stored),
                 f"{sum(1 for i in stored if intake[i] != 1)} comments without exactly one")
    report.check("exactly one pending -> verdict audit row by spam-check, matching the status",
                 all(verdicts[i] == 1 and matching[i] == 1 for i in stored),
                 f"{sum(1 for i in stored if verdicts[i] == 0)} without, "
                 f"{sum(1 for i in stored if verdicts[i] > 1)} with more than one")


def wait_for(condition: Callable[[], bool], timeout: float) -> float | None:
    """Poll until true; the seconds it took, or None at the deadline (the scenario then reports FAIL)."""
    started = time.monotonic()
    try:
        wait_until(condition, timeout, "condition")
    except RuntimeError:
        return None
    return time.monotonic() - started


@contextmanager
def folder() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="chaos-") as path:
        os.chmod(path, 0o755)
        yield path
