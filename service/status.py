"""The comment statuses and which moves between them are allowed: defined once, imported everywhere."""

from __future__ import annotations

PENDING = "pending"
"""Stored, awaiting its spam check."""
APPROVED = "approved"
"""Published on the site."""
HELD = "held"
"""Needs a moderator."""
SPAM = "spam"
"""Filed as spam; purged after a while."""
TRASH = "trash"
"""Thrown away by a moderator; purged after a while."""

ALL = (PENDING, HELD, APPROVED, SPAM, TRASH)
VERDICTS = (APPROVED, HELD, SPAM)
"""What a spam check may decide for a pending comment."""
