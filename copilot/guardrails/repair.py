"""Repairing a draft that broke a rule: fix what can be fixed in place, regenerate the rest, bounded.

Each rule names its repair in its pack: `append_template` (the review ask, taken from the flow's own
templates), `fill_slots` (placeholders), `drop_sentence`, or `regenerate` (the drafter writes again with the
violations as feedback). When regeneration is not possible or keeps failing, the offending sentences are
removed, so a draft that breaks a rule never leaves with `allowed: true`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from copilot.compose.slots import fill, slot_for
from copilot.flow.flows import FlowStep
from copilot.guardrails.engine import GuardrailEngine
from copilot.guardrails.models import CheckContext, CheckResult, Violation
from copilot.guardrails.packs import RuleSpec
from copilot.text import sentences

Regenerate = Callable[[str, list[Violation]], str | None]
MAX_ATTEMPTS = 2


@dataclass
class RepairOutcome:
    """The final text, its verdict, and what was done to get there (shown to the agent)."""

    text: str
    result: CheckResult
    repairs: list[str] = field(default_factory=list)


class Repairer:
    """Applies each rule's repair action until the text passes or the attempts run out."""

    def __init__(self, engine: GuardrailEngine, max_attempts: int = MAX_ATTEMPTS) -> None:
        self.engine = engine
        self.max_attempts = max_attempts

    def repair(
        self, text: str, context: CheckContext, slots: dict[str, str], step: FlowStep | None = None,
        regenerate: Regenerate | None = None,
    ) -> RepairOutcome:
        outcome = RepairOutcome(text=text, result=self.engine.check(text, context))
        for _ in range(self.max_attempts):
            if outcome.result.allowed:
                return outcome
            outcome.text = self._repair_in_place(outcome, context, slots, step)
            outcome.result = self.engine.check(outcome.text, context)
            blocking = [v for v in outcome.result.violations if v.severity == "block"]
            if blocking and regenerate is not None:
                regenerated = regenerate(outcome.text, blocking)
                if regenerated:
                    outcome.text = regenerated
                    rules = ", ".join(sorted({v.rule for v in blocking}))
                    outcome.repairs.append(f"rewrote the draft: {rules}")
                    outcome.result = self.engine.check(outcome.text, context)
        if not outcome.result.allowed:
            outcome.text = self._drop_blocking(outcome, context, slots, step)
        return outcome

    def _repair_in_place(
        self, outcome: RepairOutcome, context: CheckContext, slots: dict[str, str], step: FlowStep | None
    ) -> str:
        text = outcome.text
        for rule_id in dict.fromkeys(v.rule for v in outcome.result.violations if v.severity == "block"):
            action = self.engine.rule(rule_id).spec.repair
            if action == "fill_slots":
                text = self._fill_placeholders(text, self.engine.rule(rule_id).spec, slots, outcome)
            elif action == "append_template" and step is not None:
                text = self._append_review_ask(text, step, context.language, slots, outcome)
        return text

    def _fill_placeholders(
        self, text: str, spec: RuleSpec, slots: dict[str, str], outcome: RepairOutcome
    ) -> str:
        """Fill each placeholder from the request; a sentence whose placeholder cannot be filled is
        removed."""
        for pattern in spec.patterns:
            for match in reversed(list(re.finditer(pattern, text, re.IGNORECASE))):
                slot = slot_for(match.group(0), self.engine.knowledge.slot_words)
                value = slots.get(slot, "") if slot else ""
                if value:
                    text = text[: match.start()] + value + text[match.end() :]
                    outcome.repairs.append(f"filled {match.group(0)} with the {slot}")
                else:
                    text = _without_sentence_at(text, match.start())
                    outcome.repairs.append(f"removed the sentence with {match.group(0)} (no value known)")
        return text

    def _append_review_ask(
        self, text: str, step: FlowStep, language: str, slots: dict[str, str], outcome: RepairOutcome
    ) -> str:
        ask = self.review_ask_line(step, language, slots)
        if ask is None:
            return text
        outcome.repairs.append("appended the review ask from the flow's template")
        return f"{text.rstrip()} {ask}".strip()

    def review_ask_line(self, step: FlowStep, language: str, slots: dict[str, str]) -> str | None:
        """The first sentence of the step's templates (in `language`) that asks for a review, slots filled."""
        for template in step.templates.get(language, ()) or next(iter(step.templates.values()), ()):
            for sentence in sentences(template):
                if self.engine.asks_for_review(sentence.text):
                    filled = fill(sentence.text, slots)
                    if filled:
                        return filled
        return None

    def _drop_blocking(
        self, outcome: RepairOutcome, context: CheckContext, slots: dict[str, str], step: FlowStep | None
    ) -> str:
        """Last resort: remove every sentence holding a blocking violation (a phrase a required rule misses
        cannot be removed: it is appended)."""
        spans = [v.span for v in outcome.result.violations
                 if v.severity == "block" and v.rule not in self.engine.required]
        kept = [s.text for s in sentences(outcome.text) if not any(s.start <= a < s.end for a, _ in spans)]
        if len(kept) < len(sentences(outcome.text)):
            outcome.repairs.append("removed the sentences that broke a rule")
        text = " ".join(kept)
        if step is not None and step.review_ask and not self.engine.asks_for_review(text):
            text = self._append_review_ask(text, step, context.language, slots, outcome)
        outcome.result = self.engine.check(text, context)
        return text


def _without_sentence_at(text: str, offset: int) -> str:
    return " ".join(s.text for s in sentences(text) if not s.start <= offset < s.end)
