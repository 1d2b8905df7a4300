"""The weekly review: service numbers, flow compliance, returns and their reasons, knowledge gaps and the
lists to act on, per channel, per agent and for the team. Every number is an aggregate computed in the
database: one GROUP BY per day, channel and agent gives a few hundred rows that the team's, channels', agents'
and days' numbers are sums of (`copilot.review.rollup`), and the response times are counted per tenth of a
minute for the percentiles; Python only adds those rows up, pages the lists and groups the few gap questions
by meaning."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Integer, and_, case, func, or_, select
from sqlalchemy.sql import Select

from copilot.feedback import latest_verdicts, rates, verdict_counts
from copilot.retrieval.embedders import Embedder
from copilot.review.config import ReviewConfig
from copilot.review.gaps import KnowledgeGaps
from copilot.review.period import Period
from copilot.review.rollup import (
    MEASURES,
    Counts,
    Partial,
    days_at_target,
    partials,
    percentiles,
    rolled,
    tenth_counts,
)
from copilot.store import Database
from copilot.store.schema import conversations as c
from copilot.store.schema import drafts, violations

BUCKETS = (
    (5, "< 5 min"),
    (15, "5-15 min"),
    (30, "15-30 min"),
    (60, "30-60 min"),
    (120, "1-2 h"),
    (480, "2-8 h"),
)


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
            found = partials(db.execute(self._partials(query)))
            first = list(db.execute(self._times(query, c.c.first_response_seconds)))
            resolution = list(db.execute(self._times(query, c.c.resolution_seconds)))
            review = {
                "period": {
                    "since": period.first.isoformat(),
                    "until": period.last.isoformat(),
                    "days": period.days,
                    "as_of": datetime.fromtimestamp(period.as_of, period.zone).isoformat(timespec="minutes"),
                },
                "filters": {"channel": query.channel, "agent": query.agent, "page": query.page},
                "target": self.config.target_of(query.channel),
                **self._service(query, found, first, resolution),
                "response_times": _distribution(tenth_counts(first)),
                "orders": self._orders(db, query),
                "complaints": self._complaints(db, query),
                "unanswered": self._unanswered(db, query, int(sum(p.counts.waiting for p in found))),
                "broken_promises": self._broken_promises(db, query, int(sum(p.counts.broken for p in found))),
                "drafts": self._drafts(db, query),
            }
            rules = self._violations(db, query)
            for agent in review["agents"]:
                agent["violations"] = rules.get(agent["agent"], {})
            review["knowledge_gaps"] = self._gaps(db, query)
            review["latest_day"] = db.execute(select(func.max(c.c.day))).scalar()
        return review

    # --- filters -------------------------------------------------------------------------------------------

    def _where(self, query: ReviewQuery) -> list[ColumnElement[bool]]:
        conditions = [c.c.day >= query.period.first.isoformat(), c.c.day <= query.period.last.isoformat()]
        if query.channel:
            conditions.append(c.c.platform == query.channel)
        if query.agent:
            conditions.append(c.c.agent == query.agent)
        return conditions

    # --- service numbers and flow compliance ---------------------------------------------------------------

    def _partials(self, query: ReviewQuery) -> Select[Any]:
        """Every measure summed per day, channel and agent, in one pass over the period's conversations. A
        conversation needed an answer by now when it was answered, or its service level has passed."""
        as_of = query.period.as_of
        answered = _count(c.c.in_sla.is_(True))
        missed = _count(
            or_(c.c.in_sla.is_(False), and_(c.c.first_response_at.is_(None), c.c.reply_due_at < as_of))
        )
        finished = and_(c.c.status == "resolved", c.c.agent.is_not(None))
        ratings = self.config.ratings
        measures = [
            func.count(),
            answered,
            answered + missed,
            _count(c.c.first_response_at.is_(None)),
            _count(c.c.last_role == "agent"),
            _count(c.c.rating >= ratings.positive),
            _count(c.c.rating <= ratings.negative),
            func.count(c.c.rating),
            _count(and_(c.c.reply_due_at.is_not(None), c.c.reply_due_at < as_of)),
            _count(self._promise_broken(query)),
            _count(finished),
            func.sum(case((finished, c.c.steps_covered * 1.0 / c.c.steps_total), else_=0)),
            _count(and_(finished, c.c.in_order.is_(True))),
            _count(and_(finished, c.c.review_asked.is_(True))),
            func.sum(case((finished, c.c.qa_score), else_=0)),
        ]
        assert len(measures) == len(MEASURES)
        keys = [c.c.day, c.c.platform, c.c.agent]
        return select(*keys, *measures).where(*self._where(query)).group_by(*keys)

    def _times(self, query: ReviewQuery, value: Any) -> Select[Any]:
        """How many conversations per channel, agent and tenth of a minute (business time) of `value`."""
        tenth = func.cast(func.round(value / 6.0), Integer)
        keys = [c.c.platform, c.c.agent, tenth]
        return select(*keys, func.count()).where(*self._where(query), value.is_not(None)).group_by(*keys)

    def _service(self, query: ReviewQuery, found: list[Partial], first: list[Any],
                 resolution: list[Any]) -> dict[str, Any]:
        target = self.config.target_of(query.channel)
        groups: dict[str, Callable[[Partial], Any]] = {
            "team": lambda p: "", "channels": lambda p: p.channel, "agents": lambda p: p.agent}
        keys: dict[str, Callable[[str, str | None], Any]] = {
            "team": lambda channel, agent: "", "channels": lambda channel, agent: channel,
            "agents": lambda channel, agent: agent}
        result: dict[str, Any] = {}
        for name, key in groups.items():
            sums, days = rolled(found, key), days_at_target(found, key, target)
            firsts, resolved = percentiles(first, keys[name]), percentiles(resolution, keys[name])
            rows = {
                group: _numbers(counts, days.get(group, 0), firsts.get(group, {}), resolved.get(group, {}))
                for group, counts in sums.items()
            }
            if name == "team":
                result["team"] = rows.get("")
            elif name == "channels":
                result["channels"] = [{"channel": group, **rows[group]} for group in sorted(rows)]
            else:
                result["agents"] = [
                    {"agent": group, **_compliance(sums[group]), **rows[group]}
                    for group in sorted(g for g in rows if g is not None)
                    if sums[group].finished
                ]
        per_day = rolled(found, lambda p: p.day)
        result["daily"] = [
            {
                "day": day,
                "conversations": int(per_day[day].conversations) if day in per_day else 0,
                "response_rate": per_day[day].rate if day in per_day else None,
                "at_target": day in per_day
                and per_day[day].due > 0
                and per_day[day].in_time >= per_day[day].due * target,
            }
            for day in query.period.days
        ]
        return result

    def _violations(self, db: Connection, query: ReviewQuery) -> dict[str, dict[str, int]]:
        """Rules broken in each agent's own messages (the author of the message, not of the conversation)."""
        conditions = [violations.c.day >= query.period.first.isoformat(),
                      violations.c.day <= query.period.last.isoformat()]
        if query.channel:
            conditions.append(violations.c.platform == query.channel)
        if query.agent:
            conditions.append(violations.c.author == query.agent)
        found: dict[str, dict[str, int]] = {}
        for author, rule, count in db.execute(
            select(violations.c.author, violations.c.rule, func.count())
            .where(*conditions)
            .group_by(violations.c.author, violations.c.rule)
        ):
            found.setdefault(str(author), {})[str(rule)] = int(count)
        return found

    # --- returns, refunds, exchanges, cancellations; complaints --------------------------------------------

    def _orders(self, db: Connection, query: ReviewQuery) -> dict[str, Any]:
        """Counted per day, request and reason in one GROUP BY; the totals are sums of those counts."""
        rows = db.execute(select(c.c.day, c.c.intent, c.c.reason, func.count())
                          .where(*self._where(query), c.c.intent.in_(self.config.order_intents))
                          .group_by(c.c.day, c.c.intent, c.c.reason)).all()
        by_reason, reasons, intents = Counter[tuple[str, str]](), Counter[str](), Counter[str]()
        trend = Counter[tuple[str, str]]()
        for day, intent, reason, count in rows:
            by_reason[(str(intent), str(reason))] += int(count)
            reasons[str(reason)] += int(count)
            intents[str(intent)] += int(count)
            trend[(str(day), str(intent))] += int(count)
        return {"by_reason": [{"intent": i, "reason": r, "count": n} for (i, r), n in
                              sorted(by_reason.items(), key=lambda item: (-item[1], item[0]))],
                "reasons": dict(reasons.most_common()), "by_intent": dict(intents.most_common()),
                "trend": [{"day": d, "intent": i, "count": n} for (d, i), n in sorted(trend.items())]}

    def _complaints(self, db: Connection, query: ReviewQuery) -> dict[str, Any]:
        """Complaints (a complaint, an upset customer, or a bad review) a policy answers (triage was sure, and
        the knowledge base answers the intent) that were not solved at once: still open, or resolved later
        than the first-response service level."""
        upset = or_(c.c.issue_type.in_(self.config.complaint_issue_types), c.c.sentiment == "negative",
                    c.c.rating <= self.config.ratings.negative)
        complaint = [*self._where(query), upset]
        solvable = and_(c.c.answerable.is_(True), c.c.confident.is_(True))
        late = or_(c.c.status == "open", c.c.resolution_seconds > c.c.sla_minutes * 60)
        total, answerable, not_at_once = (int(v or 0) for v in db.execute(
            select(func.count(), _count(solvable), _count(and_(solvable, late))).where(*complaint)).one())
        listed = self._page(db, query, select(*self._listed()).where(*complaint, solvable, late)
                            .order_by(c.c.resolution_seconds.desc().nulls_first(), c.c.id), not_at_once)
        return {
            "complaints": total,
            "a_policy_answers": answerable,
            "not_solved_at_once": not_at_once,
            **listed,
        }

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

        return {
            "total": total,
            "page": query.page,
            "pages": pages,
            "rows": [
                {
                    "id": r.external_id,
                    "source": r.source,
                    "channel": r.platform,
                    "customer": r.customer,
                    "agent": r.agent,
                    "link": r.link,
                    "started": when(r.started_at),
                    "reply_due": when(r.reply_due_at),
                    "promise_due": when(r.promise_due_at),
                    "broken_promises": r.broken_promises,
                    "urgency": r.urgency,
                    "intent": r.intent,
                    "question": r.question,
                    "resolution_minutes": round(r.resolution_seconds / 60, 1)
                    if r.resolution_seconds is not None
                    else None,
                }
                for r in rows
            ],
        }

    def _unanswered(self, db: Connection, query: ReviewQuery, total: int) -> dict[str, Any]:
        """The customer wrote last and is still unanswered past the service level (longest overdue first)."""
        waiting = [*self._where(query), c.c.reply_due_at.is_not(None), c.c.reply_due_at < query.period.as_of]
        return self._page(
            db, query, select(*self._listed()).where(*waiting).order_by(c.c.reply_due_at, c.c.id), total
        )

    @staticmethod
    def _promise_broken(query: ReviewQuery) -> ColumnElement[bool]:
        """A promise of a time whose update came later, or is still awaited past it."""
        overdue = and_(c.c.promise_due_at.is_not(None), c.c.promise_due_at < query.period.as_of)
        return or_(c.c.broken_promises > 0, overdue)

    def _broken_promises(self, db: Connection, query: ReviewQuery, total: int) -> dict[str, Any]:
        """An agent promised a time and the update came later, or has not come."""
        broken = [*self._where(query), self._promise_broken(query)]
        return self._page(
            db,
            query,
            select(*self._listed())
            .where(*broken)
            .order_by(c.c.promise_due_at.is_(None), c.c.promise_due_at, c.c.started_at, c.c.id),
            total,
        )

    # --- drafts and knowledge gaps -------------------------------------------------------------------------

    def _draft_window(self, query: ReviewQuery) -> list[ColumnElement[bool]]:
        conditions = [drafts.c.created_at >= query.period.start, drafts.c.created_at < query.period.end]
        if query.channel:
            conditions.append(drafts.c.platform == query.channel)
        return conditions

    def _drafts(self, db: Connection, query: ReviewQuery) -> dict[str, Any]:
        """Acceptance and edit rates of the copilot's drafts per flow step and per platform
        (latest verdict)."""
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
            rows = [
                (str(row[0]) if keys else "", {**rates(row[len(keys) : -1]), "rewritten": int(row[-1] or 0)})
                for row in db.execute(statement)
                if row[len(keys)]
            ]
            result[name] = rows[0][1] if name == "total" and rows else dict(rows) if keys else None
        return result

    def _gaps(self, db: Connection, query: ReviewQuery) -> dict[str, Any]:
        """Questions the copilot could not answer with confidence, or whose drafts agents rejected or rewrote,
        grouped by meaning (`copilot.review.gaps`)."""
        gaps = KnowledgeGaps(self.config.knowledge_gaps, self.answer_step, self.embedder)
        return gaps.find(db, self._where(query), self._draft_window(query))


def _numbers(
    counts: Counts, days: int, first: dict[str, float], resolution: dict[str, float]
) -> dict[str, Any]:
    total = int(counts.conversations)
    return {
        "conversations": total,
        "answered_in_time": int(counts.in_time),
        "needed_answer": int(counts.due),
        "response_rate": counts.rate,
        "days_at_target": days,
        "unanswered": int(counts.never),
        "last_message_ours": round(counts.ours / total, 3) if total else None,
        "waiting_past_service_level": int(counts.waiting),
        "broken_promises": int(counts.broken),
        "reviews": {"positive": int(counts.good), "negative": int(counts.bad), "rated": int(counts.rated)},
        "first_response_minutes": first,
        "resolution_minutes": resolution,
    }


def _compliance(counts: Counts) -> dict[str, Any]:
    finished = counts.finished or 1
    return {
        "finished": int(counts.finished),
        "steps_covered": round(counts.coverage / finished, 3),
        "in_order": round(counts.in_order / finished, 3),
        "review_asked": round(counts.asked / finished, 3),
        "qa_score": round(counts.qa / finished, 1),
    }


def _distribution(tenths: dict[int, int]) -> list[dict[str, Any]]:
    """First-response times in the review's buckets, from the counts per tenth of a minute."""
    counts = [0] * (len(BUCKETS) + 1)
    for tenth, count in tenths.items():
        index = next((i for i, (limit, _) in enumerate(BUCKETS) if tenth / 10 < limit), len(BUCKETS))
        counts[index] += count
    labels = [label for _, label in BUCKETS] + [f"> {BUCKETS[-1][0] // 60} h"]
    return [{"bucket": label, "count": count} for label, count in zip(labels, counts, strict=True)]
