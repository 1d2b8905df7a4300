"""Sentence boundaries with offsets: rules judge a phrase together with the sentence around it."""

from __future__ import annotations

import re
from dataclasses import dataclass

_BOUNDARY = re.compile(r"(?<=[.!?;…])\s+|\n+|(?<=[a-zà-ỹ][.!?])(?=[A-ZÀ-Ỹ][a-zà-ỹ])")


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


def sentences(text: str) -> list[Sentence]:
    """Non-empty sentences of `text` with their [start, end) offsets in `text`."""
    found = []
    start = 0
    for boundary in _BOUNDARY.finditer(text):
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
