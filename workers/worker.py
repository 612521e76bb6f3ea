"""The worker process: an RQ SimpleWorker on the spam-check queue that also sweeps for lost jobs.

SimpleWorker runs jobs in its own process instead of forking a work horse per job:
the fork costs about 15 ms of CPU per job here, SimpleWorker about 3 ms, and the
classifier is loaded once per process instead of once per job. A job that crashes
the process is not lost: RQ marks it failed and the sweeper re-enqueues its comment.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask
from redis.client import Pipeline
from rq import Queue, SimpleWorker
from rq.serializers import JSONSerializer

from service import queue, relay
from service.admin.purge import purge_old
from service.db import checkpoint, get_engine
from service.store import utcnow

from . import model, notify

logger = logging.getLogger(__name__)

TTL_MARGIN = 15
"""RQ blocks on the queue for worker_ttl - 15 s; that is also how often maintenance (the sweep) can run."""


HEARTBEAT_SLACK = 5.0
"""Seconds of its lifetime the worker's Redis key may lose before a heartbeat renews it (it lives 60 s or more)."""

SUSPENSION_CHECK_SECONDS = 1.0
"""How often the worker asks Redis whether `rq suspend` was called; RQ asks before every job."""

PURGE_KEY = "comments:purge:done"
PURGE_EVERY = 24 * 3600
"""The daily purge of old spam and trash; a Redis key makes one worker of many do it."""


class SweepingWorker(SimpleWorker):
    """RQ's maintenance (cleaning registries, moving abandoned jobs to failed), our sweep, the daily purge,
    and fewer of RQ's bookkeeping round trips to Redis per job (51 commands per empty job before, 44 now)."""

    app: Flask
    _key_expires = 0.0
    _suspension_checked = float("-inf")

    def heartbeat(self, timeout: int | None = None, pipeline: Pipeline | None = None) -> None:
        """Renew the worker's key only when that adds more than HEARTBEAT_SLACK to its life.

        RQ renews it five times per job, three of them outside a pipeline at two round trips each, to
        push an expiry of a minute or more a few milliseconds further: a third of a job's round trips.
        A heartbeat inside one of RQ's pipelines costs no round trip of its own and always goes through.
        """
        expires = time.monotonic() + (timeout or self.worker_ttl + 60)
        if pipeline is None and expires < self._key_expires + HEARTBEAT_SLACK:
            return
        super().heartbeat(timeout, pipeline)
        self._key_expires = expires

    def set_state(self, state: str, pipeline: Pipeline | None = None) -> None:
        """RQ sets `idle` twice between two jobs (after one, before the next): once is enough."""
        if pipeline is None and state == self.get_state():
            return
        super().set_state(state, pipeline)

    def check_for_suspension(self, burst: bool) -> None:
        """At most once a second: a suspended worker stops taking jobs a moment later, for a round trip less per job."""
        if time.monotonic() - self._suspension_checked < SUSPENSION_CHECK_SECONDS:
            return
        super().check_for_suspension(burst)
        self._suspension_checked = time.monotonic()

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        if not self.connection.exists(self.key):
            # Redis restarted empty: the throttled heartbeat would leave the worker out of `rq info` and of
            # RQ's registry of workers for up to a minute and a half; register it again now.
            self.register_birth()
            self._key_expires = 0.0
        with self.app.app_context():
            # The relay first: the sweep then finds the comments it enqueued live and leaves them be.
            relay.relay(get_engine(), self.queues[0], self.app.config["JOB_TIMEOUT"])
            count = queue.sweep(get_engine(), self.queues[0], self.app.config["JOB_TIMEOUT"])
            if count:
                logger.info("sweeper re-enqueued %d pending comments", count)
            notify.enqueue_replies(self.connection, get_engine(), self.app.config)
            if self.connection.set(PURGE_KEY, 1, nx=True, ex=PURGE_EVERY):
                with get_engine().begin() as conn:
                    purge_old(conn, self.app.config["PURGE_DAYS"], utcnow())


def make_worker(app: Flask) -> SweepingWorker:
    """A worker bound to the app's Redis, sweeping every SWEEP_SECONDS."""
    interval = app.config["SWEEP_SECONDS"]
    connection = queue.connect(app.config["REDIS_URL"])
    worker = SweepingWorker(
        [queue.make_queue(connection), *(Queue(name, connection=connection, serializer=JSONSerializer)
                                         for name in (queue.LEARN_QUEUE, queue.NOTIFY_QUEUE))],
        connection=connection,
        serializer=JSONSerializer,
        worker_ttl=interval + TTL_MARGIN,
        maintenance_interval=interval,
    )
    worker.app = app
    return worker


class RelayThread(threading.Thread):
    """The relay, every RELAY_SECONDS beside the jobs of the main thread (it mostly waits on the database).

    Each pass starts with an SQLite checkpoint, so that copying the write-ahead log back into the
    database is done here rather than in a request (service.db.SQLITE_AUTOCHECKPOINT_PAGES), Redis
    down or not.
    A failing pass (Redis or the database down) is logged once and retried with a growing pause, and
    the first pass that works again says so; whatever the relay misses meanwhile stays pending in the
    database for the next pass or the sweeper.
    """

    def __init__(self, app: Flask, jobs: Queue) -> None:
        super().__init__(name="relay", daemon=True)
        self.app, self.jobs = app, jobs
        self.stopping = threading.Event()

    def run(self) -> None:
        pause = relay.RELAY_SECONDS
        with self.app.app_context():
            engine, timeout = get_engine(), self.app.config["JOB_TIMEOUT"]
            while not self.stopping.wait(pause):
                try:
                    checkpoint(engine)
                    relay.relay(engine, self.jobs, timeout)
                except Exception:  # a dead thread would leave every comment to the sweeper
                    if pause == relay.RELAY_SECONDS:
                        logger.exception("relay failed; retrying with a growing pause")
                    pause = min(pause * 2, self.app.config["SWEEP_SECONDS"])
                else:
                    if pause != relay.RELAY_SECONDS:
                        logger.info("relay works again")
                    pause = relay.RELAY_SECONDS


def run(app: Flask, burst: bool = False) -> bool:
    """Work until stopped (or, with burst, until the queue is empty); retries with back-off need the scheduler.

    The classifier is loaded before the first job, once per process. A burst worker relays once, at
    its first maintenance pass; a lasting one also runs the relay thread.
    """
    worker = make_worker(app)
    with app.app_context():
        model.current(app.config)
        relay_thread = RelayThread(app, worker.queues[0])
        if not burst:
            relay_thread.start()
        try:
            return worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
        finally:
            relay_thread.stopping.set()
