"""Spam marks, and indexes that keep the worker's per-comment queries bounded under a flood.

The reputation check counted moderator-marked spam by scanning every comment of an address
or link domain, and the burst check every comment of an address in its window: one sender
posting thousands of comments made each check cost more than the last. The marks table is
looked up by key; email lookups get the status or the time in their index.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MARKED = """FROM comments c WHERE c.status = 'spam' AND EXISTS (SELECT 1 FROM status_changes s
    WHERE s.comment_id = c.id AND s.to_status = 'spam' AND s.actor LIKE 'moderator:%')"""


def upgrade() -> None:
    op.create_table(
        "spam_marks",
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("value", sa.String(253), primary_key=True),
        sa.Column("comment_id", sa.Integer, sa.ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_spam_marks_comment_id", "spam_marks", ["comment_id"])
    into = "INSERT INTO spam_marks (kind, value, comment_id)"
    op.execute(f"{into} SELECT 'email', lower(c.email), c.id {MARKED}")
    op.execute(f"{into} SELECT 'ip', c.ip, c.id {MARKED} AND c.ip IS NOT NULL")
    op.execute(f"{into} SELECT 'domain', d.domain, d.comment_id FROM comment_domains d"
               f" WHERE d.comment_id IN (SELECT c.id {MARKED})")
    op.drop_index("ix_comments_email_lower", table_name="comments")
    op.create_index("ix_comments_email_lower_status", "comments", [sa.text("lower(email)"), "status"])
    op.drop_index("ix_comments_email", table_name="comments")
    op.create_index("ix_comments_email_created", "comments", ["email", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_comments_email_created", table_name="comments")
    op.create_index("ix_comments_email", "comments", ["email"])
    op.drop_index("ix_comments_email_lower_status", table_name="comments")
    op.create_index("ix_comments_email_lower", "comments", [sa.text("lower(email)")])
    op.drop_table("spam_marks")
