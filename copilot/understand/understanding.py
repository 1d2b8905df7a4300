"""The understanding stage: what the customer needs, whether the knowledge base surely answers it, and what
to ask when it does not; read once per conversation, for drafts and triage alike."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from copilot.cache import cached_embeddings
from copilot.compose.slots import SLOT
from copilot.contracts import Message
from copilot.knowledge import KnowledgeBase
from copilot.retrieval.embedders import Embedder
from copilot.text import words
from copilot.understand.address import address_form
from copilot.understand.conditions import ConditionReader, Told, load_condition_examples
from copilot.understand.config import (
    ANY,
    AnswersConfig,
    check_units_vocabulary,
    load_answer_examples,
    load_facet_examples,
)
from copilot.understand.directives import without_directives
from copilot.understand.facets import FacetReader
from copilot.understand.selector import AnswerSelector, Ranked, TextFeatures
from copilot.understand.units import AnswerUnit, answer_units
from copilot.yamlio import load_yaml_mapping

NeedReader = Callable[[str], "NeedReading | None"]
CANDIDATES = 3
STEP_HINTS = ("answer confidence", "need confidence", "upset", "details given", "details missing",
              "sure answer", "asks its details first", "sure answer already sent", "question to ask")
ALREADY_SENT = 0.6  # share of a reply's words found in one agent message: the reply was already sent
# a facet is sent when the customer's words are this much closer to it than to the main reply
FACET_MARGIN = 0.05


@dataclass(frozen=True)
class NeedReading:
    """The need model's reading of the customer's words (the triage intents)."""

    need: str
    confidence: float
    upset: bool = False


@dataclass(frozen=True)
class Understanding:
    """What a draft knows before it is written."""

    language: str
    need: str | None
    need_confidence: float
    answer: AnswerUnit | None
    confidence: float
    candidates: list[tuple[str, float]] = field(default_factory=list)
    question: str = ""
    condition: str | None = None
    upset: bool = False
    address: str | None = None
    reasons: list[str] = field(default_factory=list)
    facet: tuple[str, str] | None = None  # (question, reply) of the answer's facet the customer asks about
    told: dict[str, Told] = field(default_factory=dict)  # the conditions the conversation already states
    # the answer's ask-first message in the conversation's language, when the agent has not sent it yet
    ask_first: str = ""

    def reply(self) -> tuple[str, str] | None:
        """(heading, text) of what the answer sends: the unit's reply, led by the facet the customer asks
        about (the specific answer first, then the procedure the unit always gives)."""
        main = self.answer.reply(self.language) if self.answer is not None else None
        if main is None:
            return None
        return (main[0], f"{self.facet[1]} {main[1]}") if self.facet else main


class Understander:
    """Reads a conversation with the knowledge base's answer units, selector and answering vocabulary."""

    def __init__(self, knowledge: KnowledgeBase, embedder: Embedder | None, cache_dir: Path | None = None,
                 needs: NeedReader | None = None) -> None:
        self.config = AnswersConfig.load(knowledge.root)
        self.units = answer_units(knowledge.documents, knowledge.sections)
        vocabulary = [(u.path, u.when, u.needs) for u in self.units]
        check_units_vocabulary(self.config, vocabulary, _intents(knowledge.root))
        examples = load_answer_examples(knowledge.root, {unit.id for unit in self.units})
        labelled = [(e.text, e.answer) for e in examples]
        self.selector = AnswerSelector(self.units, labelled, embedder, cache_dir)
        facets = {unit.id: unit.facet_questions for unit in self.units}
        facet_examples = load_facet_examples(knowledge.root, facets)
        self.facets = FacetReader({unit.id: unit for unit in self.units},
                                  [(e.text, e.answer, e.facet) for e in facet_examples],
                                  TextFeatures(embedder, cache_dir, kind="facet-example-vectors"))
        self.needs = needs
        told_examples = load_condition_examples(knowledge.root, {name: c.values for name, c in
                                                                 self.config.conditions.items()})
        self.conditions = ConditionReader(told_examples, self.config.told_threshold)
        self._facet_vectors = _facet_vectors(self.units, embedder, cache_dir)

    def facet(self, unit: AnswerUnit, language: str, text: str) -> tuple[str, str] | None:
        """The unit's facet the customer's words are about: as its examples that name a facet taught, else
        the facet clearly closer to them than the main reply is."""
        if self.facets.knows(unit.id):
            return self.facets.read(unit, language, text) if text else None
        vectors = self._facet_vectors.get((unit.id, language))
        if vectors is None or self.selector.embedder is None or not text:
            return None
        scores = vectors @ np.asarray(self.selector.embedder.embed_query(text), dtype=np.float64)
        best = int(np.argmax(scores[1:])) + 1
        return unit.facets[language][best - 1] if scores[best] >= scores[0] + FACET_MARGIN else None

    @property
    def answers_from_units(self) -> bool:
        """False for a knowledge base without answer units: drafts then answer from retrieved passages."""
        return self.selector.model is not None

    def step_hints(self, u: Understanding) -> tuple[float, ...]:
        """What the reading tells the step model, named by no flow's steps (`STEP_HINTS`, in order): how sure
        the answer and the need are, whether the customer is upset, whether the conversation gives or lacks
        the details the answer needs, whether a sure answer is ready, asks its details first or was already
        sent, and whether there is a question to ask."""
        rule = self.config.ask_first
        told = u.told.get(rule.condition) if rule else None
        lacking = told is not None and rule is not None and told.value == rule.when
        sent_before = u.answer is None and u.confidence >= self.config.threshold and not u.question
        return (u.confidence, u.need_confidence, float(u.upset), float(told is not None and not lacking),
                float(lacking), float(u.answer is not None), float(bool(u.ask_first)), float(sent_before),
                float(bool(u.question)))

    def customer_text(self, messages: Sequence[Message]) -> str:
        customer = [m.text for m in messages if m.role == "customer"]
        return " ".join(without_directives(text) for text in customer[-self.config.recent_turns:]).strip()

    def read(self, messages: Sequence[Message], platform: str, language: str,
             customer_name: str | None = None) -> Understanding:
        """What the conversation needs and how the draft meets it: the unit that surely answers it, else a
        unit right whatever the conversation leaves open, else the question to ask."""
        text = self.customer_text(messages)
        told = self.conditions.read(messages)
        ranked = self.selector.rank(text, platform).given({name: t.value for name, t in told.items()})
        agent = [m.text for m in messages if m.role == "agent"]
        undecided = self._undecided(text, told, ranked, language, agent, customer_name)
        return (self._sure_answer(undecided, ranked, text, agent)
                or self._covering_answer(undecided, ranked, text, agent)
                or self._question(undecided, ranked))

    def _undecided(self, text: str, told: dict[str, Told], ranked: Ranked, language: str,
                   agent: list[str], customer_name: str | None) -> Understanding:
        """The reading before anything is chosen: the need, the candidates and the first reasons, no
        answer and no question."""
        reading = self.needs(text) if self.needs and text else None
        best = ranked.best
        need, need_confidence = _need(reading, best, self.config.threshold)
        return Understanding(
            language, need, need_confidence, None, best[1] if best else 0.0,
            [(unit.id, round(p, 3)) for unit, p in ranked.units[:CANDIDATES]],
            upset=bool(reading and reading.upset),
            address=address_form(self.config.address, agent, customer_name),
            reasons=_first_reasons(told, best, self.config.threshold), told=told,
        )

    def _sure_answer(self, undecided: Understanding, ranked: Ranked, text: str,
                     agent: list[str]) -> Understanding | None:
        """The likeliest unit when it reaches the threshold, led by the facet the customer asks about; held
        back (no answer) when the conversation already carries it. None under the threshold."""
        best = ranked.best
        if not best or undecided.confidence < self.config.threshold:
            return None
        unit = best[0]
        facet = self.facet(unit, undecided.language, text)
        reasons = [*undecided.reasons, f"the customer asks: {facet[0]}"] if facet else undecided.reasons
        if not (_sent(facet[1], agent) if facet else _already_sent(unit, agent)):
            return replace(undecided, answer=unit, reasons=reasons, facet=facet,
                           ask_first=self._ask_first(unit, undecided, agent))
        return replace(undecided, reasons=[*reasons, f"{unit.id} was already sent in this conversation"])

    def _ask_first(self, unit: AnswerUnit, undecided: Understanding, agent: list[str]) -> str:
        """The unit's ask-first message in the conversation's language; empty when it has none, the agent
        already asked it, or `ask_first` in answers.yaml names a condition the conversation does not state
        (the details are not read as missing)."""
        ask = unit.asks.get(undecided.language)
        rule = self.config.ask_first
        told = undecided.told.get(rule.condition) if rule else None
        if rule is not None and (told is None or told.value != rule.when):
            return ""
        return ask[1] if ask and not _sent(ask[1], agent) else ""

    def _covering_answer(self, undecided: Understanding, ranked: Ranked, text: str,
                         agent: list[str]) -> Understanding | None:
        """A unit right whatever the conversation leaves open, likely enough with the answers it covers and
        not sent yet; None when there is none."""
        covering = _covering(ranked, self.config.threshold)
        if covering is None or _already_sent(covering[0], agent):
            return None
        unit, mass = covering
        reason = (f"{unit.id} is right whatever the conversation leaves open; it and the answers it covers "
                  f"are together {mass:.2f} likely")
        return replace(undecided, answer=unit, confidence=mass, reasons=[*undecided.reasons, reason],
                       facet=self.facet(unit, undecided.language, text),
                       ask_first=self._ask_first(unit, undecided, agent))

    def _question(self, undecided: Understanding, ranked: Ranked) -> Understanding:
        """No answer: ask the condition the closest answers differ in, else the need's targeted question."""
        language, need = undecided.language, undecided.need
        condition = _telling_condition(ranked, self.config)
        if condition is None:
            return replace(undecided, question=self.config.question(need, language) if need else "")
        ask = self.config.conditions[condition].ask
        reason = f"the closest answers differ in '{condition}': ask it"
        return replace(undecided, question=ask.get(language) or ask.get("en", ""), condition=condition,
                       reasons=[*undecided.reasons, reason])


def _first_reasons(
    told: dict[str, Told], best: tuple[AnswerUnit, float] | None, threshold: float
) -> list[str]:
    """What the conversation told, and the likeliest answer against the threshold."""
    reasons = [f"the conversation says {name} is {t.value} ({t.probability:.2f}): {t.sentence!r}"
               for name, t in told.items()]
    if best:
        reasons.append(f"best answer {best[0].id} ({best[1]:.2f}, threshold {threshold})")
    return reasons


def _intents(root: Path) -> set[str]:
    """The team's needs: the intents of triage.yaml (none when the knowledge base has no triage table)."""
    path = root / "triage.yaml"
    intents = load_yaml_mapping(path).get("intents") if path.exists() else None
    return set(intents) if isinstance(intents, dict) else set()


def _need(reading: NeedReading | None, best: tuple[AnswerUnit, float] | None,
          threshold: float) -> tuple[str | None, float]:
    """The need: the need model's when it is fairly sure, else the most likely unit's first need."""
    if reading is not None and reading.confidence >= threshold:
        return reading.need, reading.confidence
    if best is not None and best[1] >= threshold / 2:
        return best[0].needs[0], best[1]
    return None, 0.0


def _covering(ranked: Ranked, threshold: float) -> tuple[AnswerUnit, float] | None:
    """One of the two most likely units, right under every value of a condition (`when: {name: any}`), whose
    probability with that of the units of the same need that hold under one value of it reaches the threshold.
    (A request for one order, where the general reply is only third, asks the condition instead.)"""
    for unit, p in ranked.units[:2]:
        open_conditions = {name for name, value in unit.when.items() if value == ANY}
        if not open_conditions:
            continue
        covered = sum(q for other, q in ranked.units
                      if other is not unit and set(other.needs) & set(unit.needs)
                      and _covers(unit, other, open_conditions))
        if p + covered >= threshold:
            return unit, p + covered
    return None


def _covers(general: AnswerUnit, other: AnswerUnit, open_conditions: set[str]) -> bool:
    """`other` holds under one value of the open conditions and agrees with `general` on the rest."""
    if not all(other.when.get(name) not in (None, ANY) for name in open_conditions):
        return False
    return all(other.when.get(name) == value
               for name, value in general.when.items() if name not in open_conditions)


def _telling_condition(ranked: Ranked, config: AnswersConfig) -> str | None:
    """The condition in which the two most likely units (together likely enough) differ, if any."""
    if len(ranked.units) < 2:
        return None
    (first, p1), (second, p2) = ranked.units[:2]
    if p1 + p2 < config.threshold or not set(first.needs) & set(second.needs):
        return None
    for name, value in first.when.items():
        if name in config.conditions and second.when.get(name, value) != value:
            return name
    return None


def _already_sent(unit: AnswerUnit, agent_texts: Sequence[str]) -> bool:
    """One of the agent's messages already carries most of the unit's reply (in any language)."""
    return any(_sent(reply, agent_texts) for _, reply in unit.replies.values())


def _sent(reply: str, agent_texts: Sequence[str]) -> bool:
    """One of the agent's messages already carries most of the reply's words."""
    reply_words = set(words(SLOT.sub("", reply)))
    return bool(reply_words) and any(len(reply_words & set(words(text))) >= ALREADY_SENT * len(reply_words)
                                     for text in agent_texts)


def _facet_vectors(units: Sequence[AnswerUnit], embedder: Embedder | None,
                   cache_dir: Path | None) -> dict[tuple[str, str], np.ndarray]:
    """Per unit and language with facets: the vectors of the main reply, then of each facet (question and
    reply), computed once (kept in the cache folder)."""
    if embedder is None:
        return {}
    keys, texts = [], []
    for unit in units:
        for language, facets in unit.facets.items():
            main = unit.reply(language)
            if main and facets:
                keys.append((unit.id, language, len(facets) + 1))
                texts.extend([main[1], *(f"{question}. {reply}" for question, reply in facets)])
    if not texts:
        return {}
    vectors = cached_embeddings(embedder, texts, cache_dir, kind="facet-vectors")
    found, at = {}, 0
    for unit_id, language, count in keys:
        found[(unit_id, language)] = vectors[at: at + count]
        at += count
    return found
