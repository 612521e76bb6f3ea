"""The worker process: an RQ SimpleWorker on the spam-check queue that also sweeps for lost jobs.

SimpleWorker runs jobs in its own process instead of forking a work horse per job:
the fork costs about 15 ms of CPU per job here, SimpleWorker about 3 ms, and the
classifier is loaded once per process instead of once per job. A job that crashes
the process is not lost: RQ marks it failed and the sweeper re-enqueues its comment.
"""

from __future__ import annotations

import logging

from flask import Flask
from rq import Queue, SimpleWorker
from rq.serializers import JSONSerializer

from service import queue
from service.admin.purge import purge_old
from service.db import get_engine
from service.store import utcnow

from . import model

logger = logging.getLogger(__name__)

TTL_MARGIN = 15
"""RQ blocks on the queue for worker_ttl - 15 s; that is also how often maintenance (the sweep) can run."""


PURGE_KEY = "comments:purge:done"
PURGE_EVERY = 24 * 3600
"""The daily purge of old spam and trash; a Redis key makes one worker of many do it."""


class SweepingWorker(SimpleWorker):
    """RQ's maintenance (cleaning registries, moving abandoned jobs to failed), our sweep, the daily purge."""

    app: Flask

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        with self.app.app_context():
            count = queue.sweep(get_engine(), self.queues[0], self.app.config["JOB_TIMEOUT"])
            if count:
                logger.info("sweeper re-enqueued %d pending comments", count)
            if self.connection.set(PURGE_KEY, 1, nx=True, ex=PURGE_EVERY):
                with get_engine().begin() as conn:
                    purge_old(conn, self.app.config["PURGE_DAYS"], utcnow())


def make_worker(app: Flask) -> SweepingWorker:
    """A worker bound to the app's Redis, sweeping every SWEEP_SECONDS."""
    interval = app.config["SWEEP_SECONDS"]
    connection = queue.connect(app.config["REDIS_URL"])
    worker = SweepingWorker(
        [queue.make_queue(connection), Queue(queue.LEARN_QUEUE, connection=connection, serializer=JSONSerializer)],
        connection=connection,
        serializer=JSONSerializer,
        worker_ttl=interval + TTL_MARGIN,
        maintenance_interval=interval,
    )
    worker.app = app
    return worker


def run(app: Flask, burst: bool = False) -> bool:
    """Work until stopped (or, with burst, until the queue is empty); retries with back-off need the scheduler.

    The classifier is loaded before the first job, once per process.
    """
    worker = make_worker(app)
    with app.app_context():
        model.current(app.config)
        return worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
