"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import redis
from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from . import db, queue

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process is up."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Ready when the database and Redis answer; 503 naming the one that does not."""
    failing = []
    try:
        db.ping(db.get_engine())
    except SQLAlchemyError:
        failing.append("database")
    try:
        queue.get_redis().ping()
    except redis.RedisError:
        failing.append("redis")
    if failing:
        return jsonify(status="unavailable", failing=failing), 503
    return jsonify(status="ready")
