"""The classifier of this worker process: loaded once, reloaded when another worker saved a newer file."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import SQLAlchemyError

from service import status
from service.admin import settings
from service.db import get_engine
from service.schema import comments, status_changes

from .classifier import Classifier, ModelCache, Sample, StaleModel, bundled_samples, train

logger = logging.getLogger(__name__)

_caches: dict[str, ModelCache] = {}


def moderator_decisions(conn: Connection) -> Iterator[Sample]:
    """Every comment's latest moderator decision that says spam (spam) or approved (not spam)."""
    query = (
        select(comments.c.id, comments.c.original, comments.c.author, comments.c.email, comments.c.url,
               comments.c.page, status_changes.c.to_status)
        .join(status_changes, status_changes.c.comment_id == comments.c.id)
        .where(status_changes.c.actor.like("moderator:%"),
               status_changes.c.to_status.in_((status.SPAM, status.APPROVED)))
        .order_by(comments.c.id, status_changes.c.id)
    )
    latest = {row.id: row for row in conn.execute(query)}
    for row in latest.values():
        yield Sample(row.original, row.to_status == status.SPAM, row.author, row.email, row.url, row.page)


def ensure_model(path: str) -> Classifier:
    """The model in the file at `path`, read once. When there is none yet, or an upgrade changed the features, one
    is trained and saved first, so that every worker shares one file: from the bundled data and every moderator
    decision, as `comments train` does.

    Without this, an upgrade that bumps FEATURE_VERSION would hold every comment, with the classifier's
    error as its reason, until someone ran `comments train`.
    """
    if os.path.exists(path):
        try:
            return Classifier.load(path)
        except StaleModel as error:
            logger.warning("%s (done now, from the bundled data and every moderator decision)", error)
    else:
        logger.info("no spam model at %s: training one from the bundled data and every moderator decision", path)
    try:
        with get_engine().connect() as conn:
            decisions = list(moderator_decisions(conn))
    except SQLAlchemyError as error:  # a model now beats none; `comments train` adds the decisions later
        logger.warning("moderator decisions unreadable (%s): training from the bundled data alone", error)
        decisions = []
    classifier = train([*bundled_samples(), *decisions])
    classifier.save(path)
    return classifier


def current(config: Mapping[str, Any]) -> Classifier:
    """The model to use for this job: one os.stat per call, a reload only when the file changed."""
    path = config["MODEL_PATH"]
    if path not in _caches:
        cache = ModelCache(path)
        cache.current = ensure_model(path)  # one freshly trained has no file stamp: get() reads the file once
        _caches[path] = cache
    return _caches[path].get()


def policy(conn: Connection, config: Mapping[str, Any]) -> str:
    """The moderation policy: the one set on the settings page, else COMMENTS_MODERATION."""
    return settings.policy(conn, str(config["MODERATION"]))
