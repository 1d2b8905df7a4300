"""Drafts and the agents' verdicts on them, for acceptance statistics, knowledge gaps and new references.

They live in the copilot's database (`copilot.store`): a SQLite file in WAL mode by default, or the PostgreSQL
database every replica shares. A draft is stored once by its id, however many replicas or retries record it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz
from sqlalchemy import Insert, Table, case, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from copilot.contracts import MAX_TEXT, DraftRequest, DraftResponse
from copilot.errors import InvalidRequestError
from copilot.store import Database, StoreError
from copilot.store.schema import drafts, feedback

Action = Literal["accepted", "edited", "rejected"]
ACTIONS: tuple[Action, ...] = ("accepted", "edited", "rejected")


class FeedbackStoreError(StoreError):
    """The feedback database cannot be opened or written (corrupted, locked, read-only, unreachable)."""

    code = "feedback_store_unavailable"
    label = "feedback store"


class FeedbackRequest(BaseModel):
    """`POST /v1/feedback`: what the agent did with a draft."""

    model_config = ConfigDict(extra="forbid")

    draft_id: str = Field(min_length=1, max_length=64)
    action: Action
    final_text: str | None = Field(default=None, max_length=MAX_TEXT)


def upsert(database: Database, table: Table, keys: list[str], values: dict[str, Any],
           keep: tuple[str, ...] = ()) -> Insert:
    """INSERT ... ON CONFLICT (keys) DO UPDATE every column but the keys and `keep`, in the database's
    dialect."""
    dialect = sqlite if database.sqlite else postgresql
    statement = dialect.insert(table).values(**values)
    updates = {name: statement.excluded[name] for name in values if name not in keys and name not in keep}
    upserted: Insert = statement.on_conflict_do_update(index_elements=keys, set_=updates)
    return upserted


class FeedbackStore:
    """Drafts by id and every verdict on them. A write waits up to `busy_timeout` seconds for a lock held
    elsewhere, then fails with a FeedbackStoreError naming the database; a damaged file fails the same way
    and is never rewritten or replaced."""

    def __init__(self, database: Database | Path, busy_timeout: float = 10.0) -> None:
        if isinstance(database, Path):
            database = Database(database, busy_timeout, FeedbackStoreError)
        self.database = database
        self.path = database.name

    def record_draft(self, request: DraftRequest, response: DraftResponse) -> None:
        question = next((m.text for m in reversed(request.messages) if m.role == "customer"), None)
        values = {"draft_id": response.draft_id, "created_at": time.time(), "platform": request.platform,
                  "flow": request.flow, "step": response.step, "language": response.language,
                  "model": response.model, "draft": response.draft,
                  "request": request.model_dump_json(exclude_none=True),
                  "question": question, "answer_id": response.answer.id if response.answer else None,
                  "answer_confidence": response.answer.confidence if response.answer else None,
                  "need": response.need.intent if response.need else None}
        with self.database.writing(FeedbackStoreError) as db:
            db.execute(upsert(self.database, drafts, ["draft_id"], values, keep=("created_at",)))

    def record_feedback(self, verdict: FeedbackRequest) -> dict[str, Any]:
        with self.database.writing(FeedbackStoreError) as db:
            draft = db.execute(select(drafts.c.draft).where(drafts.c.draft_id == verdict.draft_id)).scalar()
            if draft is None:
                raise InvalidRequestError(
                    f"unknown draft_id '{verdict.draft_id}': feedback needs a draft it rated"
                )
            similarity = None
            if verdict.action == "edited" and verdict.final_text is not None:
                similarity = round(fuzz.ratio(draft, verdict.final_text) / 100, 3)
            row = db.execute(insert(feedback).values(
                draft_id=verdict.draft_id, action=verdict.action, final_text=verdict.final_text,
                created_at=time.time(), similarity=similarity).returning(feedback.c.id)).scalar_one()
        return {"id": row, "draft_id": verdict.draft_id, "action": verdict.action}

    def stats(self) -> dict[str, Any]:
        """Acceptance, edit and rejection rates overall, per step and per platform (latest verdict per draft),
        counted in the database."""
        with self.database.reading(FeedbackStoreError) as db:
            total = _rates(db, [])
            by_step = {key: value for key, value in _grouped(db, drafts.c.step)}
            by_platform = {key: value for key, value in _grouped(db, drafts.c.platform)}
        return {"total": total[0][1] if total else _empty(), "by_step": by_step, "by_platform": by_platform}

    def rated_drafts(self, actions: tuple[str, ...] = ("accepted", "edited")) -> list[dict[str, Any]]:
        """Drafts whose latest verdict is in `actions`, with their request and the text finally sent."""
        latest = latest_verdicts().subquery()
        query = (select(drafts.c.draft_id, drafts.c.step, drafts.c.draft, drafts.c.request, latest.c.action,
                        latest.c.final_text)
                 .join(latest, latest.c.draft_id == drafts.c.draft_id)
                 .where(latest.c.action.in_(actions)).order_by(drafts.c.created_at))
        with self.database.reading(FeedbackStoreError) as db:
            rows = db.execute(query).all()
        return [{"draft_id": r[0], "step": r[1], "draft": r[2], "request": json.loads(r[3]), "action": r[4],
                 "final_text": r[5]} for r in rows]


def latest_verdicts() -> Any:
    """The latest verdict of each rated draft (its highest feedback id)."""
    newest = select(func.max(feedback.c.id)).group_by(feedback.c.draft_id)
    return select(feedback.c.draft_id, feedback.c.action, feedback.c.final_text, feedback.c.similarity) \
        .where(feedback.c.id.in_(newest))


def verdict_counts(latest: Any) -> list[Any]:
    """drafts, rated, accepted, edited, rejected: columns over drafts LEFT JOIN `latest`."""
    counted = [func.sum(case((latest.c.action == action, 1), else_=0)) for action in ACTIONS]
    return [func.count(drafts.c.draft_id), func.count(latest.c.action), *counted]


def rates(row: Any) -> dict[str, Any]:
    drafted, rated, *by_action = (int(value or 0) for value in row)
    share = {f"{action}_rate": round(count / (rated or 1), 3) for action, count in zip(ACTIONS, by_action,
                                                                                          strict=True)}
    return {"drafts": drafted, "feedback": rated, **share}


def _rates(db: Any, group: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    latest = latest_verdicts().subquery()
    query = select(*group, *verdict_counts(latest)).select_from(
        drafts.outerjoin(latest, latest.c.draft_id == drafts.c.draft_id))
    if group:
        query = query.group_by(*group).order_by(*group)
    rows = db.execute(query).all()
    return [(str(row[0]) if group else "", rates(row[len(group):])) for row in rows if row[len(group)]]


def _grouped(db: Any, column: Any) -> list[tuple[str, dict[str, Any]]]:
    return _rates(db, [column])


def _empty() -> dict[str, Any]:
    return {"drafts": 0, "feedback": 0, **{f"{action}_rate": 0.0 for action in ACTIONS}}
