"""Purging old spam and trash, as Akismet's plugin does: nobody reviews them after a couple of weeks."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete

from .. import status
from ..schema import comments

logger = logging.getLogger(__name__)

PURGED = (status.SPAM, status.TRASH)


def purge_old(conn: Connection, days: int, now: datetime) -> dict[str, int]:
    """Delete spam and trash not touched for `days` days; returns the count per status and logs it."""
    cutoff = now - timedelta(days=days)
    counts = {}
    for state in PURGED:
        query = delete(comments).where(comments.c.status == state, comments.c.updated_at < cutoff)
        counts[state] = int(conn.execute(query).rowcount)
    logger.info("purged comments older than %d days: %d spam, %d trash", days, counts[status.SPAM],
                counts[status.TRASH])
    return counts
