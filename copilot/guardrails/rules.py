"""The two rule families: a forbidden phrase (per sentence, with exceptions) and a required phrase."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from copilot.guardrails.models import CheckContext, Violation
from copilot.guardrails.packs import RuleSpec
from copilot.text import fold_preserving_length, sentences


@dataclass(frozen=True)
class PreparedText:
    """The text under check with its folded twin (same offsets) and its sentences, computed once."""

    raw: str
    folded: str

    @classmethod
    def of(cls, text: str) -> PreparedText:
        return cls(raw=text, folded=fold_preserving_length(text))

    def view(self, match: str) -> str:
        return self.folded if match == "folded" else self.raw


class Rule(Protocol):
    """`Rule.check(text, context) -> violations` is the guardrail seam."""

    spec: RuleSpec

    def check(self, text: PreparedText, context: CheckContext) -> list[Violation]: ...


def _compile(patterns: tuple[str, ...]) -> list[re.Pattern[str]]:
    return [re.compile(pattern, re.IGNORECASE) for pattern in patterns]


def _first_match(patterns: list[re.Pattern[str]], text: str) -> re.Match[str] | None:
    return next((m for p in patterns if (m := p.search(text))), None)


class ForbiddenPhraseRule:
    """Fires on a sentence that matches a pattern, unless an exception matches in the same sentence."""

    def __init__(self, spec: RuleSpec) -> None:
        self.spec = spec
        self._patterns = _compile(spec.patterns)
        self._unless = _compile(spec.unless)
        self._always = _compile(spec.always)

    def check(self, text: PreparedText, context: CheckContext) -> list[Violation]:
        if not self.spec.scope.applies(context):
            return []
        if self.spec.unless_said and context.said is None:
            return []
        view = text.view(self.spec.match)
        patterns = self._unsaid_patterns(context) if self.spec.unless_said else self._patterns
        violations = []
        for sentence in sentences(text.raw):
            part = view[sentence.start : sentence.end]
            hit = _first_match(self._always, part)
            if hit is None:
                hit = _first_match(patterns, part)
                if hit is None or any(u.search(part) for u in self._unless):
                    continue
            span = (sentence.start + hit.start(), sentence.start + hit.end())
            violations.append(self._violation(span, context))
        return violations

    def _unsaid_patterns(self, context: CheckContext) -> list[re.Pattern[str]]:
        """The patterns none of the conversation's messages matches (what it said may be said again); the
        messages are prepared once per check, not per sentence and pattern."""
        said = [PreparedText.of(message).view(self.spec.match) for message in context.said or ()]
        return [pattern for pattern in self._patterns if not any(pattern.search(m) for m in said)]

    def _violation(self, span: tuple[int, int], context: CheckContext) -> Violation:
        return Violation(rule=self.spec.id, severity=self.spec.severity,
                         message=self.spec.message_for(context.language), span=span)


class RequiredPhraseRule(ForbiddenPhraseRule):
    """Fires when no pattern matches anywhere in the text; the span points at the last sentence."""

    def check(self, text: PreparedText, context: CheckContext) -> list[Violation]:
        if not self.spec.scope.applies(context):
            return []
        if self.present(text):
            return []
        parts = sentences(text.raw)
        span = (parts[-1].start, parts[-1].end) if parts else (0, len(text.raw))
        return [self._violation(span, context)]

    def present(self, text: PreparedText) -> bool:
        """A sentence matches a pattern and no exception (a review mentioned, not asked for, does not
        count)."""
        view = text.view(self.spec.match)
        for sentence in sentences(text.raw):
            part = view[sentence.start : sentence.end]
            if _first_match(self._patterns, part) and not any(u.search(part) for u in self._unless):
                return True
        return False


def build_rule(spec: RuleSpec) -> Rule:
    return RequiredPhraseRule(spec) if spec.type == "required" else ForbiddenPhraseRule(spec)
