"""The baseline for bench/intake.py: a minimal Flask endpoint that reads a JSON comment and answers 202."""

from __future__ import annotations

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/comments")
    def comments() -> ResponseReturnValue:
        body = request.get_json()
        return jsonify(id=1, status="pending", comment={"author": body.get("author")}), 202

    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        return jsonify(status="ok")

    return app
