"""The spam engine's commands: `comments train` and `comments evaluate` (they load scikit-learn)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import Connection, select

from service import status
from service import word_lists as lists
from service.db import get_engine
from service.schema import comments, status_changes

from .classifier import Sample, bundled_samples, read_labelled, train
from .evaluation import evaluate
from .model import current

LABELLED = click.Path(exists=True, dir_okay=False, path_type=Path)


def moderator_decisions(conn: Connection) -> Iterator[Sample]:
    """Every comment's latest moderator decision that says spam (spam) or approved (not spam)."""
    query = (
        select(comments.c.id, comments.c.original, comments.c.author, comments.c.email, comments.c.url,
               status_changes.c.to_status)
        .join(status_changes, status_changes.c.comment_id == comments.c.id)
        .where(status_changes.c.actor.like("moderator:%"),
               status_changes.c.to_status.in_((status.SPAM, status.APPROVED)))
        .order_by(comments.c.id, status_changes.c.id)
    )
    latest = {row.id: row for row in conn.execute(query)}
    for row in latest.values():
        yield Sample(row.original, row.to_status == status.SPAM, row.author, row.email, row.url)


@click.command("train")
@click.argument("files", nargs=-1, type=LABELLED)
@with_appcontext
def train_command(files: tuple[Path, ...]) -> None:
    """Retrain the classifier from labelled FILES (default: the bundled data) and all moderator decisions."""
    samples = [sample for path in files for sample in read_labelled(path)] if files else list(bundled_samples())
    with get_engine().connect() as conn:
        samples += list(moderator_decisions(conn))
    with click.progressbar(length=len(samples), label="Training") as bar:
        classifier = train(samples, progress=bar.update)
    classifier.save(current_app.config["MODEL_PATH"])
    spam = sum(sample.spam for sample in samples)
    click.echo(f"Trained on {len(samples)} comments ({spam} spam); every worker picks the new model up.")


@click.command("evaluate")
@click.argument("files", nargs=-1, required=True, type=LABELLED)
@with_appcontext
def evaluate_command(files: tuple[Path, ...]) -> None:
    """Decide labelled comments (CSV CONTENT,CLASS or JSON lines) with the whole engine and print the measures."""
    samples = [sample for path in files for sample in read_labelled(path)]
    with get_engine().connect() as conn:
        terms = {name: lists.terms(conn, name) for name in lists.LISTS}
    with click.progressbar(length=len(samples), label="Evaluating") as bar:
        report = evaluate(samples, current_app.config, current(current_app.config), terms, bar.update)
    click.echo(f"{len(samples)} comments, {sum(s.spam for s in samples)} spam")
    for line in report.lines():
        click.echo(line)
