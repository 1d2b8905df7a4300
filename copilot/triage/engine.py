"""First-line triage: urgency, issue type, intent, sentiment, route, service level, and reply-or-handoff.

Every decision comes from `knowledge/triage.yaml` (intents with patterns and exemplars, urgency rules, routing
and SLA tables) and carries its reasons. The bot answers alone only when the intent is one a policy answers,
nothing calls for a human, and it is confident; otherwise `handoff` is true and the customer is told the wait.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError

from copilot import pipeline
from copilot.compose import prompts
from copilot.compose.base import ChatModelError
from copilot.compose.slots import NO_WORDS, SlotWords, write_around_slots
from copilot.contracts import Agent, DraftRequest, DraftResponse
from copilot.errors import InvalidRequestError
from copilot.retrieval.embedders import Embedder
from copilot.text import fold
from copilot.triage.config import TriageConfig, UrgencyRule
from copilot.triage.contracts import AutoReply, LLMTriage, TriageRequest, TriageResponse
from copilot.triage.model import FIELDS, IssueType, Reading, Sentiment, TriageExample, Urgency, fitted_model
from copilot.understand.directives import without_directives
from copilot.understand.language import detect_language
from copilot.understand.pii import NO_ADDRESSES, AddressWords, PiiMasker

log = logging.getLogger(__name__)
LEVELS: tuple[Urgency, ...] = ("low", "medium", "high", "urgent")
SENTENCE_ENDS = (".", "!", "?", "\n", ";")


@dataclass(frozen=True)
class IntentGuess:
    intent: str
    confidence: float
    out_of_scope: bool = False
    reason: str = ""


Drafter = Callable[[DraftRequest], DraftResponse]
JsonModel = Callable[[list[dict[str, str]]], dict[str, Any]]


@dataclass(frozen=True)
class TriageReading:
    """What the message says, before rules and tables: from the LLM when it answered, else the local model."""

    intent: IntentGuess
    urgency: Reading | None
    issue_type: Reading | None
    sentiment: Reading | None
    source: str


class TriageEngine:
    """Classifies, routes and decides reply-or-handoff for one knowledge base."""

    def __init__(self, config: TriageConfig, platforms: dict[str, bool], embedder: Embedder | None,
                 drafter: Drafter | None, llm: JsonModel | None = None,
                 examples: Sequence[TriageExample] = (), cache_dir: Path | None = None,
                 words: SlotWords = NO_WORDS, addresses: AddressWords = NO_ADDRESSES,
                 answers: Mapping[str, Sequence[str]] | None = None) -> None:
        self.config = config
        # per document id, the needs its front matter says it answers: a reply from one is sent only for them
        self.answers = answers or {}
        self.words = words  # what a missing slot may not leave behind in the thanks and holding messages
        self.addresses = addresses  # what is masked as an address before the message goes to the LLM
        self.marketplaces = {name for name, marketplace in platforms.items() if marketplace}
        self.platforms = set(platforms)
        labelled = [(e.text, e.model_dump(include=set(FIELDS))) for e in examples] + config.examples()
        rejects = config.out_of_scope.rejects if config.out_of_scope else None
        self.model = fitted_model(labelled, embedder, cache_dir, rejects, config.names())
        self.drafter = drafter
        self.llm = llm
        self._intent_patterns = {
            name: [re.compile(p) for p in i.patterns] for name, i in config.intents.items()
        }
        self._rules = [_CompiledRule.compile(rule) for rule in config.urgency_rules]
        self._repeat = [re.compile(p) for p in config.repeat_contact]
        self._sentiment = {k: [re.compile(p) for p in v] for k, v in config.sentiment.items()}

    def triage(self, request: TriageRequest) -> TriageResponse:
        return pipeline.triage(self, request)

    def classify(self, requests: Sequence[TriageRequest]) -> list[TriageResponse]:
        """Triage many conversations at once with the local model, drafting no answer (`auto_reply` is null):
        what the weekly review keeps for each imported conversation (no call to a language model)."""
        read = [self.asked(request) for request in requests]
        readings = self.model.read_many([asked for _, asked in read])
        responses: list[TriageResponse] = []
        for request, (texts, asked), found in zip(requests, read, readings, strict=True):
            reading = self._local_reading(asked, fold(asked), found)
            responses.append(self.respond(request, self.decide(request, texts, reading)))
        return responses

    def asked(self, request: TriageRequest) -> tuple[list[str], str]:
        """The customer's messages, and what they ask: the model reads that, not instructions aimed at the bot
        (the rules read everything)."""
        if request.platform not in self.platforms:
            known = ", ".join(sorted(self.platforms))
            raise InvalidRequestError(f"unknown platform '{request.platform}'; known: {known}")
        texts = [m.text for m in request.messages if m.role == "customer"] or [request.messages[-1].text]
        return texts, " ".join(without_directives(text) for text in texts).strip() or " ".join(texts)

    def read(self, asked: str) -> TriageReading:
        """What the customer needs, how urgent and in what tone: the LLM's reading when one is configured and
        answers validly, else the local model's."""
        return self._read(asked, fold(asked))

    def decide(self, request: TriageRequest, texts: list[str], reading: TriageReading) -> TriageDecision:
        """Urgency, issue type, route and whether a person must answer, each with its reason."""
        folded = fold(" ".join(texts))
        guess = reading.intent
        intent = self.config.intents[guess.intent]
        issue_type = cast(IssueType, reading.issue_type.label if reading.issue_type else intent.issue_type)
        language, sentiment = detect_language(texts), self._sentiment_of(reading, folded)
        decision = TriageDecision(guess, language, sentiment, issue_type, reading.source)
        if guess.out_of_scope:
            decision.reasons.append(guess.reason)
            decision.handoff("none of the team's needs: a person answers")
        self._urgency(decision, reading, folded)
        self._escalations(decision, request)
        self._not_an_idea_when_pressing(decision, reading)
        decision.route = decision.route or self._route(decision.issue_type, guess.intent, request.platform)
        if decision.escalate:
            decision.route = self.config.routing.escalate.get(decision.route, decision.route)
        decision.thanks = self._thanks(request, decision)
        if not intent.answerable and decision.thanks is None:
            decision.handoff(f"no policy answers '{guess.intent}' on its own: a person must check")
        threshold = self.config.auto_reply_threshold
        if guess.confidence < threshold:
            decision.handoff(f"intent confidence {guess.confidence:.2f} is under {threshold}")
        return decision

    def reply(self, request: TriageRequest, decision: TriageDecision) -> AutoReply | None:
        """What the bot sends alone: the thanks, else a cited answer from policy; None when a person
        answers."""
        if decision.needs_human:
            return None
        return decision.thanks or self._answer(request, decision)

    def respond(self, request: TriageRequest, decision: TriageDecision,
                auto_reply: AutoReply | None = None) -> TriageResponse:
        guess, language = decision.guess, decision.language
        return TriageResponse(
            urgency=decision.urgency, issue_type=decision.issue_type, intent=guess.intent,
            sentiment=decision.sentiment, customer_tier=request.customer.tier, language=language,
            route=decision.route, handoff=decision.needs_human,
            sla_minutes=self._sla(request.platform, decision.urgency),
            auto_reply=auto_reply, confidence=guess.confidence, reasons=decision.reasons,
            out_of_scope=guess.out_of_scope,
            holding_message=self._holding(request, decision) if decision.needs_human else None,
        )

    def _read(self, text: str, folded: str) -> TriageReading:
        """The LLM's intent, urgency and sentiment when one is configured and answers validly; else local."""
        local = self._local(text, folded)
        if self.llm is None:
            return local
        intents = ", ".join(self.config.intents)
        prompt = prompts.render("triage", intents=intents, message=PiiMasker(self.addresses).mask(text))
        try:
            answer = self.llm([{"role": "user", "content": prompt}])
            view = LLMTriage.model_validate(answer)
        except (ChatModelError, ValidationError) as exc:
            # the error's text may quote the model's answer, which may quote the customer: log its kind only
            log.warning("LLM triage failed (%s), using local classification", type(exc).__name__)
            return local
        if view.intent not in self.config.intents:
            log.warning("LLM triage named an unknown intent, using local classification")
            return local
        return TriageReading(IntentGuess(view.intent, view.confidence),
                             Reading(view.urgency, view.confidence, {}), None,
                             Reading(view.sentiment, view.confidence, {}), "language model")

    def _local(self, text: str, folded: str) -> TriageReading:
        return self._local_reading(text, folded, self.model.read(text))

    def _local_reading(self, text: str, folded: str, readings: dict[str, Reading]) -> TriageReading:
        guess = self._guess(readings["intent"]) if "intent" in readings else self._matched_intent(folded)
        return TriageReading(guess, readings.get("urgency"), readings.get("issue_type"),
                             readings.get("sentiment"), "local model")

    def _matched_intent(self, folded: str) -> IntentGuess:
        """Without an intent model: the first intent one of whose patterns matches, else the fallback."""
        for name, patterns in self._intent_patterns.items():
            if any(p.search(folded) for p in patterns):
                return IntentGuess(name, 0.5)
        return IntentGuess(self.config.fallback_intent, 0.0)

    def _guess(self, intent: Reading) -> IntentGuess:
        """The intent read, or the fallback intent when the message is none of the intents (with the
        reason)."""
        if not intent.out_of_scope or self.config.out_of_scope is None:
            return IntentGuess(intent.label, round(intent.probability, 3))
        fallback = self.config.fallback_intent
        reason = (f"out of scope: the closest intent, {intent.label}, scores {intent.scope:.2f}, under the "
                  f"threshold {self.model.scope_threshold:.2f}; read as {fallback}")
        return IntentGuess(fallback, round(intent.probability, 3), True, reason)

    def _sentiment_of(self, reading: TriageReading, folded: str) -> Sentiment:
        if any(p.search(folded) for p in self._repeat):
            return "negative"
        if reading.sentiment is not None:
            return cast(Sentiment, reading.sentiment.label)
        if any(p.search(folded) for p in self._sentiment.get("negative", [])):
            return "negative"
        if any(p.search(folded) for p in self._sentiment.get("positive", [])):
            return "positive"
        return "neutral"

    def _urgency(self, decision: TriageDecision, reading: TriageReading, folded: str) -> None:
        """The reading's level, raised by every matching rule (the first sets the team) and by a repeat
        contact."""
        if reading.urgency is not None:
            label, probability = reading.urgency.label, reading.urgency.probability
            decision.urgency = cast(Urgency, label)
            decision.reasons.append(f"the message reads as {label} ({probability:.2f})")
        else:
            decision.urgency = "medium"
        if decision.issue_type in self.config.feedback_issue_types and decision.urgency == "medium":
            decision.urgency = "low"  # triage-categories: ideas, feedback and compliments are low
            decision.reasons.append("an idea, feedback or a compliment: low")
        for compiled in self._rules:
            rule = compiled.rule
            match = compiled.first_report(folded)
            if match:
                decision.raise_to(rule.level, f"{rule.reason} ('{match.group(0)}')")
                decision.route = decision.route or rule.route or ""
                if rule.handoff:
                    decision.handoff(rule.reason)
        if any(p.search(folded) for p in self._repeat):
            # The model was taught "writing again" one level above the issue itself; a repeat is at
            # least high.
            decision.raise_to("high", "repeated contact about the same issue")
            decision.handoff("repeated contact: escalate one level")
            decision.escalate = True

    def _escalations(self, decision: TriageDecision, request: TriageRequest) -> None:
        """A customer of a senior tier (`senior` in triage.yaml: VIP) with a problem (something broken or
        wrong, or upset; not a plain question) goes senior."""
        senior = self.config.senior
        problem = (decision.issue_type in senior.problems or decision.sentiment == "negative"
                   or decision.urgency != "medium")
        if request.customer.tier in senior.tiers and problem and decision.urgency != "low":
            tier = request.customer.tier
            decision.raise_to("high", f"a '{tier}' customer with a problem")
            decision.handoff(f"a '{tier}' customer with a problem: senior level")
            decision.route = decision.route or self.config.routing.vip_problem or ""
        if decision.urgency in ("urgent", "high"):
            decision.handoff(
                f"urgency {decision.urgency}: the bot answers alone only medium and low questions"
            )

    def _not_an_idea_when_pressing(self, decision: TriageDecision, reading: TriageReading) -> None:
        """Ideas, feedback and compliments (`feedback_issue_types`) are low (triage-categories); a message
        that is high or urgent is not one ("thanks for nothing, still broken after a week!!"): it takes the
        next most likely issue type."""
        feedback = self.config.feedback_issue_types
        if decision.issue_type not in feedback or decision.urgency not in ("high", "urgent") \
                or reading.issue_type is None:
            return
        others = {label: p for label, p in reading.issue_type.probabilities.items() if label not in feedback}
        if others:
            decision.issue_type = cast(IssueType, max(others, key=lambda label: others[label]))
            reason = f"{decision.urgency} is not an idea or a compliment: {decision.issue_type}"
            decision.reasons.append(reason)

    def _route(self, issue_type: str, intent: str, platform: str) -> str:
        routing = self.config.routing
        if intent in routing.by_intent:
            return routing.by_intent[intent]
        if platform in self.marketplaces and issue_type in routing.marketplace_by_issue_type:
            return routing.marketplace_by_issue_type[issue_type]
        return routing.by_issue_type.get(issue_type, routing.default)

    def _sla(self, platform: str, urgency: Urgency) -> int:
        channel = self.config.sla_channel.get(platform, "chat")
        return self.config.sla_minutes[channel][urgency]

    def _answer(self, request: TriageRequest, decision: TriageDecision) -> AutoReply | None:
        """A cited answer from policy, through the drafting pipeline and its guardrails; None hands off."""
        if self.drafter is None:
            decision.handoff("no drafter to answer with")
            return None
        bot = self.config.bot
        agent = Agent(name=bot.get("name") or None, brand=bot.get("brand") or None)
        draft = self.drafter(DraftRequest(platform=request.platform, customer=request.customer, agent=agent,
                                          messages=request.messages, step=self.config.answer_step))
        if not draft.guardrails.allowed or not draft.citations:
            decision.handoff("no passage of the knowledge base answers it safely")
            return None
        line, answer = self.config.answer_threshold, draft.answer
        if line is not None and answer is not None and answer.confidence < line:
            decision.handoff(f"{answer.id} is {answer.confidence:.2f} likely; the bot sends alone at {line}")
            return None
        sent = draft.citations[0].id
        needs = self.answers.get(sent, ())
        if needs and decision.guess.intent not in needs:
            decision.handoff(f"{sent} answers {', '.join(needs)}, not {decision.guess.intent}")
            return None
        decision.reasons.append(f"answered from {', '.join(c.id for c in draft.citations)}")
        return AutoReply(text=draft.draft, citations=draft.citations)

    def _thanks(self, request: TriageRequest, decision: TriageDecision) -> AutoReply | None:
        """Thanks or a compliment with nothing to do (read as low-urgency feedback, not upset): the bot thanks
        the customer with `thanks_message` instead of calling a person."""
        thanks = self.config.thanks_message
        template = thanks.get(decision.language) or thanks.get("en")
        if template is None or decision.needs_human or decision.sentiment == "negative":
            return None
        if decision.issue_type not in self.config.feedback_issue_types or decision.urgency != "low":
            return None
        decision.reasons.append("thanks or feedback with nothing to do: the bot thanks the customer")
        name = {"customer_name": request.customer.name or ""}
        return AutoReply(text=write_around_slots(template, name, self.words), citations=[])

    def _holding(self, request: TriageRequest, decision: TriageDecision) -> str:
        minutes, language = self._sla(request.platform, decision.urgency), decision.language
        words = self.config.wait_words.get(language) or self.config.wait_words["en"]
        wait = (words["hours"].format(n=minutes // 60) if minutes >= 120
                else words["minutes"].format(n=minutes))
        template = self.config.holding_message.get(language) or self.config.holding_message["en"]
        values = {"customer_name": request.customer.name or ""}
        return write_around_slots(template.replace("{wait}", wait), values, self.words)


@dataclass(frozen=True)
class _CompiledRule:
    rule: UrgencyRule
    patterns: list[re.Pattern[str]]
    not_after: list[re.Pattern[str]]

    @classmethod
    def compile(cls, rule: UrgencyRule) -> _CompiledRule:
        return cls(rule, [re.compile(p) for p in rule.patterns], [re.compile(p) for p in rule.not_after])

    def first_report(self, folded: str) -> re.Match[str] | None:
        """The first match that is not preceded, in its sentence, by one of the rule's hypothetical
        markers."""
        for pattern in self.patterns:
            for match in pattern.finditer(folded):
                start = max(folded.rfind(mark, 0, match.start()) for mark in SENTENCE_ENDS) + 1
                before = folded[start:match.start()]
                if not any(marker.search(before) for marker in self.not_after):
                    return match
        return None


class TriageDecision:
    """The triage decision as it is built, with its reasons."""

    def __init__(self, guess: IntentGuess, language: str, sentiment: Sentiment, issue_type: IssueType,
                 source: str) -> None:
        self.guess = guess
        self.language = language
        self.sentiment: Sentiment = sentiment
        self.issue_type: IssueType = issue_type
        self.urgency: Urgency = "medium"
        self.route = ""  # set by a rule, else by the routing table
        self.needs_human = False
        self.escalate = False
        self.thanks: AutoReply | None = None
        self.reasons = [f"intent {guess.intent} ({guess.confidence:.2f}, {source})"]

    def raise_to(self, level: Urgency, reason: str) -> None:
        if LEVELS.index(level) > LEVELS.index(self.urgency):
            self.urgency = level
            self.reasons.append(f"{reason}: {level}")

    def handoff(self, reason: str) -> None:
        if not self.needs_human:
            self.reasons.append(f"handoff: {reason}")
        self.needs_human = True
