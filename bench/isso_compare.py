"""This service against Isso, the self-hosted peer a site owner would pick instead, in the same run.

Both run under gunicorn with 2 sync workers on loopback, with a file (SQLite) database and
moderation on; both get the same comment mix at 1, 8 and 32 concurrent clients. Printed per
row: submissions per second, p50/p99 latency, server CPU per accepted comment (from /proc
process accounting of the whole server tree), and the ratio this/Isso. For this service, the
time from submission to verdict under that load is measured too (one `comments worker`).

    python bench/isso_compare.py [--seconds S] [--rounds R] [--quick] [--floor] [--python-client [--requests N]]

Load comes from wrk (`apt-get install wrk`) for `--seconds` per row: on 2 cores the client shares
the machine with the servers, and wrk costs a fraction of what the Python client (`--python-client`,
a fixed number of requests per row) does per request, which held the faster server back more.
Isso is installed from its package into bench/.isso-venv on first use.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.harness import MARK, wrk_load  # noqa: E402
from bench.load import Server, free_port, private_redis, run_load  # noqa: E402

ISSO_VERSION = "0.14.0"
ISSO_VENV = HERE / ".isso-venv"
CLIENTS = (1, 8, 32)

SHORT = "Thanks for publishing the full letter."
MEDIUM = ("The letter makes a fair point about <b>Secure Communities</b>: only one in four of those deported "
          "had been convicted of a serious crime. See <a href=\"https://www.mass.gov/\">the state's site</a> "
          "and https://www.ice.gov/ for the figures. ") * 3
LONG = ("<p>I read the whole letter twice. " + "The governor argues that the program does not reflect its "
        "stated objectives, and that it may deter the reporting of crime. " * 70 + "</p>")[:10_000]
HOSTILE = ('<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>'
           '<svg/onload=alert(4)><iframe srcdoc="<script>alert(5)</script>"></iframe>'
           '<b onmouseover=alert(6)>bold</b><math><mtext><table><mglyph><style><img src=x onerror=alert(7)>'
           "</style></mglyph></table></mtext></math>") * 4
MIX = (SHORT, MEDIUM, LONG, HOSTILE)


def isso_python() -> Path:
    """The Isso virtualenv's python, created on first use (Isso pins its own dependencies)."""
    python = ISSO_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(ISSO_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"isso=={ISSO_VERSION}", "gunicorn"], check=True)
    return python


def isso_server(folder: Path, port: int) -> Server:
    config = folder / "isso.cfg"
    config.write_text(f"""[general]
dbpath = {folder / "isso.db"}
host = http://127.0.0.1:{port}/
notify = stdout
[moderation]
enabled = true
[guard]
enabled = false
[server]
listen = http://127.0.0.1:{port}/
""", encoding="utf-8")
    python = isso_python()
    command = [str(python), "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "isso.run"]
    return Server(command, {**os.environ, "ISSO_SETTINGS": str(config)}, f"http://127.0.0.1:{port}/info")


def floor_server(folder: Path, port: int) -> Server:
    """bench/floor_app.py under the same gunicorn settings as `comments serve`."""
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
               "--worker-tmp-dir", "/dev/shm", "bench.floor_app:create_app()"]
    env = {**os.environ, "FLOOR_DB": str(folder / "floor.sqlite3"), "PYTHONPATH": str(HERE.parent)}
    return Server(command, env, f"http://127.0.0.1:{port}/healthz")


def our_env(folder: Path, redis_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'comments.sqlite3'}", "REDIS_URL": redis_url,
            "COMMENTS_SECRET_KEY": secrets.token_urlsafe(24), "COMMENTS_FLOOD_SECONDS": "0",
            "COMMENTS_MODEL_PATH": str(folder / "model.joblib"), "COMMENTS_LOG_LEVEL": "WARNING",
            "COMMENTS_SANITIZER": os.environ.get("COMMENTS_SANITIZER", "nh3")}


def bodies(kind: str, count: int, offset: int) -> list[tuple[str, bytes]]:
    """(path, JSON body) per request: the same mix for both, each text unique."""
    requests = []
    for n in range(offset, offset + count):
        text = f"{MIX[n % len(MIX)]} (#{n})"
        post = f"post-{n % 10}"
        if kind == "isso":
            body = {"text": text, "author": f"Reader {n}", "email": f"reader{n}@example.org",
                    "website": None, "title": f"Post {n % 10}"}
            requests.append((f"/new?uri=/{post}", json.dumps(body).encode()))
        else:
            body = {"comment": text, "author": f"Reader {n}", "email": f"reader{n}@example.org", "post_id": post}
            requests.append(("/comments", json.dumps(body).encode()))
    return requests


def templates(kind: str) -> tuple[str, list[str]]:
    """The path and the body templates of the mix for wrk, one post; `MARK` takes each request's unique tag."""
    if kind == "isso":
        return "/new?uri=/post-1", [json.dumps({"text": f"{text} (#{MARK})", "author": f"Reader {MARK}",
                                               "email": f"reader-{MARK}@example.org", "website": None,
                                               "title": "Post 1"}) for text in MIX]
    return "/comments", [json.dumps({"comment": f"{text} (#{MARK})", "author": f"Reader {MARK}",
                                     "email": f"reader-{MARK}@example.org", "post_id": "post-1"}) for text in MIX]


def verdict_times(database: Path, deadline: float) -> list[float]:
    """Seconds from submission to verdict for every comment, once none is pending (waits with a deadline)."""
    with sqlite3.connect(database) as conn:
        while conn.execute("SELECT count(*) FROM comments WHERE status = 'pending'").fetchone()[0]:
            if time.monotonic() > deadline:
                raise SystemExit("comments still pending at the deadline")
            time.sleep(0.2)
        rows = conn.execute(
            "SELECT c.created_at, s.created_at FROM comments c JOIN status_changes s ON s.comment_id = c.id "
            "WHERE s.actor = 'spam-check'").fetchall()
    return [(datetime.fromisoformat(done) - datetime.fromisoformat(made)).total_seconds() for made, done in rows]


def measure(name: str, server: Server, make: Callable[[int, int], list[tuple[str, bytes]]],
            load: argparse.Namespace, offset: int, clients: int) -> dict[str, Any]:
    before = server.cpu_seconds()
    if load.python_client:
        result = run_load(server.base_url, make(load.requests, offset), clients)
    else:
        path, bodies_ = templates(name)
        run = wrk_load(server.base_url + path, bodies_, clients, load.seconds)
        result = {"codes": run.codes, "seconds": run.seconds, "p50": run.p50, "p99": run.p99}
        if run.socket_errors:
            print(f"  {name}: {run.socket_errors} socket errors")
    cpu = server.cpu_seconds() - before
    accepted = result["codes"].get(202, 0) + result["codes"].get(201, 0)
    bad = {code: n for code, n in result["codes"].items() if code not in (201, 202)}
    if bad:
        print(f"  {name}: unexpected answers {bad}")
    return {"rps": accepted / result["seconds"], "p50": result["p50"], "p99": result["p99"],
            "cpu_ms": 1000 * cpu / max(accepted, 1), "accepted": accepted}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds of wrk load per row and server")
    parser.add_argument("--python-client", action="store_true", help="the Python client instead of wrk")
    parser.add_argument("--requests", type=int, default=1200,
                        help="with --python-client: submissions per row and server")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per row; the table shows medians")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--floor", action="store_true",
                        help="also measure bench/floor_app.py, the least a durable Flask intake can do")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.seconds, args.rounds = 120, 1.0, 1
    with tempfile.TemporaryDirectory() as tmp, private_redis() as redis_url:
        folder = Path(tmp)
        env = our_env(folder, redis_url)
        subprocess.run([sys.executable, "-m", "service", "db", "upgrade"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ours_port, isso_port = free_port(), free_port()
        ours = Server([sys.executable, "-m", "service", "serve", "--port", str(ours_port), "--workers", "2"], env,
                      f"http://127.0.0.1:{ours_port}/healthz")
        worker = Server([sys.executable, "-m", "service", "worker"], env, None)
        isso = isso_server(folder, isso_port)
        servers = [("isso", isso), ("ours", ours)]
        if args.floor:
            servers.append(("floor", floor_server(folder, free_port())))
        rows = []
        with contextlib.ExitStack() as running:
            for server in (ours, worker, isso, *(server for name, server in servers if name == "floor")):
                running.enter_context(server)
            offset = 0
            for clients in CLIENTS:
                row: dict[str, Any] = {"clients": clients, "rounds": []}
                for _ in range(args.rounds):  # interleaved, so a busy spell of the machine hits every server
                    measured = {}
                    for name, server in servers:
                        measured[name] = measure(name, server, lambda n, o, k=name: bodies(k, n, o), args, offset,
                                                 clients)
                        offset += args.requests
                    row["rounds"].append(measured)
                    print(f"{clients:>3} clients  " + " | ".join(
                        f"{name} {m['rps']:7.1f}/s p99 {m['p99']:6.1f} ms {m['cpu_ms']:5.2f} ms CPU"
                        for name, m in measured.items()), flush=True)
                for name, _ in servers:
                    row[name] = {key: statistics.median(r[name][key] for r in row["rounds"])
                                 for key in ("rps", "p50", "p99", "cpu_ms")}
                    row[name]["accepted"] = sum(r[name]["accepted"] for r in row["rounds"])
                rows.append(row)
            delays = verdict_times(folder / "comments.sqlite3", time.monotonic() + 600)
            worker_cpu = worker.cpu_seconds()
        report(rows, delays, worker_cpu, sum(row["ours"]["accepted"] for row in rows))


def ratio(row: dict[str, Any], name: str, key: str) -> float:
    """The median over the row's rounds of this server's figure against Isso's in the same round."""
    return statistics.median(r[name][key] / r["isso"][key] for r in row["rounds"])


def report(rows: list[dict[str, Any]], delays: list[float], worker_cpu: float, total: int) -> None:
    print(f"\nMedians of {len(rows[0]['rounds'])} interleaved rounds; each ratio is the median of the rounds' ratios.")
    print("| clients | this req/s | Isso req/s | ratio | this p50 / p99 ms | Isso p50 / p99 ms | "
          "this CPU ms | Isso CPU ms | CPU ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        ours, isso = row["ours"], row["isso"]
        print(f"| {row['clients']} | {ours['rps']:.0f} | {isso['rps']:.0f} | {ratio(row, 'ours', 'rps'):.2f} | "
              f"{ours['p50']:.1f} / {ours['p99']:.1f} | {isso['p50']:.1f} / {isso['p99']:.1f} | "
              f"{ours['cpu_ms']:.2f} | {isso['cpu_ms']:.2f} | {ratio(row, 'ours', 'cpu_ms'):.2f} |")
    if "floor" in rows[0]:
        print("\n| clients | floor req/s | floor/Isso | floor p99 ms | floor CPU ms | floor CPU / Isso's |")
        print("|---:|---:|---:|---:|---:|---:|")
        for row in rows:
            floor = row["floor"]
            print(f"| {row['clients']} | {floor['rps']:.0f} | {ratio(row, 'floor', 'rps'):.2f} | {floor['p99']:.1f} | "
                  f"{floor['cpu_ms']:.2f} | {ratio(row, 'floor', 'cpu_ms'):.2f} |")
    delays.sort()
    print(f"\nsubmission to verdict ({len(delays)} comments): p50 {statistics.median(delays):.2f} s, "
          f"p99 {delays[int(0.99 * (len(delays) - 1))]:.2f} s, max {delays[-1]:.2f} s; "
          f"worker CPU {1000 * worker_cpu / max(total, 1):.2f} ms per comment")
    top = rows[-1]
    goals = [("throughput at 32 clients ≥ 4× Isso", ratio(top, "ours", "rps") >= 4),
             ("p99 at 32 clients lower than Isso's", top["ours"]["p99"] < top["isso"]["p99"]),
             ("server CPU per comment ≤ ¼ of Isso's", ratio(top, "ours", "cpu_ms") <= 0.25)]
    for goal, met in goals:
        print(f"{'PASS' if met else 'FAIL'}  {goal}")


if __name__ == "__main__":
    main()
