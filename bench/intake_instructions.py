"""Instructions per JSON submission, counted by callgrind: a cost figure that machine noise cannot move.

    python bench/intake_instructions.py [--root PATH] [--requests 200]

On a shared 2-core machine the CPU time of the same code varies by a quarter between runs, which
hides a change of a few percent. callgrind counts the instructions executed instead: with the hash
seed fixed (PYTHONHASHSEED=0), two runs of the same code agree to a few hundredths of a percent.
The app (`create_app`, a fresh SQLite file, nh3, flood control off) takes 50 warm-up submissions
and then `--requests` more through Flask's test client; the bench runs that twice under
`valgrind --tool=callgrind`, with and without the measured requests, and prints the difference per
submission. `--root` measures another checkout (a `git worktree` of an older commit) with this
one's virtualenv. Needs valgrind (on every machine of this kind); takes about five minutes.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WARM_UP = 50
TEXT = "A fair point about <b>Secure Communities</b>, see <a href='https://x.example/a'>this</a>. " * 3


def submit(requests: int) -> None:
    """The measured program: build the app from whatever `service` is first on sys.path, then post."""
    import logging

    from service import create_app
    from service.db import upgrade

    folder = tempfile.mkdtemp(prefix="intake-instructions-")
    url = f"sqlite:///{folder}/comments.sqlite3"
    upgrade(url)
    app = create_app({"SECRET_KEY": "k" * 32, "DATABASE_URL": url, "REDIS_URL": "redis://127.0.0.1:1/0",
                      "FLOOD_SECONDS": 0, "SANITIZER": "nh3"})
    logging.getLogger().setLevel(logging.WARNING)
    client = app.test_client()
    for number in range(WARM_UP + requests):
        answer = client.post("/comments", json={"author": "Ada", "email": f"a{number}@example.org",
                                                "comment": f"{TEXT} {number}", "post_id": "p1"})
        assert answer.status_code == 202, answer.get_json()


def count(root: Path, requests: int) -> int:
    """Instructions of one whole run under callgrind."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        # A fixed hash seed: with Python's random one, dict layouts (and the count) change from run to run.
        env = {**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": "0"}
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
                        __file__, "--run", str(requests)], env=env, check=True, capture_output=True)
        match = re.search(r"^summary: (\d+)$", out.read_text(), re.MULTILINE)
        assert match, "callgrind wrote no summary"
        return int(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure (default: this one)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--run", type=int, help=argparse.SUPPRESS)  # the measured program itself
    args = parser.parse_args()
    if args.run is not None:
        submit(args.run)
        return
    base, full = count(args.root, 0), count(args.root, args.requests)
    print(f"{args.root}: {(full - base) / args.requests:,.0f} instructions per submission "
          f"({args.requests} after {WARM_UP} to warm up; {base:,} for start-up and warm-up)")


if __name__ == "__main__":
    main()
