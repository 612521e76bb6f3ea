"""The `comments` command group: serve, worker, db upgrade, dev (later issues add more)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup
from werkzeug.serving import run_simple

from workers.cli import evaluate_command, train_command

from . import status
from .admin.cli import purge, token_group, user_group
from .wordpress_import import POST_KEYS


def _create_app() -> Flask:
    from . import create_app

    return create_app()


class CommentsGroup(FlaskGroup):
    """Flask's group, but `--help` lists our commands without building the app (no settings needed)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.commands)


cli = CommentsGroup(name="comments", create_app=_create_app, add_version_option=False,
                    add_default_commands=False, help="Comment moderation service.")
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
            "--worker-tmp-dir", "/dev/shm"]
    if current_app.config["ACCESS_LOG"]:
        args += ["--access-logfile", "-", "--logger-class", "service.access_log.Logger"]
    args.append("service:create_app()")
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
    from .admin import accounts
    from .db import get_engine, upgrade

    upgrade(current_app.config["DATABASE_URL"])
    worker_process = subprocess.Popen([sys.executable, "-m", "service", "worker"])
    click.echo(f"Worker started (pid {worker_process.pid}); web on http://{host}:{port}/")
    with get_engine().connect() as conn:
        if not accounts.any_moderator(conn):
            click.echo(f"The review queue is at http://{host}:{port}/admin; no moderator exists yet: in another "
                       "terminal, export COMMENTS_SECRET_KEY (make run keeps it in instance/secret_key), then "
                       f"{command_name()} user add NAME")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so the worker is stopped with us
    try:
        run_simple(host, port, current_app._get_current_object(), threaded=True)  # type: ignore[attr-defined]
    finally:
        worker_process.terminate()
        worker_process.wait(timeout=30)


def command_name() -> str:
    """How this command was started, to repeat in advice: `.venv/bin/comments` or `python -m service`."""
    return "python -m service" if sys.argv[0].endswith(".py") else sys.argv[0]


@cli.group("lists")
def lists_group() -> None:
    """The moderation and disallowed word lists."""


@lists_group.command("add")
@click.argument("list_name", type=click.Choice(["moderation", "disallowed"]))
@click.argument("term")
def lists_add(list_name: str, term: str) -> None:
    """Add TERM to a list (matched case-insensitively anywhere in a comment's fields)."""
    from . import word_lists
    from .db import get_engine

    try:
        with get_engine().begin() as conn:
            added = word_lists.add(conn, list_name, term)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="TERM") from None
    click.echo(f"Added '{word_lists.normalize(term)}' to the {list_name} list." if added
               else f"'{word_lists.normalize(term)}' is already on the {list_name} list.")


@lists_group.command("remove")
@click.argument("list_name", type=click.Choice(["moderation", "disallowed"]))
@click.argument("term")
def lists_remove(list_name: str, term: str) -> None:
    """Remove TERM from a list."""
    from . import word_lists
    from .db import get_engine

    with get_engine().begin() as conn:
        removed = word_lists.remove(conn, list_name, term)
    if not removed:
        raise click.ClickException(f"'{word_lists.normalize(term)}' is not on the {list_name} list.")
    click.echo(f"Removed '{word_lists.normalize(term)}' from the {list_name} list.")


@lists_group.command("show")
@click.argument("list_name", type=click.Choice(["moderation", "disallowed"]))
def lists_show(list_name: str) -> None:
    """Print a list, one term a line."""
    from . import word_lists
    from .db import get_engine

    with get_engine().connect() as conn:
        for term in word_lists.terms(conn, list_name):
            click.echo(term)


@cli.command("recheck")
@click.argument("comment_id", type=int, required=False)
@click.option("--status", "state", type=click.Choice(["held", "spam", "pending"]),
              help="Recheck every comment with this status.")
def recheck(comment_id: int | None, state: str | None) -> None:
    """Run the spam check again on one comment or on every comment with a status."""
    from . import queue, store
    from .db import get_engine

    if (comment_id is None) == (state is None):
        raise click.UsageError("Give a COMMENT_ID or --status, not both.")
    with get_engine().begin() as conn:
        if comment_id is not None:
            row = store.get_comment(conn, comment_id)
            if row is None:
                raise click.ClickException(f"Comment {comment_id} does not exist.")
            ids, state = [comment_id], row["status"]
        else:
            ids = store.ids_with_status(conn, state or "")
        reopened = [i for i in ids if state == "pending" or store.reopen(conn, i, state or "", "cli")]
    jobs = queue.get_queue()
    queued = sum(queue.requeue(jobs, i, current_app.config["JOB_TIMEOUT"]) for i in reopened)
    click.echo(f"{len(reopened)} comments sent for a recheck ({queued} new jobs).")


import_group = AppGroup("import", help="Comments from another system.")


@import_group.command("wordpress")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--post-id", "post_key", type=click.Choice(POST_KEYS), default="id", show_default=True,
              help="What becomes the post id: WordPress's post number (what its comment form posts), slug or address.")
@click.option("--dry-run", is_flag=True, help="Read and check everything, store nothing.")
def import_wordpress(path: str, post_key: str, dry_run: bool) -> None:
    """Import the comments of a WordPress export file (Tools > Export), statuses and threads included."""
    from xml.etree.ElementTree import ParseError

    from . import wordpress_import
    from .db import get_engine

    with get_engine().connect() as conn:
        try:
            report = wordpress_import.import_file(conn, path, current_app.config["SANITIZER"], post_key)
        except ParseError as error:
            raise click.ClickException(f"{path} is not a WordPress export file: {error}.") from None
        if dry_run:
            conn.rollback()
        else:
            conn.commit()
    counts = ", ".join(f"{n} {state}" for state, n in sorted(report.imported.items())) or "none"
    click.echo(f"{'Would import' if dry_run else 'Imported'} {report.imported.total()} comments on "
               f"{len(report.posts)} posts ({counts}).")
    if report.closed:
        click.echo(f"{len(report.closed)} of these posts closed to new comments, as in WordPress.")
    if report.skipped:
        click.echo("Skipped: " + ", ".join(f"{n} {why}" for why, n in sorted(report.skipped.items())) + ".")
    for line in report.problems[:20]:
        click.echo(f"  {line}")
    if len(report.problems) > 20:
        click.echo(f"  … and {len(report.problems) - 20} more.")


posts_group = AppGroup("posts", help="Which posts take new comments.")
CHOICES = {"close": False, "open": True, "default": None}


@posts_group.command("show")
def posts_show() -> None:
    """The posts a moderator closed or kept open, newest choice first."""
    from . import posts
    from .db import get_engine

    with get_engine().connect() as conn:
        chosen = posts.choices(conn)
    for post in chosen:
        state = "open" if post["comments_open"] else "closed"
        click.echo(f"{state:6}  {post['post_id']}  ({post['changed_by']}, {post['changed_at'][:16]})")
    days = current_app.config["CLOSE_AFTER_DAYS"]
    click.echo(f"Any other post closes {days} days after its first comment." if days else "Any other post is open.")


@posts_group.command("set")
@click.argument("choice", type=click.Choice(list(CHOICES)))
@click.argument("post_id")
def posts_set(choice: str, post_id: str) -> None:
    """Close POST_ID to new comments, keep it open whatever its age, or leave it to the default rule."""
    from . import posts
    from .db import get_engine

    if problem := posts.post_id_error(post_id):
        raise click.BadParameter(problem, param_hint="POST_ID")
    with get_engine().begin() as conn:
        posts.choose(conn, post_id, CHOICES[choice], "cli")
        closed = posts.closed(conn, post_id, current_app.config["CLOSE_AFTER_DAYS"])
    click.echo(f"{post_id}: {'closed to' if closed else 'open for'} new comments.")


export_group = AppGroup("export", help="Comments for another system.")


@export_group.command("wordpress")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, allow_dash=True))
@click.option("--status", "states", multiple=True, type=click.Choice(status.ALL),
              help="Only comments in this status (repeat for more); default all of them.")
def export_wordpress(path: str, states: tuple[str, ...]) -> None:
    """Write every comment to PATH (- for standard output) as a WordPress export file (WXR 1.2)."""
    from . import wordpress_export
    from .db import get_engine

    with click.open_file(path, "w", encoding="utf-8", atomic=path != "-") as out, get_engine().connect() as conn:
        written = wordpress_export.export(conn, out, states or status.ALL, current_app.config["CLOSE_AFTER_DAYS"])
    counts = ", ".join(f"{n} {state}" for state, n in sorted(written.items())) or "none"
    click.echo(f"Exported {written.total()} comments ({counts}).", err=path == "-")


privacy_group = AppGroup("privacy", help="A commenter's personal data, found by email (GDPR requests).")


@privacy_group.command("export")
@click.argument("email")
def privacy_export(email: str) -> None:
    """Print, as JSON, every comment stored under EMAIL with what is kept about its author."""
    from . import privacy
    from .db import get_engine

    if problem := privacy.email_error(email):
        raise click.BadParameter(problem, param_hint="EMAIL")
    with get_engine().connect() as conn:
        click.echo(json.dumps(privacy.personal_data(conn, email), indent=2, ensure_ascii=False))


@privacy_group.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def privacy_erase(email: str, yes: bool) -> None:
    """Anonymise every comment stored under EMAIL: name, email, website, address, user agent and referrer go."""
    from . import privacy
    from .db import get_engine

    if problem := privacy.email_error(email):
        raise click.BadParameter(problem, param_hint="EMAIL")
    with get_engine().connect() as conn:
        count = len(privacy.personal_data(conn, email)["comments"])
    if not count:
        click.echo(f"No comments are stored under {email}.")
        return
    if not yes:
        click.confirm(f"Anonymise {count} comments stored under {email}?", abort=True)
    with get_engine().begin() as conn:
        erased = privacy.erase(conn, email, "the privacy erase command")
    click.echo(f"Anonymised {len(erased)} comments: their text stays, shown as by {privacy.ANONYMOUS!r}.")


cli.add_command(db_group)
cli.add_command(import_group)
cli.add_command(export_group)
cli.add_command(posts_group)
cli.add_command(privacy_group)
cli.add_command(user_group)
cli.add_command(token_group)
cli.add_command(purge)
cli.add_command(train_command)
cli.add_command(evaluate_command)


def main() -> None:
    """The console script: a bad setting ends with one line naming it, not a traceback."""
    from .config import ConfigError

    try:
        cli.main(prog_name="comments")
    except ConfigError as error:
        sys.exit(f"comments: {error}")
