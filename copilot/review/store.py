"""Conversations, their messages and the rules their agents broke, in the copilot's database.

A conversation is known by its source (`import`, `chatwoot`) and its id there: storing it again with the same
content writes nothing, with new content replaces its messages and analysis in one transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from copilot.review.analysis import Analysed
from copilot.store import Database, StoreError
from copilot.store.schema import conversations, messages, violations

CHUNK = 500  # ids per IN (...) list


class ConversationStore:
    """Writes analysed conversations; the review's queries read the same tables (`copilot.review.report`)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def known(self, source: str, external_ids: Sequence[str]) -> dict[str, str]:
        """The content hash of each of these conversations that is stored already."""
        found: dict[str, str] = {}
        with self.database.reading() as db:
            for start in range(0, len(external_ids), CHUNK):
                chunk = list(external_ids[start:start + CHUNK])
                query = select(conversations.c.external_id, conversations.c.content_hash).where(
                    conversations.c.source == source, conversations.c.external_id.in_(chunk))
                found.update({str(row[0]): str(row[1]) for row in db.execute(query)})
        return found

    def save(self, source: str, items: Sequence[tuple[str, Analysed]]) -> tuple[int, int]:
        """Store every (external id, analysis) in one transaction: (added, replaced). A conversation another
        replica stored meanwhile is replaced, not stored twice."""
        try:
            return self._save(source, items)
        except StoreError as exc:  # a unique key taken by a concurrent writer: once more, as replacements
            if not isinstance(exc.__cause__, IntegrityError):
                raise
            return self._save(source, items)

    def _save(self, source: str, items: Sequence[tuple[str, Analysed]]) -> tuple[int, int]:
        with self.database.writing() as db:
            return self.save_on(db, source, items)

    def save_on(self, db: Connection, source: str, items: Sequence[tuple[str, Analysed]]) -> tuple[int, int]:
        """`save` inside a write transaction the caller holds."""
        ids = _ids(db, source, [external for external, _ in items])
        replaced = [(ids[external], analysed) for external, analysed in items if external in ids]
        added = [(external, analysed) for external, analysed in items if external not in ids]
        if replaced:
            stale = [number for number, _ in replaced]
            for start in range(0, len(stale), CHUNK):
                chunk = stale[start:start + CHUNK]
                db.execute(delete(violations).where(violations.c.conversation_id.in_(chunk)))
                db.execute(delete(messages).where(messages.c.conversation_id.in_(chunk)))
            for number, analysed in replaced:
                db.execute(
                    update(conversations).where(conversations.c.id == number).values(**_full(analysed))
                )
        if added:
            rows = [
                {"source": source, "external_id": external, **_full(analysed)} for external, analysed in added
            ]
            statement = insert(conversations).returning(conversations.c.id, sort_by_parameter_order=True)
            numbers = [row[0] for row in db.execute(statement, rows)]
        else:
            numbers = []
        owned = replaced + list(zip(numbers, [analysed for _, analysed in added], strict=True))
        message_rows = [
            {"conversation_id": number, **m} for number, analysed in owned for m in analysed.messages
        ]
        violation_rows = [{"conversation_id": number, **v} for number, analysed in owned
                          for v in analysed.violations]
        if message_rows:
            db.execute(insert(messages), message_rows)
        if violation_rows:
            db.execute(insert(violations), violation_rows)
        return len(added), len(replaced)

    @contextmanager
    def one_conversation(self, source: str, external_id: str) -> Iterator[Connection]:
        """A write transaction in which nobody else changes this conversation: a helpdesk message read, added,
        analysed and stored by one replica at a time (an advisory lock on PostgreSQL; SQLite has one
        writer)."""
        with self.database.writing() as db:
            if not self.database.sqlite:
                key = int.from_bytes(hashlib.sha256(f"{source}:{external_id}".encode()).digest()[:8], "big",
                                     signed=True)
                db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
            yield db

    def stored_messages(
        self, source: str, external_id: str, db: Connection | None = None
    ) -> list[dict[str, Any]]:
        """The stored messages of one conversation in time order (empty when it is not stored)."""
        query = (
            select(messages.c.external_id, messages.c.role, messages.c.author, messages.c.text, messages.c.at)
            .join(conversations, conversations.c.id == messages.c.conversation_id)
            .where(conversations.c.source == source, conversations.c.external_id == external_id)
            .order_by(messages.c.position)
        )
        with nullcontext(db) if db is not None else self.database.reading() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def transcript(self, source: str, external_id: str) -> dict[str, Any] | None:
        """One stored conversation to read: its analysis, every message with its steps,
        and the rules broken."""
        found = self.conversation(source, external_id)
        if found is None:
            return None
        with self.database.reading() as db:
            rows = db.execute(
                select(
                    messages.c.position,
                    messages.c.role,
                    messages.c.author,
                    messages.c.automatic,
                    messages.c.text,
                    messages.c.at,
                    messages.c.steps,
                )
                .where(messages.c.conversation_id == found["id"])
                .order_by(messages.c.position)
            ).all()
            broken = db.execute(select(violations.c.position, violations.c.rule)
                                .where(violations.c.conversation_id == found["id"])).all()
        rules: dict[int, list[str]] = {}
        for position, rule in broken:
            rules.setdefault(int(position), []).append(str(rule))
        found.pop("vector", None)
        found["messages_list"] = [{**dict(row._mapping), "violations": rules.get(int(row.position), [])}
                                  for row in rows]
        return found

    def conversation(
        self, source: str, external_id: str, db: Connection | None = None
    ) -> dict[str, Any] | None:
        query = select(conversations).where(conversations.c.source == source,
                                            conversations.c.external_id == external_id)
        with nullcontext(db) if db is not None else self.database.reading() as connection:
            row = connection.execute(query).first()
        return dict(row._mapping) if row else None


def _ids(db: Connection, source: str, external_ids: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(external_ids), CHUNK):
        query = select(conversations.c.external_id, conversations.c.id).where(
            conversations.c.source == source,
            conversations.c.external_id.in_(external_ids[start : start + CHUNK]),
        )
        found.update({str(row[0]): int(row[1]) for row in db.execute(query)})
    return found


COLUMNS = [
    column.name for column in conversations.columns if column.name not in ("id", "source", "external_id")
]


def _full(analysed: Analysed) -> dict[str, Any]:
    """Every column, so a replacement leaves nothing of the old analysis behind."""
    return {name: analysed.row.get(name) for name in COLUMNS} | {
        name: analysed.row.get(name) or 0
        for name in ("promises", "broken_promises", "agent_replies", "violations")
    }
