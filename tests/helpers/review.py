"""Helpers shared by the weekly review's tests: a copilot on the shipped knowledge base (its index and model
shared with the session) over a database of the test's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from copilot import Copilot, Settings
from copilot.store.schema import conversations, messages
from copilot.store.schema import violations as message_violations_table
from helpers import REPO, SHIPPED_KNOWLEDGE

FIXTURE = REPO / "tests" / "fixtures" / "review_week.jsonl"
UNTIL = "2026-11-22"


def review_copilot(shipped: Copilot, tmp_path: Path, database_url: str = "", **settings: Any) -> Copilot:
    config = Settings(knowledge_dir=SHIPPED_KNOWLEDGE, index_dir=shipped.settings.index_dir,
                      data_dir=tmp_path / "data", database_url=database_url, **settings)
    return Copilot(config, embedder=shipped.index.embedder)


def counts(copilot: Copilot) -> tuple[int, int, int]:
    """Conversations, messages and violations stored."""
    with copilot.database.reading() as db:
        tables = (conversations, messages, message_violations_table)
        return tuple(  # type: ignore[return-value]
            int(db.execute(select(func.count()).select_from(table)).scalar() or 0) for table in tables
        )
