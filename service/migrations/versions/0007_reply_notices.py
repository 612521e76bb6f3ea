"""Reply notifications: the commenter's opt-in, the outbox of reply emails, the confirmed addresses.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: a batch copy of comments would lose its expression index on SQLite.
    op.add_column("comments", sa.Column("notify_replies", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table(
        "reply_notices",
        sa.Column("comment_id", sa.Integer, sa.ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(40), nullable=True),
    )
    op.create_index("ix_reply_notices_done_created", "reply_notices", ["done_at", "created_at"])
    op.create_table(
        "reply_subscribers",
        sa.Column("email", sa.String(100), primary_key=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("reply_subscribers")
    op.drop_table("reply_notices")
    op.drop_column("comments", "notify_replies")
