"""Repair, on the tests' own folder (`make_knowledge`: its mini rule packs, with a farewell of its own): the
review ask appended from the flow, placeholders filled or dropped, the rest rewritten or cut."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from helpers import MINI_FLOW, MINI_RULES

from copilot.guardrails.engine import GuardrailEngine
from copilot.guardrails.models import Violation
from copilot.guardrails.repair import Regenerate, Repairer, RepairOutcome
from copilot.knowledge import KnowledgeBase

SLOTS = {"customer_name": "Bao", "agent_name": "Quynh", "brand": "Fernleaf"}
ASK_EN = "A short review from you, {customer_name}, would help us grow."
ASK_VI = "Chị {customer_name} ơi, chị đánh giá giúp shop vài dòng nhé."
HINTS = "slots:\n  hints:\n    customer_name:\n      en: [customer]\n"


def farewell_flow() -> str:
    """The mini flow, its farewell templates ending on a review ask (their first sentence does not ask)."""
    flow = yaml.safe_load(MINI_FLOW)
    flow["steps"][-1]["templates"] = {"en": [f"Glad we sorted it out. {ASK_EN}"],
                                      "vi": [f"Shop cảm ơn chị nhiều. {ASK_VI}"]}
    return yaml.safe_dump(flow, allow_unicode=True, sort_keys=False)


def knowledge(make_knowledge: Callable[..., Path], **docs: str) -> KnowledgeBase:
    return KnowledgeBase.load(make_knowledge({"flows/livechat.yaml": farewell_flow(), "language.yaml": HINTS,
                                              **docs}))


@pytest.fixture
def kb(make_knowledge: Callable[..., Path]) -> KnowledgeBase:
    return knowledge(make_knowledge)


@pytest.fixture
def repairer(kb: KnowledgeBase) -> Repairer:
    return Repairer(GuardrailEngine.from_knowledge(kb))


def run(
    repairer: Repairer, kb: KnowledgeBase, text: str, platform: str, step: str,
    regenerate: Regenerate | None = None,
) -> RepairOutcome:
    engine = repairer.engine
    context = engine.context(text, platform=platform, step=step)
    return repairer.repair(text, context, SLOTS, kb.flows["livechat"].step(step), regenerate)


def test_missing_review_ask_is_appended_in_english(repairer: Repairer, kb: KnowledgeBase) -> None:
    outcome = run(repairer, kb, "Happy to help, see you soon!", "livechat", "farewell")
    assert outcome.text == "Happy to help, see you soon! A short review from you, Bao, would help us grow."
    assert outcome.result.allowed and outcome.repairs == ["appended the review ask from the flow's template"]


def test_missing_review_ask_is_appended_in_vietnamese(repairer: Repairer, kb: KnowledgeBase) -> None:
    outcome = run(repairer, kb, "Dạ shop chúc chị Bao một tuần vui ạ!", "shopee", "farewell")
    assert outcome.text == ("Dạ shop chúc chị Bao một tuần vui ạ! "
                            "Chị Bao ơi, chị đánh giá giúp shop vài dòng nhé.")
    assert outcome.result.allowed


def test_placeholders_are_filled_from_the_request(repairer: Repairer, kb: KnowledgeBase) -> None:
    """By the slot a placeholder names, or by a `language.yaml` hint ("customer")."""
    outcome = run(repairer, kb, "Hello [Customer's Name], {agent_name} at <brand> here.", "livechat",
                  "greeting")
    assert outcome.text == "Hello Bao, Quynh at Fernleaf here." and outcome.result.allowed


def test_sentence_with_an_unfillable_placeholder_is_removed(repairer: Repairer, kb: KnowledgeBase) -> None:
    text = "The new theme is live. Please also switch on [Feature X] later. See you!"
    outcome = run(repairer, kb, text, "livechat", "troubleshoot")
    assert outcome.text == "The new theme is live. See you!" and outcome.result.allowed


def test_rule_breaking_sentence_is_rewritten_by_the_drafter_when_it_can(
    repairer: Repairer, kb: KnowledgeBase
) -> None:
    calls: list[list[str]] = []

    def regenerate(text: str, violations: list[Violation]) -> str:
        calls.append([v.rule for v in violations])
        return "Nếu chị muốn, chị tự bấm Hủy trong trang đơn hàng nhé."

    outcome = run(repairer, kb, "Chị hủy đơn hộ shop nhé.", "shopee", "troubleshoot", regenerate=regenerate)
    assert calls == [["push_to_cancel"]] and outcome.result.allowed
    assert outcome.text.startswith("Nếu chị muốn")


def test_without_a_drafter_the_offending_sentence_is_cut(repairer: Repairer, kb: KnowledgeBase) -> None:
    text = "Dạ shop nhận được rồi ạ. Chị nhắn Viber cho shop nhé. Shop chúc chị vui ạ."
    outcome = run(repairer, kb, text, "shopee", "troubleshoot")
    assert outcome.text == "Dạ shop nhận được rồi ạ. Shop chúc chị vui ạ." and outcome.result.allowed


def test_a_drafter_that_keeps_failing_is_bounded(repairer: Repairer, kb: KnowledgeBase) -> None:
    attempts = []

    def stubborn(text: str, violations: list[Violation]) -> str:
        attempts.append(text)
        return "Go ahead and cancel, then order it again."

    outcome = run(repairer, kb, "Please go ahead and cancel the order.", "shopee", "troubleshoot",
                  regenerate=stubborn)
    assert len(attempts) == repairer.max_attempts
    assert outcome.result.allowed and "cancel" not in outcome.text.lower()


def test_the_review_ask_is_whatever_required_rule_the_review_ask_steps_have(
        make_knowledge: Callable[..., Path]) -> None:
    """A team's pack names its review-ask rule as it likes: the ask is still found, appended and never cut."""
    pack = MINI_RULES["rules/mini-flow.yaml"].replace("id: farewell_review_ask", "id: ask_for_stars")
    kb = knowledge(make_knowledge, **{"rules/mini-flow.yaml": pack})
    repairer = Repairer(GuardrailEngine.from_knowledge(kb))
    assert repairer.engine.required == {"ask_for_stars"}
    assert repairer.engine.asks_for_review("Would you give our chat a quick rating?")
    outcome = run(repairer, kb, "Happy to help, see you soon!", "livechat", "farewell")
    assert outcome.result.allowed and outcome.repairs == ["appended the review ask from the flow's template"]
