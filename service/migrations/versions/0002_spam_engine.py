"""Word lists and the link domains of each comment, for the spam engine.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "word_lists",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("list", sa.String(16), nullable=False),
        sa.Column("term", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("list", "term", name="uq_word_lists_list_term"),
    )
    op.create_table(
        "comment_domains",
        sa.Column(
            "comment_id", sa.Integer, sa.ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("domain", sa.String(253), primary_key=True),
    )
    op.create_index("ix_comment_domains_domain", "comment_domains", ["domain"])


def downgrade() -> None:
    op.drop_table("comment_domains")
    op.drop_table("word_lists")
