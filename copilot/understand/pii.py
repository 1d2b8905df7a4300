"""Personal data never leaves for an outside LLM: phone numbers, emails, card numbers and street addresses are
replaced by tokens ([PHONE_1], ...) before the call and put back in the draft after it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("EMAIL", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("CARD", re.compile(r"\b(?:\d[ -]?){12,18}\d\b")),
    (
        "PHONE",
        re.compile(r"(?<![\w.])(?:\+?84|0)(?:[ .-]?\d){8,10}\b|(?<![\w.])\+\d{1,3}(?:[ .-]?\d){6,12}\b"),
    ),
    (
        "ADDRESS",
        re.compile(
            r"\b(?:số\s*)?\d{1,5}[A-Za-z]?(?:/\d{1,4})?\s+(?:[\w\u00C0-\u1EF9]+\s+){0,4}?"
            r"(?:đường|duong|phố|pho|ngõ|ngo|hẻm|hem|street|st\.|road|rd\.|avenue|ave\.|lane|boulevard|blvd)"
            r"(?:[\s,]+[\w\u00C0-\u1EF9./]+){0,8}",
            re.IGNORECASE,
        ),
    ),
    (
        "ADDRESS",
        re.compile(
            r"\b\d{1,5}[A-Za-z]?(?:/\d{1,4})?\s+[\w\u00C0-\u1EF9 ]{2,40}?,\s*"
            r"(?:phường|phuong|quận|quan|ward|district|xã|xa|huyện|huyen|p\.|q\.)\s*[\w\u00C0-\u1EF9 ]{1,20}"
            r"(?:,\s*(?:phường|phuong|quận|quan|ward|district|xã|xa|huyện|huyen|tp\.?|thành phố|thanh pho|"
            r"tỉnh|tinh)"
            r"[\w\u00C0-\u1EF9 .]{0,20}){0,3}",
            re.IGNORECASE,
        ),
    ),
)


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


@dataclass
class PiiMasker:
    """Masks one conversation's personal data consistently (the same phone gets the same token)."""

    tokens: dict[str, str] = field(default_factory=dict)  # token -> original
    _by_value: dict[str, str] = field(default_factory=dict)

    def mask(self, text: str) -> str:
        for kind, pattern in _PATTERNS:
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
