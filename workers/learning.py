"""Learning from moderators: a decision teaches the classifier, and tells Akismet when it was wrong."""

from __future__ import annotations

import logging

from flask import current_app
from rq import get_current_job

from service import store
from service.db import get_engine

from . import akismet
from .classifier import Sample
from .model import ensure_model

logger = logging.getLogger(__name__)

LOCK = "comments:model-lock"
"""One learner at a time, so two workers never overwrite each other's update of the model file."""


def learn_from_decision(comment_id: int, is_spam: bool) -> str:
    """Update the shared model with one moderator decision; every worker picks the new file up by itself."""
    with get_engine().connect() as conn:
        comment = store.get_comment(conn, comment_id)
    if comment is None:
        return "gone"
    config = current_app.config
    path = config["MODEL_PATH"]
    job = get_current_job()
    assert job is not None, "runs as an RQ job"
    with job.connection.lock(LOCK, timeout=120, blocking_timeout=120):
        classifier = ensure_model(path)
        classifier.learn_samples([Sample(comment["original"], is_spam, comment["author"], comment["email"],
                                         comment["url"], comment["page"])])
        classifier.save(path)
    logger.info("comment %s taught the model: %s", comment_id, "spam" if is_spam else "ham")
    if config.get("AKISMET_KEY") and akismet_disagreed(comment["reasons"] or [], is_spam):
        akismet.submit(config, dict(comment), is_spam)
    return "learned"


def akismet_disagreed(reasons: list[dict], is_spam: bool) -> bool:
    """Whether Akismet's own answer for this comment differs from the moderator's."""
    for reason in reasons:
        if reason.get("check") == "akismet":
            return ("not spam" in reason["reason"]) == is_spam
    return False
