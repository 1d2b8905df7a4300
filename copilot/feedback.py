"""Drafts and the agents' verdicts on them, in SQLite (WAL), for acceptance statistics and new references."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot.contracts import MAX_TEXT, DraftRequest, DraftResponse
from copilot.errors import CopilotError, InvalidRequestError

Action = Literal["accepted", "edited", "rejected"]
SCHEMA = """
CREATE TABLE IF NOT EXISTS drafts (
    draft_id TEXT PRIMARY KEY, created_at REAL NOT NULL, platform TEXT NOT NULL, flow TEXT NOT NULL,
    step TEXT NOT NULL, language TEXT NOT NULL, model TEXT NOT NULL, draft TEXT NOT NULL, request TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, draft_id TEXT NOT NULL REFERENCES drafts(draft_id),
    action TEXT NOT NULL CHECK (action IN ('accepted', 'edited', 'rejected')), final_text TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_draft ON feedback(draft_id);
"""


class FeedbackStoreError(CopilotError):
    """The feedback database cannot be opened or written (corrupted, locked, read-only)."""

    code = "feedback_store_unavailable"


class FeedbackRequest(BaseModel):
    """`POST /v1/feedback`: what the agent did with a draft."""

    model_config = ConfigDict(extra="forbid")

    draft_id: str = Field(min_length=1, max_length=64)
    action: Action
    final_text: str | None = Field(default=None, max_length=MAX_TEXT)


class FeedbackStore:
    """One SQLite file in WAL mode shared by every thread and process that writes to it. A write waits up to
    `busy_timeout` seconds for a lock held elsewhere, then fails with a FeedbackStoreError naming the file; a
    damaged file fails the same way and is never rewritten or replaced."""

    def __init__(self, path: Path, busy_timeout: float = 10.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        # Writers of one process take turns here: SQLite's own busy wait sleeps up to 100 ms at a time, which
        # under eight concurrent drafts made the slowest 5% of inserts take over 100 ms.
        self._write_lock = threading.Lock()
        with self._writing() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            yield self._local.db if getattr(self._local, "db", None) else self._connect()
        except sqlite3.DatabaseError as exc:
            raise FeedbackStoreError(self._explain(exc)) from exc

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FeedbackStoreError(f"feedback store {self.path}: cannot create its folder ({exc.strerror})") from exc
        db = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent; no fsync on every insert
        except sqlite3.DatabaseError:
            db.close()
            raise
        self._local.db = db
        return db

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        if not self._write_lock.acquire(timeout=self.busy_timeout):
            raise FeedbackStoreError(f"feedback store {self.path}: other writes of this process took over "
                                     f"{self.busy_timeout:g} s")
        try:
            with self._connection() as db:
                yield db
        finally:
            self._write_lock.release()

    def _explain(self, exc: sqlite3.DatabaseError) -> str:
        reason = str(exc)
        if "locked" in reason or "busy" in reason:
            return (f"feedback store {self.path} is locked by another program (waited {self.busy_timeout:g} s): "
                    f"{reason}")
        if "not a database" in reason or "malformed" in reason or "corrupt" in reason:
            return (f"feedback store {self.path} is damaged ({reason}); it was left as it is: restore it from a "
                    "backup, or move it away to start a new one")
        return f"feedback store {self.path}: {reason}"

    def record_draft(self, request: DraftRequest, response: DraftResponse) -> None:
        with self._writing() as db:
            db.execute(
                "INSERT OR REPLACE INTO drafts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (response.draft_id, time.time(), request.platform, request.flow, response.step, response.language,
                 response.model, response.draft, request.model_dump_json()),
            )

    def record_feedback(self, feedback: FeedbackRequest) -> dict[str, Any]:
        with self._writing() as db:
            if db.execute("SELECT 1 FROM drafts WHERE draft_id = ?", (feedback.draft_id,)).fetchone() is None:
                raise InvalidRequestError(f"unknown draft_id '{feedback.draft_id}': feedback needs a draft it rated")
            cursor = db.execute(
                "INSERT INTO feedback (draft_id, action, final_text, created_at) VALUES (?, ?, ?, ?)",
                (feedback.draft_id, feedback.action, feedback.final_text, time.time()),
            )
        return {"id": cursor.lastrowid, "draft_id": feedback.draft_id, "action": feedback.action}

    def stats(self) -> dict[str, Any]:
        """Acceptance, edit and rejection rates overall, per step and per platform (latest verdict per draft)."""
        query = """
            SELECT d.step, d.platform, f.action FROM drafts d LEFT JOIN (
                SELECT draft_id, action FROM feedback WHERE id IN (SELECT MAX(id) FROM feedback GROUP BY draft_id)
            ) f ON f.draft_id = d.draft_id"""
        with self._connection() as db:
            rows = db.execute(query).fetchall()
        return {"total": _rates(rows), "by_step": _grouped(rows, 0), "by_platform": _grouped(rows, 1)}

    def rated_drafts(self, actions: tuple[str, ...] = ("accepted", "edited")) -> list[dict[str, Any]]:
        """Drafts whose latest verdict is in `actions`, with their request and the text finally sent."""
        query = f"""
            SELECT d.draft_id, d.step, d.draft, d.request, f.action, f.final_text FROM drafts d JOIN feedback f
            ON f.draft_id = d.draft_id AND f.id = (SELECT MAX(id) FROM feedback WHERE draft_id = d.draft_id)
            WHERE f.action IN ({", ".join("?" * len(actions))}) ORDER BY d.created_at"""
        with self._connection() as db:
            rows = db.execute(query, actions).fetchall()
        return [{"draft_id": r[0], "step": r[1], "draft": r[2], "request": json.loads(r[3]), "action": r[4],
                 "final_text": r[5]} for r in rows]


def _rates(rows: list[tuple[str, str, str | None]]) -> dict[str, Any]:
    rated = [action for *_, action in rows if action]
    count = len(rated) or 1
    rates = {f"{action}_rate": round(rated.count(action) / count, 3) for action in ("accepted", "edited", "rejected")}
    return {"drafts": len(rows), "feedback": len(rated), **rates}


def _grouped(rows: list[tuple[str, str, str | None]], column: int) -> dict[str, Any]:
    keys = sorted({str(row[column]) for row in rows})
    return {key: _rates([row for row in rows if str(row[column]) == key]) for key in keys}
