"""Deciding whether a conversation is in English or Vietnamese, including Vietnamese typed without accents.

Diacritics settle it when present; otherwise function words vote ("ok cam on shop" is Vietnamese although
every letter is ASCII). Only the customer's messages are evidence of the customer's language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from importlib import resources

from copilot.text import words

LANGUAGES = ("en", "vi")
_VIETNAMESE_LETTERS = re.compile(
    "[ăâđêôơư"
    "àáảãạằắẳẵặầấẩẫậ" "èéẻẽẹềếểễệ" "ìíỉĩị"
    "òóỏõọồốổỗộờớởỡợ" "ùúủũụừứửữự" "ỳýỷỹỵ]",
    re.IGNORECASE,
)


@cache
def _function_words() -> dict[str, frozenset[str]]:
    text = resources.files("copilot.understand").joinpath("language_words.txt").read_text(encoding="utf-8")
    table: dict[str, frozenset[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and ":" in line:
            language, _, vocabulary = line.partition(":")
            table[language.strip()] = frozenset(vocabulary.split())
    return table


def language_scores(text: str) -> dict[str, float]:
    """Evidence for each language: accented letters count triple for Vietnamese."""
    table = _function_words()
    tokens = words(text)
    scores = {language: float(sum(token in table[language] for token in tokens)) for language in LANGUAGES}
    scores["vi"] += 3.0 * len(_VIETNAMESE_LETTERS.findall(text))
    return scores


def detect_language(texts: Iterable[str], default: str = "en") -> str:
    """`en` or `vi` for the given texts taken together; `default` when there is no evidence either way."""
    totals = {language: 0.0 for language in LANGUAGES}
    for text in texts:
        for language, score in language_scores(text).items():
            totals[language] += score
    if totals["vi"] == totals["en"]:
        return default
    return "vi" if totals["vi"] > totals["en"] else "en"


# the agent's own messages say which language the conversation is held in, less than the customer's
AGENT_WEIGHT = 0.5
# the platform's usual language decides only when the messages say little (a URL, an order code)
PRIOR_WEIGHT = 1.5


def conversation_language(customer: Iterable[str], agent: Iterable[str] = (), prior: str | None = None,
                          default: str = "en") -> str:
    """The language of a whole conversation: the customer's words, the agent's at half weight, the platform's
    usual language as a small prior. A last message that is only a URL does not switch an English chat."""
    totals = {language: 0.0 for language in LANGUAGES}
    for weight, texts in ((1.0, customer), (AGENT_WEIGHT, agent)):
        for text in texts:
            for language, score in language_scores(text).items():
                totals[language] += weight * score
    if prior in totals:
        totals[prior] += PRIOR_WEIGHT
    if totals["vi"] == totals["en"]:
        return prior or default
    return "vi" if totals["vi"] > totals["en"] else "en"
