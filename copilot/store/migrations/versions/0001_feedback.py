"""Drafts and the agents' verdicts on them: the store as it was before Alembic (adopted when it exists).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "drafts" not in existing:  # a store written before the migrations keeps its tables and rows
        op.create_table(
            "drafts",
            sa.Column("draft_id", sa.Text, primary_key=True),
            sa.Column("created_at", sa.Float, nullable=False),
            sa.Column("platform", sa.Text, nullable=False),
            sa.Column("flow", sa.Text, nullable=False),
            sa.Column("step", sa.Text, nullable=False),
            sa.Column("language", sa.Text, nullable=False),
            sa.Column("model", sa.Text, nullable=False),
            sa.Column("draft", sa.Text, nullable=False),
            sa.Column("request", sa.Text, nullable=False),
        )
    if "feedback" not in existing:
        op.create_table(
            "feedback",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("draft_id", sa.Text, sa.ForeignKey("drafts.draft_id"), nullable=False),
            sa.Column("action", sa.Text, nullable=False),
            sa.Column("final_text", sa.Text),
            sa.Column("created_at", sa.Float, nullable=False),
            sa.CheckConstraint("action IN ('accepted', 'edited', 'rejected')", name="feedback_action"),
            sqlite_autoincrement=True,
        )
        op.create_index("feedback_draft", "feedback", ["draft_id"])


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_table("drafts")
