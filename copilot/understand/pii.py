"""Personal data never leaves for an outside LLM: phone numbers, emails, card numbers and street addresses are
replaced by tokens ([PHONE_1], ...) before the call and put back in the draft after it."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from copilot.compose.slots import LANGUAGE_FILE, Words
from copilot.yamlio import load_yaml_mapping, validate_model

log = logging.getLogger(__name__)

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("EMAIL", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("CARD", re.compile(r"\b(?:\d[ -]?){12,18}\d\b")),
    (
        "PHONE",
        re.compile(r"(?<![\w.])(?:\+?84|0)(?:[ .-]?\d){8,10}\b|(?<![\w.])\+\d{1,3}(?:[ .-]?\d){6,12}\b"),
    ),
)
_LETTER = r"\w\u00C0-\u1EF9"  # a letter of Vietnamese or English
_HOUSE = r"\d{1,5}[A-Za-z]?(?:/\d{1,4})?\s+"  # "12", "12A", "12/3"
# a listed word ends where the word does: "pho" is not in "photos"
_WHOLE = rf"(?!(?<=[{_LETTER}])[{_LETTER}])"
ADDRESSES_SECTION = "addresses"


class AddressWords(BaseModel):
    """The words that make a house number a street address, by language: the `addresses:` section of the
    knowledge folder's `language.yaml`, matched as written whatever the case (list the spellings without
    diacritics that customers type too). Without them no address is masked; phones, emails and cards are."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    numbers: Words = Field(default_factory=dict, description="May stand before the house number and is "
                           "masked with it ('số 12 đường Lê Lợi').")
    streets: Words = Field(default_factory=dict, description="Name the street after a house number "
                           "('12 phố Huế', '5 Main street').")
    areas: Words = Field(default_factory=dict, description="Open the ward or district after a house number, "
                         "a street and a comma ('123 Nguyễn Trãi, phường 2').")
    later_areas: Words = Field(default_factory=dict, description="Open each of up to three more parts after "
                               "such an area ('phường 2, quận 5, tp. HCM').")

    @field_validator("numbers", "streets", "areas", "later_areas")
    @classmethod
    def _no_blank_word(cls, words: Words) -> Words:
        for language, listed in words.items():
            for number, word in enumerate(listed):
                if not word.strip():
                    raise ValueError(f"{language}.{number}: a blank word would make any number an address")
        return words

    @classmethod
    def load(cls, root: Path) -> AddressWords:
        """The `addresses:` words of `root/language.yaml`; none (with a warning) without the section."""
        path = root / LANGUAGE_FILE
        return cls.of(load_yaml_mapping(path) if path.exists() else {}, path)

    @classmethod
    def of(cls, data: Mapping[str, Any], path: Path) -> AddressWords:
        """The `addresses:` section of an already read `language.yaml` (`path` names it in errors)."""
        if ADDRESSES_SECTION not in data:
            log.warning("%s has no '%s:' section: street addresses are not masked before an outside LLM",
                        path, ADDRESSES_SECTION)
        return validate_model(cls, data.get(ADDRESSES_SECTION) or {}, path, prefix=ADDRESSES_SECTION)

    @cached_property
    def patterns(self) -> tuple[re.Pattern[str], ...]:
        """The address patterns of these words; one whose words are not listed is left out."""
        number, street, area, later = map(_alternatives, (self.numbers, self.streets, self.areas,
                                                          self.later_areas))
        found = [_street(number, street)] if street else []
        if area:
            found.append(_area(area, later))
        return tuple(re.compile(pattern, re.IGNORECASE) for pattern in found)


def _street(number: str, street: str) -> str:
    """A house number, up to four words and a street word, then the rest of the address."""
    prefix = rf"(?:(?:{number})\s*)?" if number else ""
    words = rf"(?:[{_LETTER}]+\s+){{0,4}}?"
    return rf"\b{prefix}{_HOUSE}{words}(?:{street}){_WHOLE}(?:[\s,]+[{_LETTER}./]+){{0,8}}"


def _area(area: str, later: str) -> str:
    """A house number, words, a comma and an area word, then up to three more parts that a `later` word
    opens."""
    more = rf"(?:,\s*(?:{later}){_WHOLE}[{_LETTER} .]{{0,20}}){{0,3}}" if later else ""
    return rf"\b{_HOUSE}[{_LETTER} ]{{2,40}}?,\s*(?:{area}){_WHOLE}\s*[{_LETTER} ]{{1,20}}{more}"


def _alternatives(words: Words) -> str:
    """The words of every language as a regex alternation, longest first so that 'street' is tried before
    'st'."""
    listed = dict.fromkeys(word.strip().lower() for by_language in words.values() for word in by_language)
    return "|".join(re.escape(word) for word in sorted(listed, key=len, reverse=True))


NO_ADDRESSES = AddressWords()


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


@dataclass
class PiiMasker:
    """Masks one conversation's personal data consistently (the same phone gets the same token); addresses by
    the knowledge base's `addresses` words."""

    addresses: AddressWords
    tokens: dict[str, str] = field(default_factory=dict)  # token -> original
    _by_value: dict[str, str] = field(default_factory=dict)

    def mask(self, text: str) -> str:
        for kind, pattern in (*_PATTERNS, *(("ADDRESS", p) for p in self.addresses.patterns)):
            text = pattern.sub(partial(self._replace, kind), text)
        return text

    def _replace(self, kind: str, match: re.Match[str]) -> str:
        return self._token(kind, match.group(0))

    def unmask(self, text: str) -> str:
        for token, original in self.tokens.items():
            text = text.replace(token, original)
        return text

    def _token(self, kind: str, value: str) -> str:
        if kind == "CARD" and not _luhn(re.sub(r"\D", "", value)):
            return value
        if value not in self._by_value:
            count = sum(token.startswith(f"[{kind}_") for token in self.tokens) + 1
            token = f"[{kind}_{count}]"
            self._by_value[value], self.tokens[token] = token, value
        return self._by_value[value]
