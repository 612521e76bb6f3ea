"""POST /comments under `comments serve` against a minimal Flask endpoint served the same way, same run.

    python bench/intake.py [--requests N] [--rounds R] [--quick]

Both under gunicorn with 2 sync workers on loopback; 8 concurrent clients; for each
sanitizer engine and each comment kind (short plain text, ~1 KB with tags and links, ~10 KB,
hostile markup) and their mix: submissions per second, p50/p99 latency, server CPU per
request, and the ratio intake/minimal. Rounds interleave the two servers so noise hits both;
medians are reported. No worker consumes the queue: the intake only stores and enqueues.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.isso_compare import HOSTILE, LONG, MEDIUM, SHORT  # noqa: E402
from bench.load import Server, free_port, private_redis, run_load  # noqa: E402

CLIENTS = 8
KINDS = {"short": (SHORT,), "1 KB": (MEDIUM,), "10 KB": (LONG,), "hostile": (HOSTILE,),
         "mix": (SHORT, MEDIUM, LONG, HOSTILE)}
GOALS = {"bleach": 0.35, "nh3": 0.45}
P99_GOAL = 20.0


def work(kind: str, count: int, offset: int) -> list[tuple[str, bytes]]:
    texts = KINDS[kind]
    return [("/comments", json.dumps({"comment": f"{texts[n % len(texts)]} (#{n})", "author": f"Reader {n}",
                                      "email": f"reader{n}@example.org", "post_id": f"post-{n % 10}"}).encode())
            for n in range(offset, offset + count)]


def one(server: Server, requests: list[tuple[str, bytes]]) -> dict[str, Any]:
    before = server.cpu_seconds()
    result = run_load(server.base_url, requests, CLIENTS)
    cpu = server.cpu_seconds() - before
    ok = result["codes"].get(202, 0)
    if ok != len(requests):
        raise SystemExit(f"{server.command[:4]}: not every answer was 202: {dict(result['codes'])}")
    return {"rps": ok / result["seconds"], "p50": result["p50"], "p99": result["p99"], "cpu": 1000 * cpu / ok}


def median_of(runs: list[dict[str, Any]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def engine_rows(engine: str, requests: int, rounds: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as folder, private_redis() as redis_url:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder}/intake.sqlite3", "REDIS_URL": redis_url,
               "COMMENTS_SECRET_KEY": secrets.token_urlsafe(24), "COMMENTS_FLOOD_SECONDS": "0",
               "COMMENTS_SANITIZER": engine, "COMMENTS_LOG_LEVEL": "WARNING"}
        subprocess.run([sys.executable, "-m", "service", "db", "upgrade"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        intake_port, minimal_port = free_port(), free_port()
        intake = Server([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{intake_port}",
                         "service:create_app()"], env, f"http://127.0.0.1:{intake_port}/healthz")
        minimal = Server([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind",
                          f"127.0.0.1:{minimal_port}", "bench.minimal_app:create_app()"],
                         {**env, "PYTHONPATH": str(ROOT)}, f"http://127.0.0.1:{minimal_port}/healthz")
        rows, offset = [], 0
        with intake, minimal:
            one(intake, work("short", 200, 10**7))  # warm both up
            one(minimal, work("short", 200, 10**7))
            for kind in KINDS:
                runs: dict[str, list[dict[str, Any]]] = {"intake": [], "minimal": []}
                for _ in range(rounds):
                    runs["minimal"].append(one(minimal, work(kind, requests, offset)))
                    runs["intake"].append(one(intake, work(kind, requests, offset)))
                    offset += requests
                row = {"engine": engine, "kind": kind, **{name: median_of(r) for name, r in runs.items()}}
                row["ratio"] = row["intake"]["rps"] / row["minimal"]["rps"]
                print(f"{engine:>6} {kind:>7}: intake {row['intake']['rps']:6.0f}/s p50 {row['intake']['p50']:5.1f} "
                      f"p99 {row['intake']['p99']:5.1f} ms {row['intake']['cpu']:4.2f} ms CPU | minimal "
                      f"{row['minimal']['rps']:6.0f}/s p99 {row['minimal']['p99']:5.1f} ms | ratio {row['ratio']:.2f}",
                      flush=True)
                rows.append(row)
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per row, round and server")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    requests, rounds = (150, 1) if args.quick else (args.requests, args.rounds)
    rows = [row for engine in GOALS for row in engine_rows(engine, requests, rounds)]
    print("\n| engine | comments | intake req/s | p50 / p99 ms | CPU ms/req | minimal req/s | p99 ms | ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        i, m = row["intake"], row["minimal"]
        print(f"| {row['engine']} | {row['kind']} | {i['rps']:.0f} | {i['p50']:.1f} / {i['p99']:.1f} | {i['cpu']:.2f} "
              f"| {m['rps']:.0f} | {m['p99']:.1f} | {row['ratio']:.2f} |")
    failed = False
    for row in rows:
        if row["kind"] != "mix":
            continue
        goal = GOALS[row["engine"]]
        checks = ((row["ratio"] >= goal, f"throughput {row['ratio']:.2f}× the minimal endpoint (goal ≥ {goal})"),
                  (row["intake"]["p99"] < P99_GOAL, f"p99 {row['intake']['p99']:.1f} ms at 8 clients "
                                                    f"(goal < {P99_GOAL:.0f} ms)"))
        for met, text in checks:
            print(f"{'PASS' if met else 'FAIL'}  {row['engine']} mix: {text}")
            failed |= not met
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
