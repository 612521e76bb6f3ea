"""Fuzz the whole API against its OpenAPI description with schemathesis: no 5xx, no answer off the schema.

    .venv/bin/python scripts/fuzz_api.py [--max-examples N]

Starts a private Redis, a scratch SQLite database with a moderator and an API token, and
`comments serve` on a free loopback port; schemathesis then reads /openapi.json and sends
generated requests to every public and admin operation, with the token.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import Server, free_port, private_redis  # noqa: E402

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def comments(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run([sys.executable, "-m", "service", *args], env=env, input=stdin, text=True,
                            capture_output=True, check=True)
    return result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, private_redis() as redis_url:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder}/fuzz.sqlite3", "REDIS_URL": redis_url,
               "COMMENTS_SECRET_KEY": secrets.token_urlsafe(24), "COMMENTS_FLOOD_SECONDS": "0",
               "COMMENTS_MODEL_PATH": f"{folder}/model.joblib", "COMMENTS_LOG_LEVEL": "WARNING"}
        comments(env, "db", "upgrade")
        comments(env, "user", "add", "fuzzer", stdin=secrets.token_urlsafe(16) + "\n")
        token = comments(env, "token", "create", "fuzzer").splitlines()[-1]
        port = free_port()
        server = Server([sys.executable, "-m", "service", "serve", "--port", str(port), "--workers", "2"], env,
                        f"http://127.0.0.1:{port}/healthz")
        with server:
            command = [str(Path(sys.executable).parent / "schemathesis"), "run", f"{server.base_url}/openapi.json",
                       "--checks", CHECKS, "--max-examples", str(args.max_examples), "--header",
                       f"Authorization: Bearer {token}", "--generation-deterministic", "--request-timeout", "10"]
            return subprocess.run(command, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
