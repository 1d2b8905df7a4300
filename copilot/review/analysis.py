"""What the weekly review needs to know about one conversation, worked out once when it is stored.

Triage (urgency, intent, how sure), QA (steps covered and in order, the review ask, the rules each human agent
message broke), the service-level clock (first response, resolution, who is still waiting and until when) and
the promises agents made: each becomes a column of `conversations`, so the review itself is queries.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from copilot.contracts import Message
from copilot.flow.flows import Flow
from copilot.flow.tracker import StepTracker, without_names
from copilot.guardrails.engine import GuardrailEngine
from copilot.guardrails.models import CheckContext, CheckResult
from copilot.knowledge import KnowledgeBase
from copilot.qa import ConversationReview, Transcript, review_conversation
from copilot.retrieval.embedders import Embedder
from copilot.review.clock import BusinessClock, local_day
from copilot.review.config import ReviewConfig
from copilot.review.records import ConversationRecord
from copilot.triage.contracts import TriageRequest, TriageResponse
from copilot.triage.engine import TriageEngine

TRIAGED_MESSAGES = 5  # the customer's first messages that triage reads, as the first-line bot would
QUESTION_CHARS = 500


@dataclass
class Timed:
    """One message in time order, with what the review needs."""

    position: int
    role: str
    text: str
    at: float
    author: str | None
    automatic: bool
    external_id: str | None = None

    @property
    def human_agent(self) -> bool:
        return self.role == "agent" and not self.automatic


@dataclass
class Analysed:
    """The rows to store for one conversation (without its database id)."""

    row: dict[str, Any]
    messages: list[dict[str, Any]] = field(default_factory=list)
    violations: list[dict[str, Any]] = field(default_factory=list)


def epoch(moment: datetime, zone: ZoneInfo) -> float:
    """Seconds since the epoch; a time without an offset is in the team's time zone."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).timestamp()


class ConversationAnalyser:
    """Analyses batches of conversations: triage of all of them in one batch, their agent sentences embedded
    in one batch, then the clock, promises and QA of each."""

    def __init__(self, knowledge: KnowledgeBase, config: ReviewConfig, triage: TriageEngine,
                 guardrails: GuardrailEngine, embedder: Embedder | None,
                 tracker: Callable[[Flow], StepTracker]) -> None:
        self.knowledge, self.config, self.triage = knowledge, config, triage
        self.guardrails, self.embedder, self.tracker = RepeatedChecks(guardrails), embedder, tracker

    def problem(self, record: ConversationRecord) -> tuple[str, str] | None:
        """(field, reason) when the record names a platform or flow the knowledge base does not know."""
        if record.platform not in self.knowledge.platforms:
            return (
                "platform",
                f"unknown platform '{record.platform}'; known: {', '.join(self.knowledge.platforms)}",
            )
        if record.flow not in self.knowledge.flows:
            return "flow", f"unknown flow '{record.flow}'; known: {', '.join(self.knowledge.flows)}"
        return None

    def timed(self, record: ConversationRecord, external_ids: Sequence[str | None] = ()) -> list[Timed]:
        zone = self.config.zone
        ids = list(external_ids) or [None] * len(record.messages)
        rows = []
        for message, external in zip(record.messages, ids, strict=True):
            author = message.author or (record.agent.name if message.role == "agent" else None)
            automatic = message.role == "agent" and self.config.automatic(author)
            assert message.at is not None  # records are validated: every message has its time
            rows.append(
                Timed(0, message.role, message.text, epoch(message.at, zone), author, automatic, external)
            )
        rows = sorted(rows, key=lambda m: m.at)  # stable: messages of the same second keep their order
        for position, row in enumerate(rows):
            row.position = position
        return rows

    def analyse(self, items: Sequence[tuple[ConversationRecord, Sequence[str | None]]]) -> list[Analysed]:
        """The rows of every conversation;
        `items` pairs each record with its messages' external ids (or ())."""
        timed = [self.timed(record, ids) for record, ids in items]
        requests = [
            self._triage_request(record, messages) for (record, _), messages in zip(items, timed, strict=True)
        ]
        asked = [request for request in requests if request is not None]
        verdicts = iter(self.triage.classify(asked))
        triaged = [next(verdicts) if request is not None else None for request in requests]
        reviews = self._qa([record for record, _ in items], timed)
        results = [
            self._analysed(record, messages, verdict, review)
            for (record, _), messages, verdict, review in zip(items, timed, triaged, reviews, strict=True)
        ]
        self._gap_vectors(results)
        return results

    def _triage_request(self, record: ConversationRecord, messages: list[Timed]) -> TriageRequest | None:
        first_reply = next((m.position for m in messages if m.human_agent), len(messages))
        customer = [m for m in messages if m.role == "customer"]
        if not customer:
            return None
        before = [m for m in customer if m.position < first_reply] or customer
        return TriageRequest(
            platform=record.platform,
            customer=record.customer,
            messages=[Message(role="customer", text=m.text) for m in before[:TRIAGED_MESSAGES]],
        )

    def _qa(self, records: list[ConversationRecord], timed: list[list[Timed]]) -> list[ConversationReview]:
        """QA of what people wrote: automatic messages are left out,
        the agents' sentences embedded at once."""
        transcripts = []
        for record, messages in zip(records, timed, strict=True):
            kept = [
                Message(role=m.role, text=m.text)  # type: ignore[arg-type]
                for m in messages
                if not m.automatic
            ]
            transcripts.append(Transcript(id=record.id, platform=record.platform, flow=record.flow,
                                          customer=record.customer, agent=record.agent, messages=kept))
        by_flow: dict[str, list[str]] = {}
        for transcript in transcripts:
            names = [
                n for n in (transcript.customer.name, transcript.agent.name, transcript.agent.brand) if n
            ]
            by_flow.setdefault(transcript.flow, []).extend(
                without_names(m.text, names) for m in transcript.messages if m.role == "agent")
        for flow_id, texts in by_flow.items():
            self.tracker(self.knowledge.flows[flow_id]).warm(texts)
        return [
            review_conversation(
                t, self.tracker(self.knowledge.flows[t.flow]), self.guardrails, self.config.qa
            )
            for t in transcripts
        ]

    def _analysed(self, record: ConversationRecord, messages: list[Timed], verdict: TriageResponse | None,
                  review: ConversationReview) -> Analysed:
        config = self.config
        humans = [m for m in messages if m.human_agent]
        customers = [m for m in messages if m.role == "customer"]
        start = (customers or messages)[0].at
        urgency = verdict.urgency if verdict else None
        clock = BusinessClock(config.hours(record.platform), config.zone, urgency)
        row: dict[str, Any] = {
            "platform": record.platform, "flow": record.flow, "customer": record.customer.name,
            "link": record.url, "content_hash": record.digest(), "messages": len(messages),
            "started_at": start, "day": local_day(start, config.zone), "last_at": messages[-1].at,
            "rating": record.rating, "updated_at": time.time(), "agent_replies": len(humans),
            "agent": _primary(humans),
        }
        row.update(self._triaged(record, customers, verdict, self._triage_request(record, messages)))
        row.update(self._clock(record, messages, start, clock, verdict))
        row.update(self._promises(messages, row["status"]))
        row.update(_qa_columns(review, len(self.knowledge.flows[record.flow].step_ids)))
        kept = [m for m in messages if not m.automatic]
        steps = {kept[r.index].position: r.steps for r in review.messages}
        analysed = Analysed(row)
        analysed.messages = [{"position": m.position, "external_id": m.external_id, "role": m.role,
                              "author": m.author, "automatic": m.automatic, "text": m.text, "at": m.at,
                              "steps": ",".join(steps.get(m.position, [])) or None} for m in messages]
        analysed.violations = [
            {
                "position": kept[r.index].position,
                "author": kept[r.index].author,
                "rule": v.rule,
                "day": row["day"],
                "platform": record.platform,
            }
            for r in review.messages
            for v in r.violations
        ]
        return analysed

    def _triaged(self, record: ConversationRecord, customers: list[Timed], verdict: TriageResponse | None,
                 request: TriageRequest | None) -> dict[str, Any]:
        if verdict is None or request is None:
            return {"question": None, "confident": None, "answerable": None}
        intents = self.triage.config.intents
        fallback = self.triage.config.fallback_intent
        confident = not verdict.out_of_scope and verdict.intent != fallback \
            and verdict.confidence >= self.triage.config.auto_reply_threshold
        reason = None
        if verdict.intent in self.config.order_intents:
            reason = self.config.reason(" ".join(m.text for m in customers))
        question = " ".join(m.text for m in request.messages)[:QUESTION_CHARS]  # what triage read
        return {"urgency": verdict.urgency, "intent": verdict.intent, "issue_type": verdict.issue_type,
                "sentiment": verdict.sentiment, "confidence": verdict.confidence, "confident": confident,
                "answerable": intents[verdict.intent].answerable, "reason": reason, "question": question,
                "sla_minutes": verdict.sla_minutes}

    def _clock(self, record: ConversationRecord, messages: list[Timed], start: float, clock: BusinessClock,
               verdict: TriageResponse | None) -> dict[str, Any]:
        """First response and whether it came in time; who waits since when and until when; resolution."""
        reply = next((m for m in messages if m.human_agent and m.at >= start), None)
        sla = verdict.sla_minutes * 60 if verdict else None
        spoken = [m for m in messages if not m.automatic]
        last = spoken[-1] if spoken else messages[-1]
        status = record.status or ("resolved" if last.role == "agent" else "open")
        columns: dict[str, Any] = {"status": status, "last_role": last.role, "reply_due_at": None,
                                   "first_response_at": None, "first_response_seconds": None,
                                   "first_responder": None, "in_sla": None}
        if reply is not None:
            seconds = clock.elapsed(start, reply.at)
            columns.update(
                first_response_at=reply.at,
                first_response_seconds=seconds,
                first_responder=reply.author,
                in_sla=None if sla is None else seconds <= sla,
            )
        if last.role == "customer" and status == "open" and sla is not None:
            answered = [m.position for m in messages if m.human_agent]
            waiting = next(
                m for m in messages if m.role == "customer" and m.position > max(answered, default=-1)
            )
            columns["reply_due_at"] = clock.after(waiting.at, sla)
        resolved = epoch(record.resolved_at, self.config.zone) if record.resolved_at else None
        if status == "resolved":
            resolved = resolved or messages[-1].at
            columns.update(resolved_at=resolved, resolution_seconds=clock.elapsed(start, resolved))
        return columns

    def _promises(self, messages: list[Timed], status: str) -> dict[str, Any]:
        """Promises of a time, the ones the next update came after,
        and the deadline of one still waited on."""
        humans = [m for m in messages if m.human_agent]
        made = broken = 0
        open_due = None
        for index, message in enumerate(humans):
            seconds = self.config.promised_seconds(message.text)
            if seconds is None:
                continue
            made += 1
            due = message.at + seconds
            following = humans[index + 1] if index + 1 < len(humans) else None
            if following is not None:
                broken += following.at > due
            elif status == "open":
                open_due = due
        return {"promises": made, "broken_promises": broken, "promise_due_at": open_due}

    def _gap_vectors(self, results: list[Analysed]) -> None:
        """The embedding of every question triage was not sure of, to group the gaps by meaning."""
        gaps = [r for r in results if r.row.get("confident") is False and r.row.get("question")]
        if self.embedder is None or not gaps:
            return
        vectors = np.asarray(self.embedder.embed([r.row["question"] for r in gaps]), dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        for result, vector in zip(gaps, vectors, strict=True):
            result.row["vector"] = vector.astype(np.float16).tobytes()


class RepeatedChecks(GuardrailEngine):
    """The guardrail engine, remembering its verdicts: agents answer with saved messages, so the same text is
    checked in the same context over and over in an import."""

    SIZE = 50_000

    def __init__(self, engine: GuardrailEngine) -> None:
        super().__init__(engine.knowledge, engine.rules)
        self._verdicts: dict[tuple[str, str], CheckResult] = {}

    def check(self, text: str, context: CheckContext) -> CheckResult:
        key = (text, context.model_dump_json())
        found = self._verdicts.get(key)
        if found is None:
            if len(self._verdicts) >= self.SIZE:
                self._verdicts.clear()
            found = self._verdicts[key] = super().check(text, context)
        return found


def _primary(humans: list[Timed]) -> str | None:
    """The agent who wrote most of the conversation (the first to reply on a tie)."""
    counts = Counter(m.author for m in humans if m.author)
    if not counts:
        return None
    most = max(counts.values())
    return next(m.author for m in humans if m.author and counts[m.author] == most)


def _qa_columns(review: ConversationReview, steps: int) -> dict[str, Any]:
    return {
        "steps_covered": len(review.steps_covered),
        "steps_total": steps,
        "steps_missing": ",".join(review.steps_missing) or None,
        "in_order": review.in_order,
        "review_asked": review.review_asked,
        "qa_score": review.score,
        "violations": len(review.violations),
    }
