"""Form traps: the signed form token and how fast the form came back (the honeypot is judged at intake)."""

from __future__ import annotations

from . import Finding
from .context import Context


def check(ctx: Context) -> Finding | None:
    signals = ctx.comment.get("signals") or {}
    token = signals.get("token", "missing")
    minimum = float(ctx.config["MIN_SUBMIT_SECONDS"])
    if token == "forged":
        return Finding("form", 1.0, "forged form token")
    if token == "stale":
        return Finding("form", 0.5, "form token expired")
    if token == "missing":
        return Finding("form", 0.6, "no form token") if ctx.config["REQUIRE_TOKEN"] else None
    age = float(signals.get("age", 0.0))
    if age < minimum:
        return Finding("form", 0.6, f"form sent {age:.1f} s after it was loaded (minimum {minimum:g} s)")
    return None
