"""The page a comment was written on, for the spam engine: a reader's link to it is not advertising.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, as in 0007: a batch copy of comments would lose its expression index on SQLite.
    op.add_column("comments", sa.Column("page", sa.String(255), nullable=True))


def downgrade() -> None:
    op.drop_column("comments", "page")
