"""Conversations with time for the weekly review: messages (at, author), per-conversation analysis, rule
violations per message; what each draft answered and how much an edit changed it.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("drafts") as table:
        table.add_column(sa.Column("question", sa.Text))
        table.add_column(sa.Column("answer_id", sa.Text))
        table.add_column(sa.Column("answer_confidence", sa.Float))
        table.add_column(sa.Column("need", sa.Text))
    with op.batch_alter_table("feedback") as table:
        table.add_column(sa.Column("similarity", sa.Float))
    op.create_index("drafts_created", "drafts", ["created_at"])
    _conversations()
    _messages()
    _message_violations()


def _conversations() -> None:
    """One row per stored conversation with what the review counts: its clock, its analysis, its QA."""
    op.create_table(
        "conversations",
        *_conversation_identity(),
        *_conversation_clock(),
        *_conversation_analysis(),
        *_conversation_quality(),
        sa.UniqueConstraint("source", "external_id", name="conversations_external"),
    )
    op.create_index("conversations_day", "conversations", ["day", "platform"])
    op.create_index("conversations_agent", "conversations", ["agent", "day"])
    op.create_index("conversations_due", "conversations", ["reply_due_at"])
    op.create_index("conversations_promise", "conversations", ["promise_due_at"])


def _conversation_identity() -> list[sa.Column[Any]]:
    """Where the conversation comes from, who took part, and what was stored of it."""
    return [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("platform", sa.String(64), nullable=False),
        sa.Column("flow", sa.String(64), nullable=False),
        sa.Column("customer", sa.String(100)),
        sa.Column("agent", sa.String(100)),
        sa.Column("link", sa.Text),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("messages", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    ]


def _conversation_clock() -> list[sa.Column[Any]]:
    """When it started (and on which local day), was last active, first answered and resolved."""
    real = sa.Float
    return [
        sa.Column("started_at", real),
        sa.Column("day", sa.String(10)),
        sa.Column("last_at", real),
        sa.Column("last_role", sa.String(16)),
        sa.Column("first_response_at", real),
        sa.Column("first_response_seconds", real),
        sa.Column("first_responder", sa.String(100)),
        sa.Column("resolved_at", real),
        sa.Column("resolution_seconds", real),
    ]


def _conversation_analysis() -> list[sa.Column[Any]]:
    """The triage of the customer's messages, the service level it sets, and the promises of a time."""
    real, number, flag = sa.Float, sa.Integer, sa.Boolean
    return [
        sa.Column("urgency", sa.String(16)),
        sa.Column("intent", sa.String(64)),
        sa.Column("issue_type", sa.String(32)),
        sa.Column("sentiment", sa.String(16)),
        sa.Column("confidence", real),
        sa.Column("confident", flag),
        sa.Column("answerable", flag),
        sa.Column("reason", sa.String(64)),
        sa.Column("sla_minutes", number),
        sa.Column("in_sla", flag),
        sa.Column("reply_due_at", real),
        sa.Column("promise_due_at", real),
        sa.Column("promises", number, nullable=False),
        sa.Column("broken_promises", number, nullable=False),
    ]


def _conversation_quality() -> list[sa.Column[Any]]:
    """The QA of the agents' replies, the customer's rating, the question (and its embedding) kept for the
    knowledge gaps."""
    number, flag = sa.Integer, sa.Boolean
    return [
        sa.Column("agent_replies", number, nullable=False),
        sa.Column("steps_covered", number),
        sa.Column("steps_total", number),
        sa.Column("steps_missing", sa.Text),
        sa.Column("in_order", flag),
        sa.Column("review_asked", flag),
        sa.Column("qa_score", sa.Float),
        sa.Column("violations", number, nullable=False),
        sa.Column("rating", number),
        sa.Column("question", sa.Text),
        sa.Column("vector", sa.LargeBinary),
        sa.Column("updated_at", sa.Float, nullable=False),
    ]


def _messages() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("external_id", sa.String(64)),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("author", sa.String(100)),
        sa.Column("automatic", sa.Boolean, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("at", sa.Float),
        sa.Column("steps", sa.String(200)),
        sa.UniqueConstraint("conversation_id", "position", name="messages_position"),
        sa.UniqueConstraint("conversation_id", "external_id", name="messages_external"),
    )


def _message_violations() -> None:
    op.create_table(
        "message_violations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("author", sa.String(100)),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("day", sa.String(10)),
        sa.Column("platform", sa.String(64), nullable=False),
    )
    op.create_index("violations_day", "message_violations", ["day", "author"])
    op.create_index("violations_conversation", "message_violations", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("message_violations")
    op.drop_table("messages")
    op.drop_table("conversations")
    op.drop_index("drafts_created", "drafts")
    with op.batch_alter_table("feedback") as table:
        table.drop_column("similarity")
    with op.batch_alter_table("drafts") as table:
        for name in ("need", "answer_confidence", "answer_id", "question"):
            table.drop_column(name)
