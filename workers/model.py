"""The classifier of this worker process: loaded once, reloaded when another worker saved a newer file."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from service.admin import settings

from .classifier import Classifier, ModelCache, default_model

logger = logging.getLogger(__name__)

_caches: dict[str, ModelCache] = {}


def ensure_model(path: str) -> None:
    """Train from the bundled data and save when no model file exists yet, so every worker shares one file."""
    if not os.path.exists(path):
        logger.info("no spam model at %s: training one from the bundled data", path)
        default_model().save(path)


def current(config: Mapping[str, Any]) -> Classifier:
    """The model to use for this job: one os.stat per call, a reload only when the file changed."""
    path = config["MODEL_PATH"]
    if path not in _caches:
        ensure_model(path)
        _caches[path] = ModelCache(path)
    return _caches[path].get()


def policy(conn: Connection, config: Mapping[str, Any]) -> str:
    """The moderation policy: the one set on the settings page, else COMMENTS_MODERATION."""
    return settings.policy(conn, str(config["MODERATION"]))
