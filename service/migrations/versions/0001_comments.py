"""Comments and their status changes.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("post_id", sa.String(200), nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("comments.id", ondelete="SET NULL"), nullable=True),
        sa.Column("author", sa.String(245), nullable=False),
        sa.Column("email", sa.String(100), nullable=False),
        sa.Column("url", sa.String(200), nullable=True),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("original", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("user_agent", sa.String(255), nullable=True),
        sa.Column("referrer", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("spam_score", sa.Float, nullable=True),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("signals", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_comments_status_created", "comments", ["status", "created_at"])
    op.create_index("ix_comments_post_status_created", "comments", ["post_id", "status", "created_at"])
    op.create_index("ix_comments_email", "comments", ["email"])
    op.create_index("ix_comments_ip_created", "comments", ["ip", "created_at"])
    op.create_index("ix_comments_content_hash", "comments", ["content_hash"])
    op.create_table(
        "status_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "comment_id", sa.Integer, sa.ForeignKey("comments.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_status_changes_comment", "status_changes", ["comment_id"])


def downgrade() -> None:
    op.drop_table("status_changes")
    op.drop_table("comments")
