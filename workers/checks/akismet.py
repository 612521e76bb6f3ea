"""Akismet, when COMMENTS_AKISMET_KEY is set. Unavailability propagates so the job retries later."""

from __future__ import annotations

from service import status

from .. import akismet
from . import Finding
from .context import Context

NAME = "akismet"


def check(ctx: Context) -> Finding | None:
    if not ctx.config.get("AKISMET_KEY"):
        return None
    spam, discard = akismet.comment_check(ctx.config, ctx.comment)
    if discard:
        return Finding(NAME, 1.0, "Akismet: blatant spam (discard)", status.SPAM)
    if spam:
        return Finding(NAME, 1.0, "Akismet: spam")
    return Finding(NAME, 0.0, "Akismet: not spam")
