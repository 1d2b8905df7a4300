"""The tables of the copilot's store, as SQLAlchemy Core metadata: one definition for SQLite and PostgreSQL.

The migrations in `copilot/store/migrations/versions` create exactly these; a change here needs a new
revision. Times are seconds since the epoch (UTC); `day` is the conversation's local date in the team's time
zone (`YYYY-MM-DD`), so per-day numbers are a GROUP BY on both backends.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

drafts = Table(
    "drafts", metadata,
    Column("draft_id", Text, primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("platform", Text, nullable=False),
    Column("flow", Text, nullable=False),
    Column("step", Text, nullable=False),
    Column("language", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("draft", Text, nullable=False),
    Column("request", Text, nullable=False),
    Column("question", Text),
    Column("answer_id", Text),
    Column("answer_confidence", Float),
    Column("need", Text),
    Index("drafts_created", "created_at"),
)

feedback = Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("draft_id", Text, ForeignKey("drafts.draft_id"), nullable=False),
    Column("action", Text, nullable=False),
    Column("final_text", Text),
    Column("created_at", Float, nullable=False),
    Column("similarity", Float),
    CheckConstraint("action IN ('accepted', 'edited', 'rejected')", name="feedback_action"),
    Index("feedback_draft", "draft_id"),
    sqlite_autoincrement=True,
)

conversations = Table(
    "conversations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(16), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("platform", String(64), nullable=False),
    Column("flow", String(64), nullable=False),
    Column("customer", String(100)),
    Column("agent", String(100)),
    Column("link", Text),
    Column("content_hash", String(64), nullable=False),
    Column("messages", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", Float),
    Column("day", String(10)),
    Column("last_at", Float),
    Column("last_role", String(16)),
    Column("first_response_at", Float),
    Column("first_response_seconds", Float),
    Column("first_responder", String(100)),
    Column("resolved_at", Float),
    Column("resolution_seconds", Float),
    Column("urgency", String(16)),
    Column("intent", String(64)),
    Column("issue_type", String(32)),
    Column("sentiment", String(16)),
    Column("confidence", Float),
    Column("confident", Boolean),
    Column("answerable", Boolean),
    Column("reason", String(64)),
    Column("sla_minutes", Integer),
    Column("in_sla", Boolean),
    Column("reply_due_at", Float),
    Column("promise_due_at", Float),
    Column("promises", Integer, nullable=False, default=0),
    Column("broken_promises", Integer, nullable=False, default=0),
    Column("agent_replies", Integer, nullable=False, default=0),
    Column("steps_covered", Integer),
    Column("steps_total", Integer),
    Column("steps_missing", Text),
    Column("in_order", Boolean),
    Column("review_asked", Boolean),
    Column("qa_score", Float),
    Column("violations", Integer, nullable=False, default=0),
    Column("rating", Integer),
    Column("question", Text),
    Column("vector", LargeBinary),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("source", "external_id", name="conversations_external"),
    Index("conversations_day", "day", "platform"),
    Index("conversations_agent", "agent", "day"),
    Index("conversations_due", "reply_due_at"),
    Index("conversations_promise", "promise_due_at"),
)

messages = Table(
    "messages", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("external_id", String(64)),
    Column("role", String(16), nullable=False),
    Column("author", String(100)),
    Column("automatic", Boolean, nullable=False, default=False),
    Column("text", Text, nullable=False),
    Column("at", Float),
    Column("steps", String(200)),
    UniqueConstraint("conversation_id", "position", name="messages_position"),
    UniqueConstraint("conversation_id", "external_id", name="messages_external"),
)

violations = Table(
    "message_violations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("author", String(100)),
    Column("rule", String(64), nullable=False),
    Column("day", String(10)),
    Column("platform", String(64), nullable=False),
    Index("violations_day", "day", "author"),
    Index("violations_conversation", "conversation_id"),
)
