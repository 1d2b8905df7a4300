"""Storing conversations with time: `copilot import FILE.jsonl` for exports, the Chatwoot webhook as messages
arrive. Each is analysed when it is stored (`copilot.review.analysis`); the same content is never stored
twice."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection

from copilot.contracts import Customer, Message
from copilot.errors import DatasetError
from copilot.review.analysis import ConversationAnalyser
from copilot.review.records import ConversationRecord, read_records
from copilot.review.store import ConversationStore

BATCH = 256
Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    path: str
    conversations: int
    added: int
    replaced: int
    unchanged: int
    seconds: float

    @property
    def per_second(self) -> float:
        return round(self.conversations / self.seconds, 1) if self.seconds else 0.0


@dataclass(frozen=True)
class IncomingMessage:
    """One message of a helpdesk conversation as it arrives (the Chatwoot webhook)."""

    conversation: str
    external_id: str
    role: str
    text: str
    at: datetime
    author: str | None
    platform: str
    customer: str | None = None
    status: str | None = None
    link: str | None = None


class ConversationImporter:
    """Validates a whole file before storing anything, then analyses and stores it in batches."""

    def __init__(self, analyser: ConversationAnalyser, store: ConversationStore, batch: int = BATCH) -> None:
        self.analyser, self.store, self.batch = analyser, store, batch

    def validate(self, path: Path) -> int:
        """Every line parsed and checked (platform, flow, an id used once): a bad one raises a DatasetError
        naming file:line and the field, before anything is stored. Returns the number of conversations."""
        seen: dict[str, int] = {}
        for number, record in read_records(path):
            problem = self.analyser.problem(record)
            if problem is not None:
                raise DatasetError(path, number, problem[1], problem[0])
            if record.id in seen:
                raise DatasetError(
                    path, number, f"conversation '{record.id}' is also on line {seen[record.id]}", "id"
                )
            seen[record.id] = number
        return len(seen)

    def import_file(
        self, path: Path, source: str = "import", progress: Progress | None = None
    ) -> ImportReport:
        started = time.perf_counter()
        total = self.validate(path)
        added = replaced = unchanged = done = 0
        records = (record for _, record in read_records(path))
        while batch := list(islice(records, self.batch)):
            stored = self.store.known(source, [record.id for record in batch])
            changed = [record for record in batch if stored.get(record.id) != record.digest()]
            unchanged += len(batch) - len(changed)
            if changed:
                analysed = self.analyser.analyse([(record, ()) for record in changed])
                new, again = self.store.save(
                    source, [(r.id, a) for r, a in zip(changed, analysed, strict=True)]
                )
                added, replaced = added + new, replaced + again
            done += len(batch)
            if progress:
                progress(done, total)
        return ImportReport(
            str(path), total, added, replaced, unchanged, round(time.perf_counter() - started, 3)
        )

    def record_message(self, message: IncomingMessage, source: str = "chatwoot") -> bool:
        """Store one arriving message (its conversation analysed again); False when it was stored already. One
        replica at a time reads, adds and analyses a conversation, so two messages arriving at once are both
        kept."""
        with self.store.one_conversation(source, message.conversation) as db:
            stored = self.store.stored_messages(source, message.conversation, db)
            if any(row["external_id"] == message.external_id for row in stored):
                return False
            previous = self.store.conversation(source, message.conversation, db) or {}
            at = message.at if message.at.tzinfo else message.at.replace(tzinfo=UTC)
            rows = [
                *stored,
                {
                    "external_id": message.external_id,
                    "role": message.role,
                    "author": message.author,
                    "text": message.text,
                    "at": at.timestamp(),
                },
            ]
            resolved = (message.status or previous.get("status")) == "resolved"
            self._store_again(
                db,
                source,
                message.conversation,
                rows,
                message.platform,
                resolved,
                None,
                message.customer or previous.get("customer"),
                message.link or previous.get("link"),
            )
        return True

    def record_status(self, conversation: str, status: str, at: datetime, source: str = "chatwoot") -> bool:
        """A conversation resolved or reopened in the helpdesk: analysed again with that status; False when it
        is not stored (no message of it arrived yet)."""
        with self.store.one_conversation(source, conversation) as db:
            stored = self.store.stored_messages(source, conversation, db)
            previous = self.store.conversation(source, conversation, db)
            if not stored or previous is None:
                return False
            resolved = status == "resolved"
            self._store_again(db, source, conversation, stored, previous["platform"], resolved,
                              at if resolved else None, previous["customer"], previous["link"])
        return True

    def _store_again(self, db: Connection, source: str, conversation: str, rows: list[dict[str, Any]],
                     platform: str, resolved: bool, resolved_at: datetime | None, customer: str | None,
                     link: str | None) -> None:
        """A helpdesk conversation (stored messages, `at` in epoch seconds) analysed again and stored."""
        status: Literal["open", "resolved"] = "resolved" if resolved else "open"
        record = ConversationRecord(
            id=conversation, platform=platform, customer=Customer(name=customer), status=status,
            resolved_at=resolved_at, url=link,
            messages=[Message(role=r["role"], text=r["text"], at=datetime.fromtimestamp(r["at"], UTC),
                              author=r["author"]) for r in rows])
        analysed = self.analyser.analyse([(record, [r["external_id"] for r in rows])])
        self.store.save_on(db, source, [(record.id, analysed[0])])
