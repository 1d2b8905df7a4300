"""The weekly review: service numbers, flow compliance, returns and their reasons, knowledge gaps and the lists
to act on, per channel, per agent and for the team. Every number is an aggregate computed in the database
(GROUP BY, window functions for the percentiles); Python only shapes the rows, pages the lists and groups the
few gap questions by meaning."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Connection, and_, case, func, or_, select
from sqlalchemy.sql import Select

from copilot.feedback import latest_verdicts, rates, verdict_counts
from copilot.retrieval.embedders import Embedder
from copilot.review.config import ReviewConfig
from copilot.review.period import Period
from copilot.store import Database
from copilot.store.schema import conversations as c
from copilot.store.schema import drafts, violations

PERCENTILES = (50, 90)
BUCKETS = ((5, "< 5 min"), (15, "5-15 min"), (30, "15-30 min"), (60, "30-60 min"), (120, "1-2 h"), (480, "2-8 h"))
TOP_GAPS = 20


@dataclass(frozen=True)
class ReviewQuery:
    period: Period
    channel: str | None = None
    agent: str | None = None
    page: int = 1


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


class WeeklyReview:
    """Builds the review of one period from the database."""

    def __init__(self, database: Database, config: ReviewConfig, answer_step: str,
                 embedder: Embedder | None = None) -> None:
        self.database, self.config, self.answer_step, self.embedder = database, config, answer_step, embedder

    def build(self, query: ReviewQuery) -> dict[str, Any]:
        period = query.period
        with self.database.reading() as db:
            review = {
                "period": {"since": period.first.isoformat(), "until": period.last.isoformat(), "days": period.days,
                           "as_of": datetime.fromtimestamp(period.as_of, period.zone).isoformat(timespec="minutes")},
                "filters": {"channel": query.channel, "agent": query.agent, "page": query.page},
                "target": self.config.target_of(query.channel),
                "team": self._service(db, query, None)[0][1] if self._has(db, query) else None,
                "channels": [{"channel": key, **value} for key, value in self._service(db, query, c.c.platform)],
                "agents": self._agents(db, query),
                "daily": self._daily(db, query),
                "response_times": self._distribution(db, query),
                "orders": self._orders(db, query),
                "complaints": self._complaints(db, query),
                "unanswered": self._unanswered(db, query),
                "broken_promises": self._broken_promises(db, query),
                "drafts": self._drafts(db, query),
            }
            review["knowledge_gaps"] = self._gaps(db, query)
            review["latest_day"] = db.execute(select(func.max(c.c.day))).scalar()
        return review

    # --- filters -------------------------------------------------------------------------------------------

    def _where(self, query: ReviewQuery, agent_column: Any = None) -> list[ColumnElement[bool]]:
        conditions = [c.c.day >= query.period.first.isoformat(), c.c.day <= query.period.last.isoformat()]
        if query.channel:
            conditions.append(c.c.platform == query.channel)
        if query.agent:
            conditions.append((c.c.agent if agent_column is None else agent_column) == query.agent)
        return conditions

    def _has(self, db: Connection, query: ReviewQuery) -> bool:
        return bool(db.execute(select(func.count()).select_from(c).where(*self._where(query))).scalar())

    # --- service numbers -----------------------------------------------------------------------------------

    def _due(self, query: ReviewQuery) -> tuple[ColumnElement[int], ColumnElement[int]]:
        """(answered within the service level, that needed an answer by now): an unanswered conversation past
        its service level is a miss, one not yet due is not counted."""
        as_of = query.period.as_of
        answered = _count(c.c.in_sla.is_(True))
        missed = or_(c.c.in_sla.is_(False), and_(c.c.first_response_at.is_(None), c.c.reply_due_at < as_of))
        return answered, answered + _count(missed)

    def _service(self, db: Connection, query: ReviewQuery, group: Any) -> list[tuple[str, dict[str, Any]]]:
        answered, due = self._due(query)
        columns = [func.count(), answered, due, _count(c.c.first_response_at.is_(None)),
                   _count(c.c.last_role == "agent"), _count(c.c.rating >= self.config.ratings.positive),
                   _count(c.c.rating <= self.config.ratings.negative), func.count(c.c.rating),
                   _count(and_(c.c.reply_due_at.is_not(None), c.c.reply_due_at < query.period.as_of)),
                   _count(self._promise_broken(query))]
        keys = [group] if group is not None else []
        statement = select(*keys, *columns).where(*self._where(query))
        if group is not None:
            statement = statement.group_by(group).order_by(group)
        rows = db.execute(statement).all()
        days = self._days_at_target(db, query, group)
        first = self._percentiles(db, query, c.c.first_response_seconds, group)
        resolution = self._percentiles(db, query, c.c.resolution_seconds, group)
        result = []
        for row in rows:
            key = str(row[0]) if group is not None else ""
            counts = [int(v or 0) for v in row[len(keys):]]
            total, in_sla, needed, never, ours, good, bad, rated, waiting, broken = counts
            result.append((key, {
                "conversations": total, "answered_in_time": in_sla, "needed_answer": needed,
                "response_rate": round(in_sla / needed, 3) if needed else None,
                "days_at_target": days.get(key, 0), "unanswered": never,
                "last_message_ours": round(ours / total, 3) if total else None,
                "waiting_past_service_level": waiting, "broken_promises": broken,
                "reviews": {"positive": good, "negative": bad, "rated": rated},
                "first_response_minutes": first.get(key, {}), "resolution_minutes": resolution.get(key, {}),
            }))
        return result

    def _per_day(self, query: ReviewQuery, group: Any) -> Select[Any]:
        answered, due = self._due(query)
        keys = [group] if group is not None else []
        return (select(*keys, c.c.day, answered.label("in_time"), due.label("due"), func.count().label("n"))
                .where(*self._where(query)).group_by(*keys, c.c.day))

    def _days_at_target(self, db: Connection, query: ReviewQuery, group: Any) -> dict[str, int]:
        """Per group, the days whose response rate reached the target: counted in the database."""
        daily = self._per_day(query, group).subquery()
        target = self.config.target_of(query.channel)
        met = _count(and_(daily.c.due > 0, daily.c.in_time >= daily.c.due * target))
        keys = [daily.c[group.name]] if group is not None else []
        statement = select(*keys, met)
        if keys:
            statement = statement.group_by(*keys)
        return {str(row[0]) if keys else "": int(row[-1] or 0) for row in db.execute(statement)}

    def _percentiles(self, db: Connection, query: ReviewQuery, value: Any, group: Any) -> dict[str, dict[str, float]]:
        """Nearest-rank percentiles per group, with window functions (the same SQL on SQLite and PostgreSQL)."""
        partition = [group] if group is not None else None
        ranked = select(*(partition or []), value.label("v"),
                        func.row_number().over(partition_by=partition, order_by=value).label("rank"),
                        func.count().over(partition_by=partition).label("n")) \
            .where(*self._where(query), value.is_not(None)).subquery()
        wanted = [ranked.c.rank == (ranked.c.n * p + 99) // 100 for p in PERCENTILES]
        keys = [ranked.c[group.name]] if group is not None else []
        found: dict[str, dict[str, float]] = {}
        for row in db.execute(select(*keys, ranked.c.rank, ranked.c.n, ranked.c.v).where(or_(*wanted))):
            key = str(row[0]) if keys else ""
            rank, count, seconds = int(row[-3]), int(row[-2]), float(row[-1])
            for p in PERCENTILES:
                if rank == (count * p + 99) // 100:
                    found.setdefault(key, {})[f"p{p}"] = round(seconds / 60, 1)
        return found

    def _daily(self, db: Connection, query: ReviewQuery) -> list[dict[str, Any]]:
        rows = {row.day: row for row in db.execute(self._per_day(query, None))}
        target = self.config.target_of(query.channel)
        days = []
        for day in query.period.days:
            row = rows.get(day)
            due, in_time = (int(row.due or 0), int(row.in_time or 0)) if row else (0, 0)
            rate = round(in_time / due, 3) if due else None
            days.append({"day": day, "conversations": int(row.n) if row else 0, "response_rate": rate,
                         "at_target": rate is not None and in_time >= due * target})
        return days

    def _distribution(self, db: Connection, query: ReviewQuery) -> list[dict[str, Any]]:
        minutes = c.c.first_response_seconds / 60.0
        bucket = case(*((minutes < limit, index) for index, (limit, _) in enumerate(BUCKETS)), else_=len(BUCKETS))
        rows: dict[int, int] = dict(db.execute(select(bucket, func.count()).where(*self._where(query),
                                                                  c.c.first_response_seconds.is_not(None))
                               .group_by(bucket)).all())
        labels = [label for _, label in BUCKETS] + [f"> {BUCKETS[-1][0] // 60} h"]
        return [{"bucket": label, "count": int(rows.get(index, 0))} for index, label in enumerate(labels)]

    # --- flow compliance per agent -------------------------------------------------------------------------

    def _agents(self, db: Connection, query: ReviewQuery) -> list[dict[str, Any]]:
        finished = and_(c.c.status == "resolved", c.c.agent.is_not(None))
        service = dict(self._service(db, query, c.c.agent))
        rows = db.execute(select(
            c.c.agent, func.count(), func.avg(c.c.steps_covered * 1.0 / c.c.steps_total),
            _count(c.c.in_order.is_(True)), _count(c.c.review_asked.is_(True)), func.avg(c.c.qa_score))
            .where(*self._where(query), finished).group_by(c.c.agent).order_by(c.c.agent)).all()
        rules = self._violations(db, query)
        agents = []
        for agent, finished_count, coverage, in_order, asked, score in rows:
            count = int(finished_count)
            agents.append({
                "agent": agent, "finished": count, "steps_covered": round(float(coverage or 0), 3),
                "in_order": round(int(in_order or 0) / count, 3), "review_asked": round(int(asked or 0) / count, 3),
                "qa_score": round(float(score or 0), 1), "violations": rules.get(agent, {}),
                **{key: service.get(agent, {}).get(key) for key in ("conversations", "response_rate",
                                                                     "first_response_minutes", "unanswered")}})
        return agents

    def _violations(self, db: Connection, query: ReviewQuery) -> dict[str, dict[str, int]]:
        """Rules broken in each agent's own messages (the author of the message, not of the conversation)."""
        conditions = [violations.c.day >= query.period.first.isoformat(),
                      violations.c.day <= query.period.last.isoformat()]
        if query.channel:
            conditions.append(violations.c.platform == query.channel)
        if query.agent:
            conditions.append(violations.c.author == query.agent)
        found: dict[str, dict[str, int]] = {}
        for author, rule, count in db.execute(select(violations.c.author, violations.c.rule, func.count())
                                              .where(*conditions).group_by(violations.c.author, violations.c.rule)):
            found.setdefault(str(author), {})[str(rule)] = int(count)
        return found

    # --- returns, refunds, exchanges, cancellations; complaints --------------------------------------------

    def _orders(self, db: Connection, query: ReviewQuery) -> dict[str, Any]:
        wanted = [*self._where(query), c.c.intent.in_(self.config.order_intents)]
        by_reason = [{"intent": intent, "reason": reason, "count": int(count)} for intent, reason, count in db.execute(
            select(c.c.intent, c.c.reason, func.count()).where(*wanted).group_by(c.c.intent, c.c.reason)
            .order_by(func.count().desc(), c.c.intent, c.c.reason))]
        trend = [{"day": day, "intent": intent, "count": int(count)} for day, intent, count in db.execute(
            select(c.c.day, c.c.intent, func.count()).where(*wanted).group_by(c.c.day, c.c.intent)
            .order_by(c.c.day, c.c.intent))]
        reasons, intents = Counter[str](), Counter[str]()
        for row in by_reason:
            reasons[row["reason"]] += row["count"]
            intents[row["intent"]] += row["count"]
        return {"by_reason": by_reason, "reasons": dict(reasons.most_common()),
                "by_intent": dict(intents.most_common()), "trend": trend}

    def _complaints(self, db: Connection, query: ReviewQuery) -> dict[str, Any]:
        """Complaints (a complaint, an upset customer, or a bad review) a policy answers (triage was sure, and the
        knowledge base answers the intent) that were not solved at once: still open, or resolved later than the
        first-response service level."""
        upset = or_(c.c.issue_type == "complaint", c.c.sentiment == "negative",
                    c.c.rating <= self.config.ratings.negative)
        complaint = [*self._where(query), upset]
        solvable = and_(c.c.answerable.is_(True), c.c.confident.is_(True))
        late = or_(c.c.status == "open", c.c.resolution_seconds > c.c.sla_minutes * 60)
        total, answerable, not_at_once = (int(v or 0) for v in db.execute(
            select(func.count(), _count(solvable), _count(and_(solvable, late))).where(*complaint)).one())
        listed = self._page(db, query, select(*self._listed()).where(*complaint, solvable, late)
                            .order_by(c.c.resolution_seconds.desc().nulls_first(), c.c.id), not_at_once)
        return {"complaints": total, "a_policy_answers": answerable, "not_solved_at_once": not_at_once, **listed}

    # --- lists to act on -----------------------------------------------------------------------------------

    def _listed(self) -> list[Any]:
        return [c.c.external_id, c.c.source, c.c.platform, c.c.customer, c.c.agent, c.c.link, c.c.started_at,
                c.c.reply_due_at, c.c.promise_due_at, c.c.broken_promises, c.c.urgency, c.c.intent,
                c.c.question, c.c.resolution_seconds, c.c.sla_minutes]

    def _page(self, db: Connection, query: ReviewQuery, statement: Select[Any], total: int) -> dict[str, Any]:
        size = self.config.page_size
        pages = max(1, -(-total // size))
        rows = db.execute(statement.limit(size).offset((query.page - 1) * size)).all()
        zone = query.period.zone

        def when(value: float | None) -> str | None:
            return datetime.fromtimestamp(value, zone).isoformat(timespec="minutes") if value else None

        return {"total": total, "page": query.page, "pages": pages, "rows": [{
            "id": r.external_id, "source": r.source, "channel": r.platform, "customer": r.customer, "agent": r.agent,
            "link": r.link, "started": when(r.started_at), "reply_due": when(r.reply_due_at),
            "promise_due": when(r.promise_due_at), "broken_promises": r.broken_promises, "urgency": r.urgency,
            "intent": r.intent, "question": r.question,
            "resolution_minutes": round(r.resolution_seconds / 60, 1) if r.resolution_seconds is not None else None,
        } for r in rows]}

    def _unanswered(self, db: Connection, query: ReviewQuery) -> dict[str, Any]:
        """The customer wrote last and is still unanswered past the service level (longest overdue first)."""
        waiting = [*self._where(query), c.c.reply_due_at.is_not(None), c.c.reply_due_at < query.period.as_of]
        total = int(db.execute(select(func.count()).where(*waiting)).scalar() or 0)
        return self._page(db, query, select(*self._listed()).where(*waiting).order_by(c.c.reply_due_at, c.c.id),
                          total)

    @staticmethod
    def _promise_broken(query: ReviewQuery) -> ColumnElement[bool]:
        """A promise of a time whose update came later, or is still awaited past it."""
        overdue = and_(c.c.promise_due_at.is_not(None), c.c.promise_due_at < query.period.as_of)
        return or_(c.c.broken_promises > 0, overdue)

    def _broken_promises(self, db: Connection, query: ReviewQuery) -> dict[str, Any]:
        """An agent promised a time and the update came later, or has not come."""
        broken = [*self._where(query), self._promise_broken(query)]
        total = int(db.execute(select(func.count()).where(*broken)).scalar() or 0)
        return self._page(db, query, select(*self._listed()).where(*broken)
                          .order_by(c.c.promise_due_at.is_(None), c.c.promise_due_at, c.c.started_at, c.c.id), total)

    # --- drafts and knowledge gaps -------------------------------------------------------------------------

    def _draft_window(self, query: ReviewQuery) -> list[ColumnElement[bool]]:
        conditions = [drafts.c.created_at >= query.period.start, drafts.c.created_at < query.period.end]
        if query.channel:
            conditions.append(drafts.c.platform == query.channel)
        return conditions

    def _drafts(self, db: Connection, query: ReviewQuery) -> dict[str, Any]:
        """Acceptance and edit rates of the copilot's drafts per flow step and per platform (latest verdict)."""
        latest = latest_verdicts().subquery()
        joined = drafts.outerjoin(latest, latest.c.draft_id == drafts.c.draft_id)
        heavy = _count(latest.c.similarity < self.config.knowledge_gaps.heavy_edit)
        result: dict[str, Any] = {}
        for name, column in (("total", None), ("by_step", drafts.c.step), ("by_platform", drafts.c.platform)):
            keys = [column] if column is not None else []
            statement = select(*keys, *verdict_counts(latest), heavy).select_from(joined) \
                .where(*self._draft_window(query))
            if keys:
                statement = statement.group_by(*keys).order_by(*keys)
            rows = [(str(row[0]) if keys else "", {**rates(row[len(keys):-1]), "rewritten": int(row[-1] or 0)})
                    for row in db.execute(statement) if row[len(keys)]]
            result[name] = rows[0][1] if name == "total" and rows else dict(rows) if keys else None
        return result

    def _gaps(self, db: Connection, query: ReviewQuery) -> dict[str, Any]:
        """Questions the copilot could not answer with confidence, or whose drafts agents rejected or rewrote,
        grouped by meaning: the biggest groups first, with an example each."""
        limit = self.config.knowledge_gaps.limit
        unsure = db.execute(select(c.c.question, c.c.vector, c.c.intent).where(
            *self._where(query), c.c.confident.is_(False), c.c.question.is_not(None))
            .order_by(c.c.started_at.desc()).limit(limit)).all()
        latest = latest_verdicts().subquery()
        rejected = or_(latest.c.action == "rejected", latest.c.similarity < self.config.knowledge_gaps.heavy_edit,
                       and_(drafts.c.step == self.answer_step, drafts.c.answer_id.is_(None)))
        drafted = db.execute(select(drafts.c.question, drafts.c.need, latest.c.action)
                             .select_from(drafts.outerjoin(latest, latest.c.draft_id == drafts.c.draft_id))
                             .where(*self._draft_window(query), rejected, drafts.c.question.is_not(None))
                             .order_by(drafts.c.created_at.desc()).limit(limit)).all()
        questions = [(str(q), v, i, "conversation") for q, v, i in unsure]
        questions += [(str(q), None, need, "draft rejected" if action == "rejected" else "draft rewritten"
                       if action == "edited" else "draft held back") for q, need, action in drafted]
        groups = self._grouped(questions)
        return {"questions": len(questions), "groups": groups[:TOP_GAPS], "group_count": len(groups)}

    def _grouped(self, questions: Sequence[tuple[str, bytes | None, str | None, str]]) -> list[dict[str, Any]]:
        if not questions:
            return []
        vectors = self._vectors(questions)
        leaders: list[int] = []
        members: list[list[int]] = []
        for index, vector in enumerate(vectors):
            if leaders:
                similarity = vectors[leaders] @ vector
                best = int(np.argmax(similarity))
                if similarity[best] >= self.config.knowledge_gaps.similar:
                    members[best].append(index)
                    continue
            leaders.append(index)
            members.append([index])
        groups = []
        for leader, group in zip(leaders, members, strict=True):
            intents = Counter(questions[i][2] for i in group if questions[i][2])
            sources = Counter(questions[i][3] for i in group)
            groups.append({"count": len(group), "example": questions[leader][0],
                           "intent": intents.most_common(1)[0][0] if intents else None, "sources": dict(sources)})
        return sorted(groups, key=lambda g: -int(g["count"]))

    def _vectors(self, questions: Sequence[tuple[str, bytes | None, str | None, str]]) -> np.ndarray:
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

