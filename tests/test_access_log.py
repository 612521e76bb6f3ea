"""The access line of `comments serve` (with COMMENTS_ACCESS_LOG) is gunicorn's, built from fewer atoms."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from gunicorn import glogging
from gunicorn.config import Config

from service import access_log

from .conftest import free_port, wait_for

ENVIRON = {"REQUEST_METHOD": "POST", "RAW_URI": "/comments?x=1", "PATH_INFO": "/comments", "QUERY_STRING": "x=1",
           "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "192.0.2.7", "HTTP_REFERER": "https://blog.example/post",
           "HTTP_USER_AGENT": 'Mozilla/5.0 "quoted"', "HTTP_X_REQUEST_ID": "abc"}


def line(logger_class: type[glogging.Logger], access_format: str | None, monkeypatch: pytest.MonkeyPatch) -> str:
    config = Config()
    if access_format:
        config.set("access_log_format", access_format)
    logger = logger_class(config)
    monkeypatch.setattr(logger, "now", lambda: "[29/Nov/2026:10:00:00 +0000]")
    response = SimpleNamespace(status="202 ACCEPTED", sent=512, headers=[("Content-Type", "application/json")])
    request = SimpleNamespace(headers=[("X-REQUEST-ID", "abc")])
    atoms: Any = logger.atoms(response, request, ENVIRON, timedelta(seconds=1, microseconds=2500))
    return str(config.access_log_format % glogging.SafeAtoms(atoms))


@pytest.mark.parametrize("access_format", [
    None,  # gunicorn's default, as `comments serve` runs it
    '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(m)s %(U)s %(q)s %(H)s %(B)s %(T)s %(D)s %(M)s %(L)s',
    '%(h)s "%(r)s" %(s)s %({x-request-id}i)s %({content-type}o)s',  # header atoms: gunicorn's own way
])
def test_the_line_is_gunicorns(access_format: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    ours = line(access_log.Logger, access_format, monkeypatch)
    assert ours == line(glogging.Logger, access_format, monkeypatch)
    assert "192.0.2.7" in ours and "202" in ours


@pytest.mark.parametrize("setting", ["true", None])
def test_comments_serve_writes_the_line_when_asked(setting: str | None, sqlite_url: str, redis_url: str,
                                                   tmp_path: Any) -> None:
    """With COMMENTS_ACCESS_LOG on, gunicorn loads the logger class `comments serve` names and each request
    gets its access line; by default none is written (it would hold every commenter's address)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": sqlite_url, "REDIS_URL": redis_url,
           "COMMENTS_SECRET_KEY": "test-secret-key-0123456789"}
    env.pop("COMMENTS_ACCESS_LOG", None)
    if setting:
        env["COMMENTS_ACCESS_LOG"] = setting
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen([sys.executable, "-m", "service", "serve", "--port", str(port), "--workers", "1"],
                                   env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/healthz?probe=1"
        wait_for(lambda: answers(url), timeout=30)
        request = urllib.request.Request(url, headers={"User-Agent": "access-log-test", "Referer": "https://r.example/"})
        urllib.request.urlopen(request, timeout=5).close()
        if setting:
            wait_for(lambda: "access-log-test" in log.read_text(), timeout=10)
    finally:
        process.terminate()
        process.wait(timeout=30)  # gunicorn has written all it will write once it has exited
    lines = [text for text in log.read_text().splitlines() if "access-log-test" in text]
    if not setting:
        assert lines == [] and "Serving on" in log.read_text()
        return
    [line] = lines
    assert re.fullmatch(r'127\.0\.0\.1 - - \[[^]]+\] "GET /healthz\?probe=1 HTTP/1\.1" 200 \d+ '
                        r'"https://r\.example/" "access-log-test"', line), line


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).close()
    except OSError:
        return False
    return True
