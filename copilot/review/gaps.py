"""The review's knowledge gaps: the questions the copilot could not answer with confidence, or whose drafts
agents rejected or rewrote, grouped by meaning so the team lead sees the few missing answers that matter most
(`copilot.review.report` adds them to the weekly review)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Connection, and_, or_, select

from copilot.feedback import latest_verdicts
from copilot.retrieval.embedders import Embedder
from copilot.review.config import Gaps
from copilot.store.schema import conversations as c
from copilot.store.schema import drafts

TOP_GAPS = 20

Question = tuple[str, bytes | None, str | None, str]  # text, stored float16 vector, intent, its source


class KnowledgeGaps:
    """Finds the period's unsure or rejected questions and groups them by meaning."""

    def __init__(self, config: Gaps, answer_step: str, embedder: Embedder | None = None) -> None:
        self.config, self.answer_step, self.embedder = config, answer_step, embedder

    def find(self, db: Connection, where: Sequence[ColumnElement[bool]],
             draft_window: Sequence[ColumnElement[bool]]) -> dict[str, Any]:
        """Questions of the conversations matching `where` and of the drafts in `draft_window`, grouped by
        meaning: the biggest groups first, with an example each."""
        limit = self.config.limit
        unsure = db.execute(select(c.c.question, c.c.vector, c.c.intent).where(
            *where, c.c.confident.is_(False), c.c.question.is_not(None))
            .order_by(c.c.started_at.desc()).limit(limit)).all()
        latest = latest_verdicts().subquery()
        rejected = or_(
            latest.c.action == "rejected",
            latest.c.similarity < self.config.heavy_edit,
            and_(drafts.c.step == self.answer_step, drafts.c.answer_id.is_(None)),
        )
        drafted = db.execute(select(drafts.c.question, drafts.c.need, latest.c.action)
                             .select_from(drafts.outerjoin(latest, latest.c.draft_id == drafts.c.draft_id))
                             .where(*draft_window, rejected, drafts.c.question.is_not(None))
                             .order_by(drafts.c.created_at.desc()).limit(limit)).all()
        questions: list[Question] = [(str(q), v, i, "conversation") for q, v, i in unsure]
        questions += [(str(q), None, need, "draft rejected" if action == "rejected" else "draft rewritten"
                       if action == "edited" else "draft held back") for q, need, action in drafted]
        groups = self._grouped(questions)
        return {"questions": len(questions), "groups": groups[:TOP_GAPS], "group_count": len(groups)}

    def _grouped(self, questions: Sequence[Question]) -> list[dict[str, Any]]:
        if not questions:
            return []
        vectors = self._vectors(questions)
        leaders: list[int] = []
        members: list[list[int]] = []
        for index, vector in enumerate(vectors):
            if leaders:
                similarity = vectors[leaders] @ vector
                best = int(np.argmax(similarity))
                if similarity[best] >= self.config.similar:
                    members[best].append(index)
                    continue
            leaders.append(index)
            members.append([index])
        groups = []
        for leader, group in zip(leaders, members, strict=True):
            intents = Counter(questions[i][2] for i in group if questions[i][2])
            sources = Counter(questions[i][3] for i in group)
            groups.append(
                {
                    "count": len(group),
                    "example": questions[leader][0],
                    "intent": intents.most_common(1)[0][0] if intents else None,
                    "sources": dict(sources),
                }
            )
        return sorted(groups, key=lambda g: -int(g["count"]))

    def _vectors(self, questions: Sequence[Question]) -> np.ndarray:
        """Stored vectors (float16) where there are; the others embedded now (a draft's question)."""
        missing = [i for i, (_, vector, _, _) in enumerate(questions) if vector is None]
        dimension = next((len(v) // 2 for _, v, _, _ in questions if v is not None), 0)
        embedded = np.zeros((0, dimension), dtype=np.float32)
        if missing and self.embedder is not None:
            embedded = np.asarray(self.embedder.embed([questions[i][0] for i in missing]), dtype=np.float32)
            dimension = embedded.shape[1]
        rows = np.zeros((len(questions), max(dimension, 1)), dtype=np.float32)
        fresh = iter(embedded)
        for index, (_, vector, _, _) in enumerate(questions):
            if vector is not None and len(vector) // 2 == rows.shape[1]:
                rows[index] = np.frombuffer(vector, dtype=np.float16).astype(np.float32)
            elif vector is None and self.embedder is not None:
                rows[index] = next(fresh)
            else:
                rows[index, index % rows.shape[1]] = 1.0  # nothing to compare it with: a group of its own
        rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9)
        return rows
