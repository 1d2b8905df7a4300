"""Template slots ({customer_name}, {agent_name}, {brand}): filling them, and recognising left-over ones."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from copilot.text import fold
from copilot.yamlio import load_yaml_mapping, validate_model

SLOT = re.compile(r"\{(\w+)\}")
SLOT_NAMES = ("customer_name", "agent_name", "brand")  # the slots a request fills (`DraftRequest.slots`)


def fill(template: str, values: dict[str, str]) -> str | None:
    """`template` with its slots filled, or None when a slot has no value (callers then pick another line)."""
    needed = SLOT.findall(template)
    if any(not values.get(name) for name in needed):
        return None
    return SLOT.sub(lambda match: values[match.group(1)], template)


# A slot the sentence stands without ("Thanks for waiting, {customer_name}."): only the name goes when it is
# missing. Any other missing slot takes its clause with it ("this is {agent_name}" would leave "this is").
VOCATIVE_SLOTS = frozenset({"customer_name"})
_MISSING = "\x00"
_CLAUSE = re.compile(r"[^,.!?;:]*[,.!?;:]*")
LANGUAGE_FILE = "language.yaml"
Words = dict[str, tuple[str, ...]]  # by language


class SlotWords(BaseModel):
    """The words around a slot that a missing value would leave dangling, by language: the `slots:` section of
    the knowledge folder's `language.yaml`, lower case with diacritics. Without them only the missing slot's
    clause is cut."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dangling_ends: Words = Field(default_factory=dict, description="Words a clause cannot end on: what a "
                                 "removed slot would complete ('from').")
    dangling_pairs: Words = Field(default_factory=dict, description="Two words a clause cannot end on "
                                  "('this is'; I'm is 'i m').")
    prepositions: Words = Field(default_factory=dict, description="Cut with the missing slot they introduce, "
                                "the rest of the clause kept ('from {brand}').")
    articles: Words = Field(default_factory=dict, description="May stand between such a preposition and its "
                            "slot ('from the {brand}').")
    hints: dict[str, Words] = Field(default_factory=dict, description="By slot, the words in a left-over "
                                    "placeholder that say it stands for that slot ('[your name]'); the first "
                                    "slot listed whose word it holds wins.")

    @field_validator("dangling_pairs")
    @classmethod
    def _two_words(cls, pairs: Words) -> Words:
        for language, listed in pairs.items():
            for number, pair in enumerate(listed):
                if len(pair.split()) != 2:
                    raise ValueError(f"{language}.{number}: '{pair}' is not two words")
        return pairs

    @field_validator("hints")
    @classmethod
    def _slot_names(cls, hints: dict[str, Words]) -> dict[str, Words]:
        for slot in hints:
            if not re.fullmatch(r"\w+", slot):
                raise ValueError(f"'{slot}' is not a slot name (a template's {{agent_name}} is agent_name)")
        return hints

    @classmethod
    def load(cls, root: Path) -> SlotWords:
        """The `slots:` words of `root/language.yaml`; none without the file or the section."""
        path = root / LANGUAGE_FILE
        return cls.of(load_yaml_mapping(path) if path.exists() else {}, path)

    @classmethod
    def of(cls, language: Mapping[str, Any], path: Path) -> SlotWords:
        """The `slots:` section of an already read `language.yaml` (`path` names it in errors)."""
        return validate_model(cls, language.get("slots") or {}, path, prefix="slots")

    @cached_property
    def ends(self) -> frozenset[str]:
        return frozenset(_every(self.dangling_ends))

    @cached_property
    def pairs(self) -> frozenset[tuple[str, ...]]:
        return frozenset(tuple(pair.split()) for pair in _every(self.dangling_pairs))

    @cached_property
    def preposition(self) -> re.Pattern[str] | None:
        """A preposition (and an article) before a missing slot that ends its clause: cut with the slot."""
        prepositions = "|".join(map(re.escape, _every(self.prepositions)))
        if not prepositions:
            return None
        articles = "|".join(map(re.escape, _every(self.articles)))
        article = rf"(?:(?:{articles})\s+)?" if articles else ""
        return re.compile(rf"\s*\b(?:{prepositions})\s+{article}{_MISSING}(?=\s*([,.!?;:]|$))", re.IGNORECASE)

    @cached_property
    def placeholder_hints(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Each slot with its hints folded (lower case, no diacritics), in the order listed."""
        return tuple((slot, tuple(map(fold, _every(words)))) for slot, words in self.hints.items())


def _every(words: Words) -> list[str]:
    return [word.lower() for listed in words.values() for word in listed]


NO_WORDS = SlotWords()


def slot_for(placeholder: str, words: SlotWords = NO_WORDS) -> str | None:
    """Which slot a left-over placeholder such as `[Customer's Name]` or `<brand>` stands for: the slot it
    names, else the first whose `words.hints` it holds (without hints only a placeholder naming its slot)."""
    inner = fold(placeholder.strip("[]{}<> "))
    inner = re.sub(r"[^a-z0-9 ]+", " ", inner.replace("_", " ")).strip()
    for slot, hints in words.placeholder_hints:
        if inner == slot.replace("_", " ") or any(hint in inner for hint in hints):
            return slot
    named = inner.replace(" ", "_")
    return named if named in SLOT_NAMES else None


def write_around_slots(template: str, values: dict[str, str], words: SlotWords = NO_WORDS) -> str:
    """Fill known slots; a missing name is left out, any other missing slot with its clause, so no customer
    ever reads "Hi, this is." (`words`: the knowledge base's `language.yaml`; without them only the missing
    slot's clause goes)."""
    text = SLOT.sub(lambda m: values.get(m.group(1)) or ("" if m.group(1) in VOCATIVE_SLOTS else _MISSING),
                    template)
    if words.preposition is not None:
        text = words.preposition.sub("", text)
    kept: list[str] = []
    for clause in _CLAUSE.findall(text):
        if _MISSING not in clause:
            kept.append(clause)
        elif kept and re.search(r"[.!?]\s*$", clause) and kept[-1].rstrip().endswith(","):
            kept[-1] = kept[-1].rstrip()[:-1] + clause.strip()[-1] + " "  # "A, B {x}." -> "A."
    text = "".join(kept)
    text = re.sub(r"\s+([,.!?;:])", r"\1", text)
    text = re.sub(r",\s*([,.!?;:])", r"\1", text)
    text = re.sub(r"([.!?])[.!?,;:]+", r"\1", text)
    text = re.sub(r"\s{2,}", " ", text).strip().lstrip(",;: ")
    return _capitalised_sentences(text) if fold(text).strip(" .,!?") else ""


def _capitalised_sentences(text: str) -> str:
    return re.sub(r"(^|[.!?]\s+)([a-z\u00e0-\u1ef9\u0111])", lambda m: m.group(1) + m.group(2).upper(), text)


def dangling_words(text: str, words: SlotWords = NO_WORDS) -> list[str]:
    """Clauses of `text` that end on a word a missing slot would have completed ("this is.", "from,"), by the
    knowledge base's `words`."""
    found = []
    for clause in re.split(r"[,.!?;:]", text):
        tokens = re.findall(r"\w+", clause.lower())
        if tokens and (tokens[-1] in words.ends or tuple(tokens[-2:]) in words.pairs):
            found.append(clause.strip())
    return found
