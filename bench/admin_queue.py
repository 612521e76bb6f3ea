"""The held tab with 100,000 comments in the database: time to render its first page, SQLite and PostgreSQL.

    python bench/admin_queue.py [--comments N] [--postgres URL]

Renders through the real app (the Flask test client, logged in), so the figure is the
server's work: the page query, the counts per tab and the template. Medians of 30 renders;
GET /healthz in the same run is the baseline.
"""

from __future__ import annotations

import argparse
import re
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from service import create_app, status  # noqa: E402
from service.admin import accounts  # noqa: E402
from service.db import get_engine, upgrade  # noqa: E402
from service.schema import comments  # noqa: E402

GOAL_MS = 100.0
STATUSES = (status.HELD,) * 5 + (status.APPROVED,) * 3 + (status.SPAM, status.TRASH)


def fill(url: str, count: int) -> None:
    """`count` comments, half of them held, spread over a year, in batches."""
    engine = create_engine(url)
    start = datetime.now(UTC) - timedelta(days=365)
    batch = []
    with engine.begin() as conn:
        for n in range(count):
            moment = start + timedelta(seconds=n * 300)
            body = f"Comment number {n} about the letter, with <b>some</b> markup and a few words more."
            batch.append({"post_id": f"post-{n % 500}", "author": f"Reader {n}", "email": f"r{n}@example.org",
                          "url": None, "content": body, "original": body, "content_hash": f"{n:064x}",
                          "ip": f"198.51.{n % 250}.{n % 200}", "status": STATUSES[n % len(STATUSES)],
                          "spam_score": 0.6, "signals": {}, "created_at": moment, "updated_at": moment,
                          "reasons": [{"check": "links", "score": 0.5, "reason": "2 links (limit 1)"}]})
            if len(batch) == 5000:
                conn.execute(insert(comments), batch)
                batch = []
        if batch:
            conn.execute(insert(comments), batch)
    if engine.dialect.name == "postgresql":  # what autovacuum does on a live database: statistics, visibility
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE comments"))
    engine.dispose()


def timed(client: object, path: str, repeats: int = 30) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(path)  # type: ignore[attr-defined]
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(samples)


def measure(name: str, url: str, count: int) -> dict[str, float]:
    upgrade(url)
    started = time.perf_counter()
    fill(url, count)
    print(f"{name}: {count:,} comments written in {time.perf_counter() - started:.0f} s", flush=True)
    app = create_app({"TESTING": True, "SECRET_KEY": secrets.token_urlsafe(24), "DATABASE_URL": url,
                      "MODEL_PATH": "unused"})
    password = secrets.token_urlsafe(16)
    with app.app_context(), get_engine().begin() as conn:
        accounts.add(conn, "bench", password)
        token = accounts.create_token(conn, "bench")
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post("/admin/login", data={"name": "bench", "password": password, "csrf_token": csrf})
    api = app.test_client()
    api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    figures = {"page": timed(client, "/admin/?status=held"),
               "last page": timed(client, "/admin/?status=held&page=2500"),
               "api": timed(api, "/admin/api/comments?status=held"), "stats": timed(api, "/admin/api/stats", 10),
               "baseline": timed(client, "/healthz")}
    app.extensions["db"].dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="a server where a scratch database may be created (its name is random)")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        results["SQLite"] = measure("SQLite", f"sqlite:///{folder}/bench.sqlite3", args.comments)
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    database = f"bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        results["PostgreSQL"] = measure("PostgreSQL", args.postgres.rsplit("/", 1)[0] + "/" + database, args.comments)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    print("\n| database | held tab, first page | held tab, page 2,500 | API first page | API stats | /healthz |")
    print("|---|---:|---:|---:|---:|---:|")
    failed = False
    for name, f in results.items():
        print(f"| {name} | {f['page']:.1f} ms | {f['last page']:.1f} ms | {f['api']:.1f} ms | {f['stats']:.1f} ms "
              f"| {f['baseline']:.2f} ms |")
        failed |= f["page"] >= GOAL_MS
    for name, f in results.items():
        print(f"{'PASS' if f['page'] < GOAL_MS else 'FAIL'}  {name}: first page of the held tab in "
              f"{f['page']:.1f} ms (goal < {GOAL_MS:.0f} ms, median of 30)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
