"""Benchmark plumbing: servers started and stopped by PID, their CPU from /proc, a private Redis, and a
load generator of concurrent HTTP clients spread over processes (so the client is not held by one GIL)."""

from __future__ import annotations

import http.client
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

TICKS = os.sysconf("SC_CLK_TCK")
PROCESSES = 4
"""Client processes; each runs clients / PROCESSES threads."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def process_tree(pid: int) -> list[int]:
    """The process and its descendants, from /proc's children lists."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    todo.extend(int(child) for child in children.read().split())
        except OSError:
            continue
    return found


def cpu_of(pid: int) -> float:
    """User + system CPU seconds of one process, including its reaped children's."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(value) for value in fields[11:15]) / TICKS


class Server:
    """A process started for a benchmark or a chaos scenario: `with` starts it in a session of its own, waits
    until `ready_url` answers (when it has one), and stops it by PID. Its output is appended to `log`, if given."""

    def __init__(self, command: Sequence[str], env: dict[str, str], ready_url: str | None = None, *,
                 name: str | None = None, log: str | Path | None = None) -> None:
        self.command, self.env, self.ready_url, self.log = list(command), env, ready_url, log
        self.name = name or " ".join(self.command[:4])
        parts = urlsplit(ready_url or "")
        self.base_url = f"{parts.scheme}://{parts.netloc}" if ready_url else ""
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        if self.log:
            with open(self.log, "ab") as output:  # the child keeps its own copy of the descriptor
                self.process = subprocess.Popen(self.command, env=self.env, stdout=output, stderr=subprocess.STDOUT,
                                                start_new_session=True)
        else:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL, start_new_session=True)
        if self.ready_url:
            process, url = self.process, self.ready_url
            wait_until(lambda: process.poll() is not None or answers(url), 60, url)
            if process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {process.returncode}:\n{self.log_tail()}")
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cpu_seconds(self) -> float:
        """CPU used so far by the whole tree (a gunicorn master and its workers)."""
        return sum(cpu_of(pid) for pid in process_tree(self.pid))

    def log_tail(self, lines: int = 20) -> str:
        if not self.log:
            return "(no log)"
        return "\n".join(Path(self.log).read_text(errors="replace").splitlines()[-lines:])

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn stops its workers gracefully
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of our own on a free port, keeping nothing on disk; yields its URL."""
    with redis_server() as (url, _):
        yield url


@contextmanager
def redis_server() -> Iterator[tuple[str, int]]:
    """private_redis() that also yields the server's PID (for CPU accounting)."""
    binary = shutil.which("redis-server")
    if not binary:
        raise SystemExit("redis-server is needed (apt-get install redis-server)")
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                    "--appendonly", "no", "--dir", folder], stdout=subprocess.DEVNULL)
        try:
            wait_until(lambda: _redis_pings(port), 10, "redis")
            yield f"redis://127.0.0.1:{port}/0", process.pid
        finally:
            process.terminate()
            process.wait(timeout=10)


def _redis_pings(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _client(host: str, port: int, work: list[tuple[str, bytes]], out: list[Any]) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    for path, body in work:
        started = time.perf_counter()
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            code = response.status
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
        except (OSError, http.client.HTTPException):
            connection.close()
            code = 0
        out.append((code, (time.perf_counter() - started) * 1000))


def _process(host: str, port: int, shares: list[list[tuple[str, bytes]]], barrier: Any, results: Any) -> None:
    out: list[Any] = []
    threads = [threading.Thread(target=_client, args=(host, port, share, out)) for share in shares]
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((started, time.perf_counter(), out))


def run_load(base_url: str, work: list[tuple[str, bytes]], clients: int) -> dict[str, Any]:
    """POST every (path, body) with `clients` concurrent connections; returns codes, seconds, p50, p99 (ms)."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    shares = [work[n::clients] for n in range(clients)]
    processes = min(clients, PROCESSES)
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(processes + 1), context.Queue()
    workers = [context.Process(target=_process, args=(host, port, shares[n::processes], barrier, results))
               for n in range(processes)]
    for worker in workers:
        worker.start()
    barrier.wait()
    collected = [results.get(timeout=1800) for _ in workers]
    for worker in workers:
        worker.join()
    seconds = max(end for _, end, _ in collected) - min(start for start, _, _ in collected)
    outcomes = [item for _, _, out in collected for item in out]
    latencies = sorted(ms for _, ms in outcomes)
    return {"codes": Counter(code for code, _ in outcomes), "seconds": seconds,
            "p50": statistics.median(latencies), "p99": latencies[int(0.99 * (len(latencies) - 1))]}
