"""The two rule families on the tests' own packs (`helpers.MINI_RULES`): a forbidden phrase, per sentence,
with its exceptions, its always-phrases and its scope; a required phrase at the review-ask steps. Matched
folded (no diacritics, lower case) unless the rule says raw."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from helpers import MINI_RULES

from copilot.guardrails.engine import GuardrailEngine
from copilot.knowledge import KnowledgeBase


@pytest.fixture
def engine(make_knowledge: Callable[..., Path]) -> GuardrailEngine:
    return GuardrailEngine.from_knowledge(KnowledgeBase.load(make_knowledge()))


def rules(
    engine: GuardrailEngine, text: str, platform: str = "shopee", step: str = "troubleshoot"
) -> list[str]:
    return engine.check(text, engine.context(text, platform=platform, step=step)).rules()


@pytest.mark.parametrize("text", [
    "Chị hủy đơn hộ shop nhé.",
    "chi huy don ho shop nhe",
    "Please go ahead and cancel the order.",
])
def test_a_forbidden_phrase_is_found_with_or_without_diacritics(engine: GuardrailEngine, text: str) -> None:
    assert rules(engine, text) == ["push_to_cancel"]


@pytest.mark.parametrize("text", [
    "If you wish, go ahead and cancel it in the app.",
    "Nếu chị muốn, chị hủy hộ mình cũng được ạ.",
])
def test_an_exception_in_the_same_sentence_clears_the_phrase(engine: GuardrailEngine, text: str) -> None:
    assert rules(engine, text) == []
    assert rules(engine, text.split(", ", 1)[1]) == ["push_to_cancel"]  # the same words, no exception


def test_an_exception_in_another_sentence_does_not(engine: GuardrailEngine) -> None:
    assert rules(engine, "If you like, I can check it. Go ahead and cancel it.") == ["push_to_cancel"]


def test_an_always_phrase_fires_whatever_the_exceptions_say(engine: GuardrailEngine) -> None:
    assert rules(engine, "If you wish, cancel it for the shop.") == ["push_to_cancel"]
    assert rules(engine, "Nếu chị muốn thì hủy hộ shop ngay nhé.") == ["push_to_cancel"]


def test_a_marketplace_rule_is_silent_on_other_platforms(engine: GuardrailEngine) -> None:
    text = "Please go ahead and cancel the order. Pay us by bank today."
    assert rules(engine, text) == ["outside_payment", "push_to_cancel"]
    assert rules(engine, text, platform="livechat") == []


@pytest.mark.parametrize("platform", ["livechat", "shopee"])
def test_a_rule_without_scope_applies_on_every_platform(engine: GuardrailEngine, platform: str) -> None:
    assert rules(engine, "Could you type your passcode here?", platform=platform) == ["secret_code_request"]
    assert rules(engine, "We will never ask for your passcode.", platform=platform) == []


def test_a_raw_rule_sees_the_text_as_typed(engine: GuardrailEngine) -> None:
    """`match: raw`: a pattern that only capitals match ("CUSTOMER_NAME") is not run on the folded text."""
    assert rules(engine, "Hello CUSTOMER_NAME, welcome back.", platform="livechat") == ["leftover_slot"]
    assert rules(engine, "Hello customer_name, welcome back.", platform="livechat") == []


@pytest.mark.parametrize("text", ["Thanks, bye!", "Cảm ơn chị, chúc chị một ngày vui!"])
def test_a_reply_at_the_review_ask_step_without_the_ask_is_blocked(engine: GuardrailEngine,
                                                                   text: str) -> None:
    assert rules(engine, text, platform="livechat", step="farewell") == ["farewell_review_ask"]
    assert rules(engine, text, platform="livechat", step="troubleshoot") == []  # not a review-ask step


@pytest.mark.parametrize("text", [
    "Bye now. A quick review would help us a lot.",
    "Cảm ơn chị, chị chấm sao giúp shop nha.",
    "cam on chi, chi danh gia giup shop nhe",
])
def test_any_pattern_in_any_sentence_is_the_required_phrase(engine: GuardrailEngine, text: str) -> None:
    assert rules(engine, text, platform="livechat", step="farewell") == []


@pytest.mark.parametrize("text", ["Thanks for the review you left last week, bye!",
                                  "Cảm ơn chị đã đánh giá cho shop, tạm biệt chị!"])
def test_a_phrase_the_exception_clears_is_not_the_required_one(engine: GuardrailEngine, text: str) -> None:
    assert rules(engine, text, platform="livechat", step="farewell") == ["farewell_review_ask"]
    assert engine.asks_for_review("A short rating would make our day.")
    assert not engine.asks_for_review(text)


def test_a_missing_required_phrase_points_at_the_last_sentence(engine: GuardrailEngine) -> None:
    text = "It works now. Thanks, bye!"
    result = engine.check(text, engine.context(text, platform="livechat", step="farewell"))
    start, end = result.violations[0].span
    assert text[start:end] == "Thanks, bye!"


def test_violation_has_the_packs_message_in_the_texts_language_its_severity_and_the_offending_span(
        engine: GuardrailEngine) -> None:
    text = "Dạ shop hiểu ạ. Chị hủy đơn hộ shop nhé."
    result = engine.check(text, engine.context(text, platform="shopee", step="troubleshoot"))
    assert not result.allowed
    violation = result.violations[0]
    pack = yaml.safe_load(MINI_RULES["rules/mini-marketplace.yaml"])
    assert violation.severity == "block" and violation.message == pack["rules"][0]["message"]["vi"]
    start, end = violation.span
    assert "hủy đơn hộ shop" in text[start:end] and "hiểu" not in text[start:end]
