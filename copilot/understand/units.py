"""Answer units: the documents whose reply a draft can send, with the needs and conditions they answer.

A unit is a document whose front matter names the needs it answers (`answers: [cancel_order]`) and, where
close units differ, the condition it holds under (`when: {order_state: handed_over}`). Its first reply section
per language is what a draft sends; a reply section whose heading names a question after a colon ("## Reply
(English): downgrading keeps the data"), placed after its language's reply, is a facet: when the customer asks
that, it leads the reply; its first section per language (when to use it), title and tags describe it. An
"ask first" section ("## Ask first (English)", the `ask` words of `sections.yaml`) holds the message that asks
for the details the unit's procedure needs, sent instead of the reply when the moment is for asking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from copilot.knowledge import Sections
from copilot.retrieval.documents import KnowledgeDocument
from copilot.understand.language import detect_language

_HEADING = re.compile(r"^#{2,3}\s+(.+?)\s*$", re.MULTILINE)
_FACET = re.compile(r"^[^:]+:\s*(.+)$")  # "Reply (English): the question it answers"


@dataclass(frozen=True)
class AnswerUnit:
    """One sendable answer of the knowledge base."""

    id: str
    title: str
    kind: str
    path: Path
    needs: tuple[str, ...]
    when: dict[str, str]
    platforms: tuple[str, ...]
    replies: dict[str, tuple[str, str]]  # language -> (section heading, reply text)
    descriptions: tuple[str, ...]
    # language -> (question, reply)
    facets: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    # language -> (section heading, text): what to ask before the reply when the details are missing
    asks: dict[str, tuple[str, str]] = field(default_factory=dict)

    def serves(self, platform: str) -> bool:
        return not self.platforms or platform in self.platforms

    def reply(self, language: str) -> tuple[str, str] | None:
        return self.replies.get(language)

    @property
    def facet_questions(self) -> set[str]:
        """The questions of the unit's facets, in every language."""
        return {question for found in self.facets.values() for question, _ in found}


def sections(body: str) -> list[tuple[str, str]]:
    """(heading, text) of every `##`/`###` section of a Markdown body, in order."""
    marks = list(_HEADING.finditer(body))
    found = []
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        end = following.start() if following else len(body)
        text = body[mark.end():end].strip()
        if text:
            found.append((mark.group(1), text))
    return found


def unit_of(document: KnowledgeDocument, headings: Sections) -> AnswerUnit | None:
    """The answer unit a document is, or None when its front matter names no need or it has no reply."""
    meta = document.meta
    if not meta.answers:
        return None
    replies: dict[str, tuple[str, str]] = {}
    facets: dict[str, list[tuple[str, str]]] = {}
    last_reply: str | None = None
    descriptions = [meta.title, " ".join(meta.tags)]
    seen_languages: set[str] = set()
    asks: dict[str, tuple[str, str]] = {}
    for heading, text in sections(document.body):
        language = detect_language([heading, text], default="en")
        if headings.asking(heading):
            asks.setdefault(language, (heading, " ".join(text.split())))
        elif headings.sendable(heading):
            facet = _FACET.match(heading)
            if facet is None:
                replies.setdefault(language, (heading, " ".join(text.split())))
                last_reply = language
            elif last_reply is not None:  # a facet follows its language's main reply (its words may be mixed)
                facets.setdefault(last_reply, []).append((facet.group(1), " ".join(text.split())))
        elif language not in seen_languages and not headings.never(heading):
            descriptions.append(text)
        seen_languages.add(language)
    if not replies:
        return None
    return AnswerUnit(id=meta.id, title=meta.title, kind=meta.kind, path=document.path, needs=meta.answers,
                      when=dict(meta.when), platforms=meta.platforms, replies=replies,
                      descriptions=tuple(d for d in descriptions if d.strip()),
                      facets={language: tuple(found) for language, found in facets.items()}, asks=asks)


def answer_units(documents: list[KnowledgeDocument], headings: Sections) -> list[AnswerUnit]:
    """The documents' answer units; `headings` say which sections are replies (the knowledge base's)."""
    return [unit for unit in (unit_of(document, headings) for document in documents) if unit is not None]
