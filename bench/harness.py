"""Benchmark plumbing for comparing HTTP servers in one run: a private Redis, servers started and stopped
by PID, their CPU time from /proc, and load from wrk (or, without it, a multi-process Python client).

wrk (`apt-get install wrk`) is preferred: on a 2-core machine the load generator shares the
cores with the server, and wrk costs a fraction of the CPU a Python client does per request.
Each request body is made unique from a template (`@@N@@` marks where the tag goes), so a
server that refuses duplicates accepts every request.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import resource
import secrets
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.load import cpu_of, process_tree, redis_server

WRK_SCRIPT = Path(__file__).with_name("wrk_post.lua")
MARK = "@@N@@"
"""Where a body template takes the request's unique tag."""


def tree_cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its live descendants, plus what their reaped children used."""
    return sum(cpu_of(process) for process in process_tree(pid))


@dataclass(frozen=True)
class RedisServer:
    """A private redis-server: its URL, and its PID for CPU accounting."""

    url: str
    pid: int

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.pid)


@contextmanager
def private_redis() -> Iterator[RedisServer]:
    """A redis-server of our own on a free port that keeps nothing on disk; stopped by its PID on exit."""
    with redis_server() as (url, pid):
        yield RedisServer(url, pid)


@dataclass
class LoadResult:
    """What one load run measured; latencies in milliseconds, CPU of the load generator in seconds."""

    requests: int
    seconds: float
    p50: float
    p99: float
    codes: Counter[int]
    socket_errors: int
    client_cpu: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk_load(url: str, templates: Sequence[str], clients: int, seconds: float, threads: int = 1) -> LoadResult:
    """POST for `seconds` over `clients` keep-alive connections with wrk; one unique body per request."""
    with tempfile.NamedTemporaryFile("w", suffix=".json-lines", encoding="utf-8") as file:
        file.write("".join(template + "\n" for template in templates))
        file.flush()
        before = children_cpu()
        run = subprocess.run(["wrk", "--threads", str(min(threads, clients)), "--connections", str(clients),
                              "--duration", f"{seconds:g}s", "--timeout", "10s", "--script", str(WRK_SCRIPT),
                              url, "--", file.name, secrets.token_hex(4)],
                             capture_output=True, text=True, check=True)
        client_cpu = children_cpu() - before
    line = next((line for line in run.stdout.splitlines() if line.startswith("BENCH-RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{run.stdout}\n{run.stderr}")
    data = json.loads(line.removeprefix("BENCH-RESULT "))
    return LoadResult(data["requests"], data["duration_us"] / 1e6, data["p50_us"] / 1000, data["p99_us"] / 1000,
                      Counter({int(code): count for code, count in data["codes"].items()}),
                      data["socket_errors"], client_cpu)


def python_load(url: str, templates: Sequence[str], clients: int, requests: int, processes: int = 4) -> LoadResult:
    """POST `requests` bodies over `clients` keep-alive connections, threads spread over processes (GIL)."""
    tag = secrets.token_hex(4)
    bodies = [templates[n % len(templates)].replace(MARK, f"{tag}-{n}").encode() for n in range(requests)]
    shares = [bodies[n::clients] for n in range(clients)]
    parts = urlsplit(url)
    target = (parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/")
    processes = min(clients, processes)
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(processes + 1), context.Queue()
    before = children_cpu()
    workers = [context.Process(target=_client_process, args=(target, shares[n::processes], barrier, results))
               for n in range(processes)]
    for worker in workers:
        worker.start()
    barrier.wait()
    collected = [results.get(timeout=1800) for _ in workers]
    for worker in workers:
        worker.join()
    seconds = max(end for _, end, _ in collected) - min(start for start, _, _ in collected)
    outcomes = [item for _, _, out in collected for item in out]
    latencies = sorted(ms for code, ms in outcomes if code)
    return LoadResult(len(latencies), seconds, percentile(latencies, 50), percentile(latencies, 99),
                      Counter(code for code, _ in outcomes if code), sum(1 for code, _ in outcomes if not code),
                      children_cpu() - before)


def percentile(ordered: Sequence[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def _client_process(target: tuple[str, int, str], shares: list[list[bytes]], barrier: Any, results: Any) -> None:
    out: list[tuple[int, float]] = []
    threads = [threading.Thread(target=_client, args=(target, share, out)) for share in shares]
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((started, time.perf_counter(), out))


def _client(target: tuple[str, int, str], bodies: list[bytes], out: list[tuple[int, float]]) -> None:
    host, port, path = target
    connection = http.client.HTTPConnection(host, port, timeout=30)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    for body in bodies:
        started = time.perf_counter()
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            code = response.status
        except (OSError, http.client.HTTPException):
            connection.close()
            code = 0
        out.append((code, (time.perf_counter() - started) * 1000))
