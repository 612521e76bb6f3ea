"""The `comments` command group: serve, worker, db upgrade, dev (later issues add more)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup

logger = logging.getLogger(__name__)


def _create_app() -> Flask:
    from . import create_app

    return create_app()


cli = FlaskGroup(name="comments", create_app=_create_app, add_version_option=False,
                 help="Comment moderation service.")
db_group = AppGroup("db", help="Database schema.")


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations (creates the database on first use)."""
    from .db import upgrade

    upgrade(current_app.config["DATABASE_URL"])
    click.echo("Database is up to date.")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="gunicorn worker processes (sync).")
def serve(host: str, port: int, workers: int) -> None:
    """Run the production server (gunicorn)."""
    args = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"{host}:{port}",
            "--access-logfile", "-", "--worker-tmp-dir", "/dev/shm", "service:create_app()"]
    click.echo(f"Serving on http://{host}:{port} with {workers} workers.")
    sys.stdout.flush()
    os.execv(sys.executable, args)


@cli.command("worker")
@click.option("--burst", is_flag=True, help="Drain the queue, then exit.")
def worker(burst: bool) -> None:
    """Run an RQ worker on the spam-check queue, with the sweeper for lost jobs."""
    from workers.worker import run

    run(current_app._get_current_object(), burst=burst)  # type: ignore[attr-defined]


@cli.command("dev")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def dev(host: str, port: int) -> None:
    """Migrations, a worker and the web server in one command, for local use."""
    from .db import upgrade

    upgrade(current_app.config["DATABASE_URL"])
    worker_process = subprocess.Popen([sys.executable, "-m", "service", "worker"])
    click.echo(f"Worker started (pid {worker_process.pid}); web on http://{host}:{port}/")
    try:
        current_app.run(host=host, port=port, debug=False, use_reloader=False)
    finally:
        worker_process.terminate()
        worker_process.wait(timeout=30)


def main() -> None:
    """The console script: a bad setting ends with one line naming it, not a traceback."""
    from .config import ConfigError

    try:
        cli.main(prog_name="comments")
    except ConfigError as error:
        sys.exit(f"comments: {error}")
