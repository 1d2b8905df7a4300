"""The guardrail engine: which rules apply to a text, given its platform, flow and step, and what they
find."""

from __future__ import annotations

from collections.abc import Sequence

from copilot.errors import KnowledgeError
from copilot.guardrails.models import CheckContext, CheckResult
from copilot.guardrails.packs import load_rule_specs
from copilot.guardrails.rules import PreparedText, RequiredPhraseRule, Rule, build_rule
from copilot.knowledge import KnowledgeBase
from copilot.understand.language import detect_language


class GuardrailEngine:
    """Runs every rule of the knowledge base's rule packs over a text."""

    def __init__(self, knowledge: KnowledgeBase, rules: list[Rule]) -> None:
        self.knowledge = knowledge
        self.rules = rules
        # the review-ask rules: the required rules a pack scopes to the review-ask steps, whatever their ids
        self.review_asks = [rule for rule in rules if isinstance(rule, RequiredPhraseRule)
                            and rule.spec.scope.steps == "review_ask"]
        self.required = {rule.spec.id for rule in rules if rule.spec.type == "required"}

    @classmethod
    def from_knowledge(cls, knowledge: KnowledgeBase) -> GuardrailEngine:
        steps = {step.id for flow in knowledge.flows.values() for step in flow.steps}
        rules_dir = knowledge.root / "rules"
        if not rules_dir.is_dir():
            raise KnowledgeError(
                rules_dir, "missing: the guardrail rule packs live in knowledge/rules/*.yaml"
            )
        specs = load_rule_specs(rules_dir, set(knowledge.platforms), steps)
        return cls(knowledge, [build_rule(spec) for spec in specs])

    def context(
        self, text: str, platform: str = "livechat", flow: str = "livechat", step: str | None = None,
        language: str = "auto", said: Sequence[str] | None = None,
    ) -> CheckContext:
        """Resolve what the platform and the flow's step imply; unknown values are named. `said`: the
        conversation's messages before a draft (None for a text whose conversation is not known)."""
        resolved_flow = self.knowledge.resolve(platform, flow, step)
        review_ask = step is not None and resolved_flow.step(step).review_ask
        resolved = detect_language([text]) if language == "auto" else language
        marketplace = self.knowledge.platforms[platform].marketplace
        return CheckContext(platform=platform, flow=flow, step=step, language=resolved,
                            review_ask_required=review_ask, marketplace=marketplace,
                            said=None if said is None else tuple(said))

    def check(self, text: str, context: CheckContext) -> CheckResult:
        prepared = PreparedText.of(text)
        return CheckResult.of([v for rule in self.rules for v in rule.check(prepared, context)])

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.spec.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def asks_for_review(self, text: str) -> bool:
        """Whether `text` contains a review ask: what a required rule of the review-ask steps (`scope: {steps:
        review_ask}` in a rule pack, whatever its id) looks for."""
        prepared = PreparedText.of(text)
        return any(rule.present(prepared) for rule in self.review_asks)
