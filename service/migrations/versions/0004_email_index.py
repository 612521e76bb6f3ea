"""An index on lower(email): reputation and first-time moderation look authors up case-insensitively.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_comments_email_lower", "comments", [sa.text("lower(email)")])


def downgrade() -> None:
    op.drop_index("ix_comments_email_lower", table_name="comments")
