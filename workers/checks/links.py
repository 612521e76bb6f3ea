"""Links: too many of them is the oldest spam signal (WordPress's `comment_max_links`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from . import Finding

ANCHOR = re.compile(r"<a\s", re.IGNORECASE)


def count_links(content: str) -> int:
    """Links in the sanitized content; bare URLs were already turned into links by the sanitizer."""
    return len(ANCHOR.findall(content))


def check(comment: Mapping[str, Any], limit: int) -> Finding | None:
    links = count_links(comment["content"])
    if limit and links >= limit:
        return Finding("links", 0.5, f"{links} links (limit {limit - 1})")
    return None
