"""Text shared by every stage: Vietnamese folding, tokenising, and sentences with their offsets.

Agents and customers often type Vietnamese without diacritics ("khach muon huy don"), so every lexical
comparison happens on folded text: lower case, diacritics removed, "đ" turned into "d".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

_TOKEN = re.compile(r"[0-9a-z]+")


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lower-case `text` and strip diacritics, mapping đ/Đ to d, so accented and plain text compare
    equal."""
    lowered = text.lower().replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", lowered)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def fold_preserving_length(text: str) -> str:
    """Fold `text` character by character so that offsets in the result are offsets in `text`."""
    return "".join(fold(ch)[:1] or ch for ch in text)


def words(text: str) -> list[str]:
    """The folded word tokens of `text` (letters and digits)."""
    return _TOKEN.findall(fold(text))


def folded_words(text: str) -> list[str]:
    """The folded text split on whitespace (punctuation kept): the word n-grams the learned readers use."""
    return fold(text).split()


def folded_word_pairs(text: str) -> list[str]:
    """Each pair of neighbouring `folded_words`, joined by a space."""
    return [f"{a} {b}" for a, b in pairwise(folded_words(text))]


_SENTENCE_BOUNDARY = re.compile(r"(?<=[.!?;…])\s+|\n+|(?<=[a-zà-ỹ][.!?])(?=[A-ZÀ-Ỹ][a-zà-ỹ])")


@dataclass(frozen=True)
class Sentence:
    """A sentence and its [start, end) offsets in its text (rules judge a phrase with its sentence)."""

    start: int
    end: int
    text: str


def sentences(text: str) -> list[Sentence]:
    """Non-empty sentences of `text` with their [start, end) offsets in `text`."""
    found = []
    start = 0
    for boundary in _SENTENCE_BOUNDARY.finditer(text):
        found.extend(_piece(text, start, boundary.start()))
        start = boundary.end()
    found.extend(_piece(text, start, len(text)))
    return found


def _piece(text: str, start: int, end: int) -> list[Sentence]:
    chunk = text[start:end]
    stripped = chunk.strip()
    if not stripped:
        return []
    offset = start + chunk.index(stripped)
    return [Sentence(offset, offset + len(stripped), stripped)]
