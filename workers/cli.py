"""The spam engine's commands: `comments train` and `comments evaluate` (they load scikit-learn)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from service import word_lists as lists
from service.db import get_engine

from .classifier import bundled_samples, read_labelled, train
from .evaluation import evaluate
from .model import current, moderator_decisions

LABELLED = click.Path(exists=True, dir_okay=False, path_type=Path)
PAGE = click.option("--page", help="The address of the page a CSV file's comments were written on (the bundled "
                    "files' are known; a JSON line may carry its own \"page\").")


@click.command("train")
@click.argument("files", nargs=-1, type=LABELLED)
@PAGE
@with_appcontext
def train_command(files: tuple[Path, ...], page: str | None) -> None:
    """Retrain the classifier from labelled FILES (default: the bundled data) and all moderator decisions."""
    samples = [s for path in files for s in read_labelled(path, page)] if files else list(bundled_samples())
    with get_engine().connect() as conn:
        samples += list(moderator_decisions(conn))
    with click.progressbar(length=len(samples), label="Training") as bar:
        classifier = train(samples, progress=bar.update)
    classifier.save(current_app.config["MODEL_PATH"])
    spam = sum(sample.spam for sample in samples)
    click.echo(f"Trained on {len(samples)} comments ({spam} spam); every worker picks the new model up.")


@click.command("evaluate")
@click.argument("files", nargs=-1, required=True, type=LABELLED)
@PAGE
@with_appcontext
def evaluate_command(files: tuple[Path, ...], page: str | None) -> None:
    """Decide labelled comments (CSV CONTENT,CLASS or JSON lines) with the whole engine and print the measures."""
    samples = [sample for path in files for sample in read_labelled(path, page)]
    with get_engine().connect() as conn:
        terms = {name: lists.terms(conn, name) for name in lists.LISTS}
    with click.progressbar(length=len(samples), label="Evaluating") as bar:
        report = evaluate(samples, current_app.config, current(current_app.config), terms, bar.update)
    click.echo(f"{len(samples)} comments, {sum(s.spam for s in samples)} spam")
    for line in report.lines():
        click.echo(line)
