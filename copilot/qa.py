"""QA mode: score human agents' finished conversations for flow compliance, like a helpdesk's automatic QA.

Each conversation gets the steps its agent messages performed, whether they came in the flow's order,
whether the last agent message asked for a review, the rule violations of each agent message, and a score
out of 100 weighted by the knowledge folder's `review.yaml` (`qa`: by default 50 for step coverage, 20 for
order, 15 for the review ask at the end, 15 for clean messages, minus 5 per blocking violation).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from copilot.contracts import MAX_MESSAGES, Agent, Customer, Message
from copilot.errors import DatasetError
from copilot.flow.tracker import StepTracker, without_names
from copilot.guardrails.engine import GuardrailEngine
from copilot.guardrails.models import Violation
from copilot.knowledge import KnowledgeBase
from copilot.review.config import QAWeights
from copilot.understand.language import detect_language


class Transcript(BaseModel):
    """One finished conversation between a customer and a human agent."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    platform: str = "livechat"
    flow: str = "livechat"
    customer: Customer = Field(default_factory=Customer)
    agent: Agent = Field(default_factory=Agent)
    messages: list[Message] = Field(min_length=1, max_length=MAX_MESSAGES)


@dataclass
class MessageReview:
    index: int
    steps: list[str]
    violations: list[Violation]


@dataclass
class ConversationReview:
    id: str
    steps_covered: list[str]
    steps_missing: list[str]
    in_order: bool
    review_asked: bool
    messages: list[MessageReview] = field(default_factory=list)
    score: float = 0.0

    @property
    def violations(self) -> list[Violation]:
        return [v for message in self.messages for v in message.violations]


def review_conversation(
    transcript: Transcript,
    tracker: StepTracker,
    guardrails: GuardrailEngine,
    weights: QAWeights | None = None,
) -> ConversationReview:
    flow = tracker.flow
    names = [n for n in (transcript.customer.name, transcript.agent.name, transcript.agent.brand) if n]
    language = detect_language([m.text for m in transcript.messages if m.role == "customer"])
    reviews: list[MessageReview] = []
    covered: list[str] = []
    furthest = -1
    for index, message in enumerate(transcript.messages):
        if message.role != "agent":
            continue
        steps = list(tracker.performed(without_names(message.text, names), furthest))
        furthest = max([furthest, *(flow.step_ids.index(s) for s in steps)])
        covered.extend(s for s in steps if s not in covered)
        step = steps[-1] if steps else None
        context = guardrails.context(message.text, transcript.platform, flow.id, step, language)
        context = context.model_copy(update={"review_ask_required": False})
        reviews.append(MessageReview(index, steps, guardrails.check(message.text, context).violations))
    last_agent = next((m.text for m in reversed(transcript.messages) if m.role == "agent"), "")
    order = [flow.step_ids.index(s) for s in covered]
    review = ConversationReview(
        id=transcript.id, steps_covered=covered, steps_missing=[s for s in flow.step_ids if s not in covered],
        in_order=order == sorted(order), review_asked=guardrails.asks_for_review(last_agent),
        messages=reviews,
    )
    review.score = _score(review, len(flow.step_ids), weights or QAWeights())
    return review


def _score(review: ConversationReview, steps: int, weights: QAWeights) -> float:
    blocking = sum(v.severity == "block" for v in review.violations)
    score = weights.steps * len(review.steps_covered) / steps + weights.order * review.in_order
    clean = max(0.0, weights.clean - weights.per_blocking * blocking)
    score += weights.review_ask * review.review_asked + clean
    return round(score, 1)


def summarise(reviews: list[ConversationReview], step_ids: list[str]) -> dict[str, object]:
    """Team-level numbers: average score, review-ask rate, violations by rule, most missed steps."""
    count = max(len(reviews), 1)
    rules = Counter(v.rule for r in reviews for v in r.violations)
    missed = Counter(s for r in reviews for s in r.steps_missing)
    return {
        "conversations": len(reviews),
        "average_score": round(sum(r.score for r in reviews) / count, 1),
        "review_ask_rate": round(sum(r.review_asked for r in reviews) / count, 3),
        "in_order_rate": round(sum(r.in_order for r in reviews) / count, 3),
        "violations_by_rule": dict(rules.most_common()),
        "missed_steps": {s: missed[s] for s in step_ids if missed[s]},
    }


def steps_of(transcripts: list[Transcript], knowledge: KnowledgeBase) -> list[str]:
    """The steps of every flow the transcripts follow, in flow order (for the summary's missed steps)."""
    return list(dict.fromkeys(step for t in transcripts for step in knowledge.flows[t.flow].step_ids))


def load_transcripts(path: Path, knowledge: KnowledgeBase) -> list[Transcript]:
    """Transcripts of a JSONL file; a bad line is named with its number and field."""
    transcripts = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DatasetError(path, 0, f"cannot be read ({exc.strerror})") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            transcript = Transcript.model_validate_json(line)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(p) for p in error["loc"]) or None
            raise DatasetError(path, number, str(error["msg"]), where) from exc
        if transcript.platform not in knowledge.platforms:
            raise DatasetError(path, number, f"unknown platform '{transcript.platform}'", "platform")
        if transcript.flow not in knowledge.flows:
            raise DatasetError(path, number, f"unknown flow '{transcript.flow}'", "flow")
        transcripts.append(transcript)
    return transcripts
