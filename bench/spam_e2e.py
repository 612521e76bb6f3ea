"""Labelled comments posted through a real `comments serve`, decided by real `comments worker` processes.

Run: python bench/spam_e2e.py FILE... [--page URL] [--train FILE...] [--model PATH] [--workers N]

Every comment of FILE (CSV CONTENT,CLASS or JSON lines) is submitted to POST /comments with a form token
that is old enough (tokens are fetched first, then one deadline is awaited for all of them), from its own
address (X-Forwarded-For through a trusted proxy) under a made-up name and email derived from its row number
(the dataset's AUTHOR column is never read), and with the page it was written on as the form's redirect_to
(the video of a file of the YouTube Spam Collection, or --page; its origin is an allowed one). Workers decide
under COMMENTS_MODERATION=auto; the run waits for every verdict in the database, then prints spam published,
legitimate comments filed as spam, and held.

The classifier is trained with `comments train` on --train (default: the bundled files, minus FILE if it
is one of them) into COMMENTS_MODEL_PATH, or --model is used as it is. Everything runs on loopback: a
private redis-server, a temporary SQLite database.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.load import Server, free_port, private_redis  # noqa: E402
from service import status  # noqa: E402
from service.public import origin_of  # noqa: E402
from workers.classifier import BUNDLED_DIR, Sample, read_labelled  # noqa: E402

MIN_SUBMIT_SECONDS = 3.0
POST_ID = "e2e-bench"
GOALS = {"spam published": 0.02, "legitimate filed as spam": 0.01, "held": 0.10}


def request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def address(index: int) -> str:
    """A distinct documentation-range address per comment, so the burst check sees strangers."""
    return f"198.51.{index // 250}.{index % 250 + 1}"


def submit_all(base: str, samples: list[Sample]) -> tuple[dict[int, int], Counter[int]]:
    """comment id -> row index for every accepted comment, and the count of each HTTP status."""
    tokens = []
    for _ in samples:
        code, body = request(f"{base}/form-token")
        assert code == 200, code
        tokens.append(json.loads(body))
    deadline = time.monotonic() + MIN_SUBMIT_SECONDS + 0.5  # the last token must be old enough too
    time.sleep(max(0.0, deadline - time.monotonic()))
    accepted: dict[int, int] = {}
    codes: Counter[int] = Counter()
    for index, (sample, token) in enumerate(zip(samples, tokens, strict=True)):
        fields = {"post_id": POST_ID, "author": f"Reader {index}", "email": f"reader-{index}@example.org",
                  "comment": sample.text, token["field"]: token["token"], token["honeypot"]: ""}
        if sample.page:  # the page the form is on, as the README's form snippet sends it
            fields["redirect_to"] = sample.page
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json",
                   "X-Forwarded-For": address(index), "User-Agent": "Mozilla/5.0 (spam_e2e bench)"}
        code, body = request(f"{base}/comments", urllib.parse.urlencode(fields).encode(), headers)
        codes[code] += 1
        if code == 202:
            accepted[int(json.loads(body)["id"])] = index
    return accepted, codes


def verdicts(database: Path, ids: set[int], timeout: float) -> dict[int, str]:
    """Poll the database until none of the comments is pending, or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
            rows = dict(conn.execute("SELECT id, status FROM comments WHERE post_id = ?", (POST_ID,)).fetchall())
        found = {i: rows[i] for i in ids if i in rows}
        if all(s != status.PENDING for s in found.values()) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def train_files_for(files: list[Path], train_files: list[Path] | None) -> list[Path]:
    """--train, else the bundled files that are not under test."""
    if train_files is not None:
        return train_files
    names = {f.name for f in files}
    return [p for p in sorted(BUNDLED_DIR.glob("*.csv")) if p.name not in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--train", nargs="+", type=Path, help="labelled files to train on")
    parser.add_argument("--model", type=Path, help="an existing model file (skips training)")
    parser.add_argument("--page", help="the address of the page FILE's comments were written on (default: the "
                        "video of a YouTube Spam Collection file, known by its name)")
    parser.add_argument("--workers", type=int, default=2, help="`comments worker` processes (default 2)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for every verdict")
    args = parser.parse_args()
    if missing := [str(path) for path in [*args.files, *(args.train or []), *filter(None, [args.model])]
                   if not path.is_file()]:
        parser.error(f"no such file: {', '.join(missing)}")
    samples = [s for path in args.files for s in read_labelled(path, args.page)]
    origins = sorted({origin_of(s.page) for s in samples if s.page})
    with tempfile.TemporaryDirectory() as tmp, private_redis() as redis_url:
        folder = Path(tmp)
        database = folder / "comments.sqlite3"
        port = free_port()
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "REDIS_URL": redis_url,
               "COMMENTS_SECRET_KEY": secrets.token_urlsafe(32), "COMMENTS_FLOOD_SECONDS": "0",
               "COMMENTS_TRUSTED_PROXIES": "127.0.0.1", "COMMENTS_MODERATION": "auto",
               "COMMENTS_ALLOWED_ORIGINS": ",".join(origins),
               "COMMENTS_MIN_SUBMIT_SECONDS": str(MIN_SUBMIT_SECONDS),
               "COMMENTS_MODEL_PATH": str(args.model or folder / "classifier.joblib")}
        comments = [sys.executable, "-m", "service"]
        subprocess.run([*comments, "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
        if not args.model:
            train_files = train_files_for(args.files, args.train)
            print(f"comments train {' '.join(p.name for p in train_files)}")
            subprocess.run([*comments, "train", *map(str, train_files)], env=env, check=True,
                           stdout=subprocess.DEVNULL)
        web = Server([*comments, "serve", "--port", str(port), "--workers", "2"], env,
                     f"http://127.0.0.1:{port}/healthz")
        workers = [Server([*comments, "worker"], env, None) for _ in range(args.workers)]
        with web:
            for worker in workers:
                worker.__enter__()
            try:
                started = time.monotonic()
                accepted, codes = submit_all(web.base_url, samples)
                posted = time.monotonic()
                found = verdicts(database, set(accepted), args.timeout)
                decided = time.monotonic()
            finally:
                for worker in workers:
                    worker.__exit__(None, None, None)
    report(samples, accepted, found, codes)
    print(f"posted {len(samples)} in {posted - started:.1f} s (incl. the {MIN_SUBMIT_SECONDS:g} s token wait); "
          f"every verdict {decided - posted:.1f} s after the last post; {args.workers} workers")


def report(samples: list[Sample], accepted: dict[int, int], found: dict[int, str], codes: Counter[int]) -> None:
    counts: Counter[tuple[bool, str]] = Counter()
    for comment_id, index in accepted.items():
        counts[(samples[index].spam, found.get(comment_id, "missing"))] += 1
    rejected = {code: n for code, n in codes.items() if code != 202}
    print(f"{len(samples)} comments ({sum(s.spam for s in samples)} spam), {len(accepted)} accepted (202)"
          + (f", refused: {rejected}" if rejected else ""))
    print(f"{'':>12} {'approved':>9} {'held':>6} {'spam':>6} {'pending':>8}")
    for label, spam in (("actual ham", False), ("actual spam", True)):
        print(f"{label:>12} " + " ".join(f"{counts[(spam, v)]:>{w}}" for v, w in
                                         ((status.APPROVED, 9), (status.HELD, 6), (status.SPAM, 6),
                                          (status.PENDING, 8))))
    spam_n = sum(n for (s, _), n in counts.items() if s) or 1
    ham_n = sum(n for (s, _), n in counts.items() if not s) or 1
    figures = {
        "spam published": counts[(True, status.APPROVED)] / spam_n,
        "legitimate filed as spam": counts[(False, status.SPAM)] / ham_n,
        "held": (counts[(True, status.HELD)] + counts[(False, status.HELD)]) / max(len(accepted), 1),
    }
    for name, value in figures.items():
        goal = GOALS[name]
        print(f"{name}: {value:.1%} (goal <= {goal:.0%}: {'PASS' if value <= goal else 'FAIL'})")


if __name__ == "__main__":
    main()
