"""The `comments` command group."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect

from workers.classifier import Sample, default_model
from workers.evaluation import evaluate


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url, "COMMENTS_SECRET_KEY": "test-secret-key-0123456789"}
    result = subprocess.run([sys.executable, "-m", "service", "db", "upgrade"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Database is up to date." in result.stdout
    tables = set(inspect(create_engine(url)).get_table_names())
    assert {"comments", "status_changes", "word_lists", "alembic_version"} <= tables


def test_bad_setting_stops_with_the_variable_named(tmp_path: Path) -> None:
    env = {**os.environ, "COMMENTS_MODERATION": "sometimes", "COMMENTS_SECRET_KEY": "test-secret-key-0123456789"}
    result = subprocess.run([sys.executable, "-m", "service", "db", "upgrade"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "COMMENTS_MODERATION" in result.stderr


def run(app: Any, *args: str, input: str | None = None) -> Any:
    from service.cli import cli

    return app.test_cli_runner().invoke(cli, list(args), input=input)


def test_lists_add_show_remove(app: Any) -> None:
    assert run(app, "lists", "add", "moderation", "  Lobbying ").output == "Added 'lobbying' to the moderation list.\n"
    assert "already" in run(app, "lists", "add", "moderation", "lobbying").output
    run(app, "lists", "add", "moderation", "casino")
    assert run(app, "lists", "show", "moderation").output == "casino\nlobbying\n"
    assert run(app, "lists", "show", "disallowed").output == ""
    assert run(app, "lists", "remove", "moderation", "casino").exit_code == 0
    missing = run(app, "lists", "remove", "moderation", "casino")
    assert missing.exit_code == 1 and "is not on the moderation list" in missing.output
    assert run(app, "lists", "add", "sometimes", "x").exit_code == 2


def test_recheck_held_comments(app: Any, work: Any) -> None:
    from service import status

    from .test_worker import comment, submit

    run(app, "lists", "add", "moderation", "letter")
    held = submit(app)
    work(app)
    assert comment(app, held)["status"] == status.HELD
    run(app, "lists", "remove", "moderation", "letter")
    result = run(app, "recheck", "--status", "held")
    assert result.output == "1 comments sent for a recheck (1 new jobs).\n"
    assert run(app, "recheck", "--status", "held").output.startswith("0 comments")  # idempotent
    work(app)
    assert comment(app, held)["status"] == status.APPROVED
    assert run(app, "recheck", "999999").exit_code == 1
    assert run(app, "recheck").exit_code == 2


def labelled_file(tmp_path: Path) -> Path:
    import json

    rows = [{"comment": f"check out my channel and subscribe {n} free gift", "spam": True} for n in range(20)]
    rows += [{"comment": f"the governor's letter makes point number {n} well", "spam": False} for n in range(20)]
    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows), encoding="utf-8")
    return path


def test_train_and_evaluate(app_factory: Any, tmp_path: Path) -> None:
    app = app_factory(MODEL_PATH=str(tmp_path / "model.joblib"))
    data = labelled_file(tmp_path)
    trained = run(app, "train", str(data))
    assert trained.exit_code == 0, trained.output
    assert "Trained on 40 comments (20 spam)" in trained.output
    assert (tmp_path / "model.joblib").exists()
    result = run(app, "evaluate", str(data))
    assert result.exit_code == 0, result.output
    assert "40 comments, 20 spam" in result.output
    assert "false-positive rate" in result.output and "TP " in result.output
    assert run(app, "evaluate", str(data), "--page", "https://blog.example/2011/06/letter/").exit_code == 0
    assert run(app, "evaluate", str(tmp_path / "missing.csv")).exit_code == 2


def test_an_evaluation_lets_a_moderator_act_after_each_verdict(app: Any) -> None:
    samples = [Sample("Check out my channel http://spam.example/1 and subscribe!!", True),
               Sample("A plain thought.", False)]
    seen: list[tuple[str, str]] = []
    report = evaluate(samples, app.config, default_model(), decided=lambda s, v: seen.append((s.text, v)))
    assert [text for text, _ in seen] == [s.text for s in samples]
    assert Counter((s.spam, verdict) for s, (_, verdict) in zip(samples, seen, strict=True)) == report.counts


def test_user_and_token_commands(app: Any) -> None:
    added = run(app, "user", "add", "ann", input="correct horse battery staple\n")
    assert added.exit_code == 0 and added.output == "Moderator ann added.\n"
    assert run(app, "user", "add", "ann", input="correct horse battery staple\n").exit_code == 1
    assert "at least 10" in run(app, "user", "add", "bob", input="short\n").output
    created = run(app, "token", "create", "ann")
    token = created.output.splitlines()[-1]
    assert created.exit_code == 0 and len(token) >= 40 and token not in created.output.splitlines()[0]
    client = app.test_client()
    assert client.get("/admin/api/stats", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert run(app, "token", "revoke", "ann").output == "Revoked 1 token of ann.\n"
    assert client.get("/admin/api/stats", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert run(app, "token", "create", "nobody").exit_code == 1
    assert run(app, "user", "remove", "ann").exit_code == 0
    assert run(app, "user", "remove", "ann").exit_code == 1


def test_purge_command(app: Any) -> None:
    result = run(app, "purge", "--days", "15")
    assert result.exit_code == 0 and result.output == "Purged 0 spam and 0 trash comments older than 15 days.\n"


def test_dev_runs_migrations_web_and_worker_and_says_how_to_add_a_moderator(tmp_path: Path, redis_url: str,
                                                                            model_path: str) -> None:
    import json
    import signal
    import urllib.request

    from .conftest import free_port, wait_for

    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}", "REDIS_URL": redis_url,
           "COMMENTS_SECRET_KEY": "test-secret-key-0123456789", "COMMENTS_MODEL_PATH": model_path,
           "COMMENTS_FLOOD_SECONDS": "0"}
    log = tmp_path / "dev.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "service", "dev", "--port", str(port)], env=env,
                                   stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"

    def answers(path: str, data: bytes | None = None) -> Any:
        request = urllib.request.Request(base + path, data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            return None

    try:
        wait_for(lambda: answers("/readyz"), timeout=60)
        advice = wait_for(lambda: [line for line in log.read_text().splitlines() if "no moderator exists" in line])
        assert f"{base}/admin" in advice[0] and "python -m service user add NAME" in advice[0]
        body = {"author": "Ada", "email": "ada@example.org", "comment": "A plain thought.", "post_id": "dev"}
        assert answers("/comments", json.dumps(body).encode())["status"] == "pending"
        wait_for(lambda: (answers("/comment-counts?post_id=dev") or {}).get("counts", {}).get("dev"), timeout=60)
        worker_pid = int(log.read_text().split("Worker started (pid ")[1].split(")")[0])
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    try:
        os.kill(worker_pid, 0)
        raise AssertionError("the worker outlived `comments dev`")
    except ProcessLookupError:
        pass
