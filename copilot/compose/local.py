"""The local composer: drafts with no network, from the step's templates and the retrieved passages.

At steps that need knowledge it takes the customer-facing lines of the best retrieved document (its reply or
example-line sections, never its "don't say" ones) in the customer's language; elsewhere it uses the
step's templates. Slots are filled from the request; a slot with no value is written around, never left.
It never writes what the customer typed: only the knowledge base's lines and the request's names, and a
customer name that carries an instruction or contact details (a display name the customer chose) is left out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from copilot.compose.base import ChatModelError, Completion, DraftContext, DraftPrompt, words_of
from copilot.compose.slots import NO_WORDS, SlotWords, fill, write_around_slots
from copilot.knowledge import Sections
from copilot.retrieval.chunking import Chunk
from copilot.text import sentences, words
from copilot.understand.directives import without_directives
from copilot.understand.language import detect_language

_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")
_QUOTES = "\"“”'‘’"
LinesOf = Callable[[Chunk, str, Sections], list[str]]  # a passage's sendable lines in a language
# A phone or account number, an e-mail, a link: not part of a person's name.
_CONTACT = re.compile(r"\d[\d .-]{4,}\d|@|https?://|www\.", re.IGNORECASE)


class LocalComposer:
    """The default `ChatModel`: deterministic, offline, grounded in the knowledge base. `sections`: which
    document sections it may send (the knowledge base's `sections.yaml`); `words`: what a missing slot may not
    leave behind (its `language.yaml`)."""

    name = "local"
    can_stream = False
    supports_json = False

    def __init__(self, sections: Sections | None = None, words: SlotWords = NO_WORDS) -> None:
        self.sections = sections or Sections()
        self.words = words

    def complete_json(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        raise ChatModelError("the local composer writes replies, not JSON answers")

    def complete(self, prompt: DraftPrompt) -> Completion:
        context = replace(prompt.context, slots=usable_slots(prompt.context.slots))
        if context.plan is not None:
            return self._from_plan(context)
        if context.step.knowledge and not context.feedback:
            grounded = self._from_passages(context)
            if grounded is not None:
                return grounded
        text = self.from_templates(context)
        if not text and context.step.knowledge:  # a team's own flow and documents, without ready replies
            answered = self._from_faq(context)
            if answered is not None:
                return answered
        return Completion(text=text, model=self.name)

    def stream(self, prompt: DraftPrompt) -> Iterator[str]:
        return words_of(self.complete(prompt).text)

    def from_templates(self, context: DraftContext) -> str:
        """A template of the step in the customer's language, rotated by `variant`, slots filled."""
        by_language = context.step.templates
        templates = by_language.get(context.language) or next(iter(by_language.values()), ())
        if not templates:
            return ""
        ordered = [templates[(context.variant + i) % len(templates)] for i in range(len(templates))]
        for template in ordered:
            filled = fill(template, context.slots)
            if filled is not None:
                return filled
        return write_around_slots(ordered[0], context.slots, self.words)

    def _from_plan(self, context: DraftContext) -> Completion:
        """Each act of the plan in order: its fixed text (the answer, the question) or its step's template. A
        rewrite after a rule was broken keeps the acts but takes templates instead of the answer."""
        assert context.plan is not None
        texts: list[str] = []
        used: list[int] = []
        for part in context.plan.parts:
            if part.text and not (part.answer and context.feedback):
                texts.append(write_around_slots(part.text, context.slots, self.words))
                used += [0] if part.answer or part.cites else []
            else:
                texts.append(self.from_templates(replace(context, step=part.step)))
        return Completion(text=" ".join(text for text in texts if text), model=self.name, passages=used)

    def _from_passages(self, context: DraftContext) -> Completion | None:
        return self._first_answer(context, customer_lines)

    def _from_faq(self, context: DraftContext) -> Completion | None:
        return self._first_answer(context, faq_lines)

    def _first_answer(self, context: DraftContext, lines_of: LinesOf) -> Completion | None:
        """The lines closest to the customer from the best passage that has any, slots filled, citing it."""
        for index, hit in enumerate(context.passages):
            lines = lines_of(hit.chunk, context.language, self.sections)
            if lines:
                chosen = best_lines(lines, context.customer_text)
                text = " ".join(write_around_slots(line, context.slots, self.words) for line in chosen)
                return Completion(text=text, model=self.name, passages=[index])
        return None


def usable_slots(slots: dict[str, str]) -> dict[str, str]:
    """The slots without a customer name that is really an instruction or contact details."""
    name = slots.get("customer_name", "")
    if name and (_CONTACT.search(name) or without_directives(name) != name):
        return {slot: value for slot, value in slots.items() if slot != "customer_name"}
    return slots


def customer_lines(chunk: Chunk, language: str, sections: Sections) -> list[str]:
    """The ready-to-send lines of a reply or example section in `language`; empty for any other section."""
    if not sections.sendable(chunk.section.split(" > ")[-1]) or sections.never(chunk.section):
        return []
    if detect_language([chunk.text], default="") != language:
        return []
    bullets = [line for line in chunk.text.splitlines() if _BULLET.match(line)]
    if not bullets:
        return [" ".join(chunk.text.split())]
    return [_BULLET.sub("", line).strip().strip(_QUOTES).strip() for line in bullets]


def faq_lines(chunk: Chunk, language: str, sections: Sections) -> list[str]:
    """The sentences of an FAQ answer in `language`: FAQ answers are written to customers, unlike policies and
    playbooks, so they may be sent when no ready reply or template exists. Empty for any other chunk."""
    if chunk.kind != "faq" or sections.never(chunk.section):
        return []
    if detect_language([chunk.text], default="") != language:
        return []
    return [s.text for line in chunk.text.splitlines() for s in sentences(_BULLET.sub("", line).strip())]


def best_lines(lines: list[str], customer_text: str, limit: int = 2) -> list[str]:
    """The lines closest to what the customer wrote (shared folded words), kept in document order."""
    if len(lines) == 1:
        return lines
    asked = Counter(words(customer_text))
    scored = sorted(range(len(lines)), key=lambda i: -sum(asked[w] for w in set(words(lines[i]))))
    keep = sorted(scored[:limit])
    return [lines[i] for i in keep]
