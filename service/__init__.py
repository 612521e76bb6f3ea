"""The comment-moderation service: `create_app` builds the Flask app from defaults, environment and tests."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response

from . import config as settings

PUBLIC_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'"


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then the environment, then `test_config`; validated before anything starts."""
    environment = settings.from_environment()
    app = Flask(__name__, instance_relative_config=True, instance_path=environment.get("INSTANCE_PATH"))
    app.config.from_mapping(environment)
    if test_config is not None:
        app.config.from_mapping(test_config)
    settings.finish(app.config, app.instance_path)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    # The format below names no thread, process or source line: spare every record (each request's
    # access line too) looking them up, as the logging HOWTO's "Optimization" section advises.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None
    logging.basicConfig(level=os.environ.get("COMMENTS_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from . import admin, db, demo, errors, feeds, form_token, health, openapi, own_comments, public, queue, replies

    db.init_app(app)
    queue.init_app(app)
    errors.init_app(app)
    app.url_map.converters["comment_id"] = admin.CommentIdConverter
    app.register_blueprint(public.bp)
    app.register_blueprint(own_comments.bp)
    app.register_blueprint(form_token.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(demo.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(replies.bp)
    app.register_blueprint(feeds.bp)
    admin.init_app(app)
    app.after_request(security_headers)
    return app


def security_headers(response: Response) -> Response:
    """No sniffing, no framing, and for pages a policy that allows no script at all (admin pages set their own)."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", PUBLIC_CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response
