"""POST /comments under `comments serve` against a minimal Flask endpoint served the same way, in one run.

    python bench/intake.py [--quick] [--clients 8] [--seconds 3] [--rounds 3] [--requests 2500]

For each sanitizer engine (bleach, nh3): a fresh SQLite database (`comments db upgrade`), a
private redis-server and `comments serve --workers 2` (gunicorn, sync workers) with flood
control off. The baseline is bench/minimal_app.py under the same gunicorn settings. No worker
runs: the intake validates, sanitizes and stores (a worker's relay enqueues the check later), which
is what a submitter waits for. Rows: each comment kind and their equal mix; per row and server, the
rounds alternate which server goes first so noise hits both, and medians are reported.

Load comes from wrk (`apt-get install wrk`) for `--seconds` per measurement; without wrk a
multi-process Python client sends `--requests` per measurement instead, and says so: it needs
~4x wrk's CPU per request, which caps the minimal endpoint, so its ratios read higher.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    MARK,
    LoadResult,
    RedisServer,
    private_redis,
    python_load,
    wrk_load,
)
from bench.load import Server, free_port  # noqa: E402

ENGINES = {"bleach": 0.35, "nh3": 0.45}
"""Each sanitizer engine and its goal: intake throughput as a share of the minimal endpoint's."""
P99_GOAL_MS = 20.0

SHORT = "Thanks for publishing the full letter; the figures on deportations were new to me."
MEDIUM = ("<p>The letter makes a fair point about <b>Secure Communities</b>: only one in four of those "
          "deported had been convicted of a serious crime, and <em>most</em> had no record at all. See "
          "<a href=\"https://www.mass.gov/news/governor-letter\" title=\"the letter\">the state's copy</a> "
          "and the agency's own figures at https://www.ice.gov/secure-communities for the numbers.</p>"
          "<blockquote cite=\"https://www.mass.gov/\">The program does not reflect its stated objectives."
          "</blockquote><p>It is hard to argue with <i>that</i>, whatever one thinks of the policy itself, "
          "and I would like to read the <abbr title=\"Department of Homeland Security\">DHS</abbr> reply "
          "in full before <strong>judging</strong> it. <code>opt-out</code> was never really on offer.</p>"
          "<p>Several counties asked to leave the program in 2011 and were told that they could not: the "
          "fingerprints go to the agency whatever the sheriff decides, which rather settles the question.</p>")
LONG = ("<p>I read the whole letter twice. " + "The governor argues that the program does not reflect its "
        "stated objectives, that it may deter <em>victims and witnesses</em> from reporting crime, and that "
        "<b>trust</b> between police and the communities they serve is slow to build. " * 42 + "</p>")
HOSTILE = ('<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">click</a>'
           '<svg/onload=alert(4)><iframe srcdoc="<script>alert(5)</script>"></iframe>'
           '<b onmouseover=alert(6)>bold</b><a href=" jav&#x09;ascript:alert(8)" style="x:expression(1)">y</a>'
           '<math><mtext><table><mglyph><style><img src=x onerror=alert(7)></style></mglyph></table></mtext>'
           "</math><div><p><i><u><s>nested junk</s></u></i></p></div><!-- <script>x</script> -->") * 3
KINDS = {"short": [SHORT], "1 KB": [MEDIUM], "10 KB": [LONG], "hostile": [HOSTILE],
         "mix": [SHORT, MEDIUM, LONG, HOSTILE]}


def templates(texts: list[str]) -> list[str]:
    """JSON bodies, one per text and post, with MARK where each request's unique tag goes (no 409s)."""
    return [json.dumps({"author": f"Reader {MARK}", "email": f"reader.{MARK}@example.org",
                        "url": "https://reader.example.org/", "comment": f"{text} (#{MARK})",
                        "post_id": f"post-{n}"}) for n, text in enumerate(texts * (4 // len(texts)))]


@dataclass
class Measure:
    """One server's medians over the rounds of a row."""

    rate: float
    p50: float
    p99: float
    cpu_ms: float
    redis_cpu_ms: float
    client_cpu_ms: float


class Bench:
    """Runs the rows: one load at a time, and counts every answer that was not 202."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.use_wrk = shutil.which("wrk") is not None and not args.python_client
        self.not_accepted: dict[str, int] = {}
        self.redis_of: dict[str, RedisServer] = {}
        """The private Redis of a server, whose CPU is part of that server's cost."""

    def load(self, server: Server, texts: list[str], seconds: float | None = None) -> tuple[LoadResult, float, float]:
        """One measurement; returns the load result and the CPU seconds of the server and of its Redis."""
        url = f"{server.base_url}/comments"
        redis = self.redis_of.get(server.name)
        before, redis_before = server.cpu_seconds(), redis.cpu_seconds() if redis else 0.0
        if self.use_wrk:
            result = wrk_load(url, templates(texts), self.args.clients, seconds or self.args.seconds)
        else:
            requests = self.args.requests if seconds is None else 200
            result = python_load(url, templates(texts), self.args.clients, requests)
        cpu = server.cpu_seconds() - before
        redis_cpu = redis.cpu_seconds() - redis_before if redis else 0.0
        others = {code: count for code, count in result.codes.items() if code != 202}
        if others or result.socket_errors:
            key = f"{server.name}: {others}, socket errors {result.socket_errors}"
            self.not_accepted[key] = self.not_accepted.get(key, 0) + 1
            print(f"  ! not 202: {key}", flush=True)
            if any(code >= 500 for code in others):
                raise SystemExit(f"{server.name} answered 5xx: {others}\n{server.log_tail()}")
        return result, cpu, redis_cpu

    def row(self, servers: tuple[Server, Server], texts: list[str]) -> tuple[dict[str, Measure], float]:
        """Both servers' medians, and the median of the per-round ratios second/first (paired, so noise cancels)."""
        runs: dict[str, list[tuple[LoadResult, float, float]]] = {server.name: [] for server in servers}
        for round_ in range(self.args.rounds):
            for server in servers if round_ % 2 == 0 else servers[::-1]:
                runs[server.name].append(self.load(server, texts))
        first, second = (runs[server.name] for server in servers)
        ratio = statistics.median(b.rate / a.rate for (a, _, _), (b, _, _) in zip(first, second, strict=True))
        return {name: median_measure(results) for name, results in runs.items()}, ratio


def median_measure(results: list[tuple[LoadResult, float, float]]) -> Measure:
    def median(values: list[float]) -> float:
        return statistics.median(values)

    return Measure(median([r.rate for r, _, _ in results]), median([r.p50 for r, _, _ in results]),
                   median([r.p99 for r, _, _ in results]), median([1000 * cpu / r.requests for r, cpu, _ in results]),
                   median([1000 * redis / r.requests for r, _, redis in results]),
                   median([1000 * r.client_cpu / r.requests for r, _, _ in results]))


def comments_command() -> list[str]:
    """The `comments` console script beside this interpreter, else the module form of it."""
    script = Path(sys.executable).with_name("comments")
    return [str(script)] if script.exists() else [sys.executable, "-m", "service"]


def gunicorn_minimal(port: int) -> list[str]:
    """bench.minimal_app with the same gunicorn settings `comments serve` uses (service/cli.py)."""
    return [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
            "--worker-tmp-dir", "/dev/shm", "bench.minimal_app:create_app()"]


@dataclass
class Row:
    """One engine and comment kind: both servers' medians."""

    engine: str
    kind: str
    minimal: Measure
    intake: Measure
    ratio: float
    """Median over the rounds of intake/minimal throughput, each pair measured back to back."""

    def meets(self) -> tuple[bool, bool]:
        """(throughput goal met, p99 goal met)."""
        return self.ratio >= ENGINES[self.engine], self.intake.p99 < P99_GOAL_MS

    def line(self) -> str:
        m, i = self.minimal, self.intake
        return (f"{self.engine:>6} {self.kind:>7}: minimal {m.rate:6.0f}/s p99 {m.p99:5.1f} ms | intake "
                f"{i.rate:6.0f}/s p50 {i.p50:5.1f} p99 {i.p99:5.1f} ms, CPU {i.cpu_ms:4.2f} + Redis "
                f"{i.redis_cpu_ms:4.2f} ms/req | ratio {self.ratio:.2f}")


def engine_rows(bench: Bench, engine: str, minimal: Server, folder: Path) -> list[Row]:
    """A fresh database, Redis and `comments serve` for one engine, measured against the running minimal."""
    database = folder / f"intake-{engine}.sqlite3"
    with private_redis() as redis:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "REDIS_URL": redis.url,
               "COMMENTS_SECRET_KEY": secrets.token_urlsafe(32), "COMMENTS_FLOOD_SECONDS": "0",
               "COMMENTS_SANITIZER": engine}
        subprocess.run([*comments_command(), "db", "upgrade"], env=env, check=True, capture_output=True)
        port = free_port()
        command = [*comments_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
        intake = Server(command, env, f"http://127.0.0.1:{port}/healthz", name=f"intake ({engine})",
                        log=folder / f"serve-{engine}.log")
        bench.redis_of[intake.name] = redis
        rows = []
        with intake:
            bench.load(intake, KINDS["mix"], seconds=1)  # warm-up: imports, connections, SQLite pages
            for kind, texts in KINDS.items():
                measured, ratio = bench.row((minimal, intake), texts)
                rows.append(Row(engine, kind, measured[minimal.name], measured[intake.name], ratio))
                print(rows[-1].line(), flush=True)
        check_store(database, redis.url)
    return rows


def check_store(database: Path, redis_url: str) -> None:
    """Every stored comment is pending, and no check was queued: without a worker there is no relay."""
    import redis

    with sqlite3.connect(database) as conn:
        stored = conn.execute("SELECT count(*) FROM comments WHERE status = 'pending'").fetchone()[0]
    queued = redis.Redis.from_url(redis_url).llen("rq:queue:spam-checks")
    print(f"  store: {stored} pending comments, {queued} spam checks queued", flush=True)


def report(rows: list[Row], bench: Bench) -> bool:
    """Print the markdown table and the goals; True when both mix rows meet both goals."""
    print("\n| engine | comments | minimal req/s | minimal p50 / p99 ms | minimal CPU ms/req | intake req/s "
          "| intake p50 / p99 ms | intake CPU ms/req (+ Redis) | ratio | goals |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        m, i = row.minimal, row.intake
        ratio_ok, p99_ok = row.meets()
        marks = f"ratio {'PASS' if ratio_ok else 'FAIL'}, p99 {'PASS' if p99_ok else 'FAIL'}"
        print(f"| {row.engine} | {row.kind} | {m.rate:.0f} | {m.p50:.1f} / {m.p99:.1f} | {m.cpu_ms:.2f} | {i.rate:.0f} "
              f"| {i.p50:.1f} / {i.p99:.1f} | {i.cpu_ms:.2f} (+ {i.redis_cpu_ms:.2f}) | {row.ratio:.2f} | {marks} |")
    client = "wrk" if bench.use_wrk else "multi-process Python client (not wrk: ratios read higher)"
    client_cpu = statistics.median(row.intake.client_cpu_ms for row in rows)
    print(f"\nload generator: {client}, {bench.args.clients} connections, using {client_cpu:.2f} ms CPU per request")
    passed = True
    for row in rows:
        if row.kind != "mix":
            continue
        ratio_ok, p99_ok = row.meets()
        print(f"{'PASS' if ratio_ok else 'FAIL'}  {row.engine} mix: throughput {row.ratio:.2f}x the minimal "
              f"endpoint (goal >= {ENGINES[row.engine]})")
        print(f"{'PASS' if p99_ok else 'FAIL'}  {row.engine} mix: p99 {row.intake.p99:.1f} ms at "
              f"{bench.args.clients} clients (goal < {P99_GOAL_MS:.0f} ms)")
        passed &= ratio_ok and p99_ok
    others = [f"{row.engine} {row.kind}" for row in rows if row.kind != "mix" and all(row.meets())]
    print(f"other rows meeting both goals: {', '.join(others) or 'none'}")
    if bench.not_accepted:
        print(f"answers other than 202: {bench.not_accepted}")
        return False
    print("every answer was 202")
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 round of 1 s (or 150 requests)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per measurement with wrk")
    parser.add_argument("--requests", type=int, default=2500, help="requests per measurement, Python client")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per server and row (median)")
    parser.add_argument("--engines", nargs="+", choices=tuple(ENGINES), default=list(ENGINES))
    parser.add_argument("--python-client", action="store_true", help="use the Python client even if wrk is here")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.requests, args.rounds = 1.0, 150, 1
    bench = Bench(args)
    if not bench.use_wrk:
        reason = "--python-client" if args.python_client else "wrk not found; apt-get install wrk"
        print(f"note: load from the multi-process Python client ({reason}); it takes more CPU from the servers "
              "and caps the minimal endpoint, so the ratios read higher than with wrk", flush=True)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start", flush=True)
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as name:
        folder = Path(name)
        port = free_port()
        minimal = Server(gunicorn_minimal(port), {**os.environ, "PYTHONPATH": str(ROOT)},
                         f"http://127.0.0.1:{port}/healthz", name="minimal", log=folder / "minimal.log")
        with minimal:
            bench.load(minimal, KINDS["mix"], seconds=1)
            rows = [row for engine in args.engines for row in engine_rows(bench, engine, minimal, folder)]
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    sys.exit(0 if report(rows, bench) else 1)


if __name__ == "__main__":
    main()
