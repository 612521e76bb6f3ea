"""Flood control: one comment per client address per window, counted in Redis so every web process agrees."""

from __future__ import annotations

import redis

KEY = "comments:flood:{}"


def seconds_to_wait(connection: redis.Redis, address: str | None, window: int) -> int:
    """0 if this address may comment now (and start its window), else the seconds left in its window.

    A refused attempt does not restart the window, as WordPress's flood check.
    """
    if window <= 0 or not address:
        return 0
    key = KEY.format(address)
    if connection.set(key, 1, nx=True, ex=window):
        return 0
    return max(int(connection.ttl(key)), 1)
