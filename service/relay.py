"""The relay: comments committed by POST /comments become spam-check jobs, enqueued by the workers.

The comments table is the outbox. The intake only commits; the relay, a thread of every
`comments worker`, reads what was stored since its cursor every RELAY_SECONDS and enqueues the
pending comments in one Redis transaction together with the new cursor, so a batch is enqueued
whole or not at all. Enqueueing in the request cost 0.4 of the 1.9 ms of CPU that a submission
took under gunicorn, more than anything else but the sanitizer, and made Redis part of every
submission's latency.

One relay at a time holds a lock in Redis. Ids usually become visible in order, but on
PostgreSQL a transaction that drew an earlier id can commit after a later one: an id skipped
below the cursor is a hole, looked up again on every pass for HOLE_SECONDS; past that, the
sweeper, which re-enqueues every pending comment without a live job every COMMENTS_SWEEP_SECONDS,
is the net. When Redis restarts empty, the cursor goes with the jobs, and the relay's next pass
sweeps at once. When the cursor is above the newest comment (SQLite gives the ids of deleted newest
comments out again; a fresh database in development), a pass moves it back.
"""

from __future__ import annotations

import json
import logging
import time

from redis.exceptions import LockError
from rq import Queue
from sqlalchemy import Engine

from . import queue as jobs
from . import status, store

logger = logging.getLogger(__name__)

STATE_KEY = "comments:relay"
"""JSON {"after": the highest id relayed, "holes": {id: when first missed}}."""
LOCK_KEY = "comments:relay:lock"
LOCK_SECONDS = 30
"""A relay that dies holding the lock blocks the others this long at most."""
RELAY_SECONDS = 0.2
"""How often each worker's relay looks for new comments: the most it adds to the time to a verdict."""
BATCH = 500
HOLE_SECONDS = 60
MAX_HOLES = 1000


def relay(engine: Engine, queue: Queue, timeout: int) -> int:
    """Enqueue the checks of the comments stored since the last pass; returns how many were enqueued.

    Another worker's relay holding the lock makes this pass a no-op.
    """
    lock = queue.connection.lock(LOCK_KEY, timeout=LOCK_SECONDS, blocking=False)
    if not lock.acquire():
        return 0
    try:
        return _relay(engine, queue, timeout)
    finally:
        try:
            lock.release()
        except LockError:  # held past LOCK_SECONDS: another relay may have enqueued the same batch, harmlessly
            logger.warning("the relay held its lock longer than %d s", LOCK_SECONDS)


def _relay(engine: Engine, queue: Queue, timeout: int) -> int:
    raw = queue.connection.get(STATE_KEY)
    if raw is None:
        # First start, or Redis came back empty: the sweep enqueues every pending comment without a
        # live job, and the relay goes on from the newest comment before it.
        with engine.connect() as conn:
            last = store.last_id(conn)
        enqueued = jobs.sweep(engine, queue, timeout)
        queue.connection.set(STATE_KEY, json.dumps({"after": last, "holes": {}}))
        return enqueued
    state = json.loads(raw)
    after: int = state["after"]
    holes = {int(key): since for key, since in state["holes"].items()}
    with engine.connect() as conn:
        rows = store.stored_since(conn, after, sorted(holes), BATCH)
        if not rows and (top := store.last_id(conn)) < after:
            # The newest comments were deleted and SQLite gives their ids out again, or this is another
            # database than the cursor's (a fresh one in development): go back to just below the top.
            # One comment committed since the query above is then looked at twice, harmlessly.
            queue.connection.set(STATE_KEY, json.dumps({"after": max(top - 1, 0), "holes": {}}))
            return 0
    seen = {comment_id for comment_id, _ in rows}
    pending = [comment_id for comment_id, state_ in rows if state_ == status.PENDING]
    last = max(seen | {after})
    now = time.time()
    holes = {comment_id: since for comment_id, since in holes.items()
             if comment_id not in seen and now - since < HOLE_SECONDS}
    for comment_id in range(last - 1, after, -1):
        if len(holes) >= MAX_HOLES:
            break
        if comment_id not in seen:
            holes[comment_id] = now
    with queue.connection.pipeline() as pipe:
        for comment_id in pending:
            jobs.enqueue_check(queue, comment_id, timeout, pipeline=pipe)
        pipe.set(STATE_KEY, json.dumps({"after": last, "holes": holes}))
        pipe.execute()
    if pending:
        logger.info("relay enqueued the checks of %d comments", len(pending))
    return len(pending)
