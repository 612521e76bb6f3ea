"""`comments user`, `comments token` and `comments purge`."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from ..db import get_engine
from ..store import utcnow
from . import accounts
from .purge import purge_old

user_group = AppGroup("user", help="Moderator accounts.")
token_group = AppGroup("token", help="API tokens for /admin/api.")


def read_password() -> str:
    """Asked twice at a terminal; read from standard input otherwise (for scripts)."""
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\n")


@user_group.command("add")
@click.argument("name")
def user_add(name: str) -> None:
    """Create moderator NAME (the password is asked for, or read from standard input)."""
    try:
        with get_engine().begin() as conn:
            accounts.add(conn, name, read_password())
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Moderator {name} added.")


@user_group.command("remove")
@click.argument("name")
def user_remove(name: str) -> None:
    """Remove moderator NAME and their tokens."""
    with get_engine().begin() as conn:
        if not accounts.remove(conn, name):
            raise click.ClickException(f"No moderator named {name!r}.")
    click.echo(f"Moderator {name} removed.")


@token_group.command("create")
@click.argument("name")
def token_create(name: str) -> None:
    """Create an API token for NAME; it is printed once, alone on the last line."""
    try:
        with get_engine().begin() as conn:
            token = accounts.create_token(conn, name)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"API token for {name} (shown once; only its hash is stored):")
    click.echo(token)


@token_group.command("revoke")
@click.argument("name")
@click.option("--token", "token", help="Revoke only this token (default: all of NAME's tokens).")
def token_revoke(name: str, token: str | None) -> None:
    """Revoke NAME's API tokens."""
    with get_engine().begin() as conn:
        count = accounts.revoke(conn, name, token)
    if not count:
        raise click.ClickException(f"No live token of {name!r} matched.")
    click.echo(f"Revoked {count} token{'s' * (count != 1)} of {name}.")


@click.command("purge")
@click.option("--days", type=click.IntRange(1), help="Default: COMMENTS_PURGE_DAYS.")
@with_appcontext
def purge(days: int | None) -> None:
    """Delete spam and trash older than the retention period."""
    days = days or current_app.config["PURGE_DAYS"]
    with get_engine().begin() as conn:
        counts = purge_old(conn, days, utcnow())
    click.echo(f"Purged {counts['spam']} spam and {counts['trash']} trash comments older than {days} days.")
