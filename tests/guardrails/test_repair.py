"""Repair: the review ask appended from the flow, placeholders filled or dropped, the rest rewritten or
cut."""

from __future__ import annotations

import pytest
from helpers import SHIPPED_KNOWLEDGE

from copilot.guardrails.engine import GuardrailEngine
from copilot.guardrails.models import Violation
from copilot.guardrails.repair import Repairer
from copilot.knowledge import KnowledgeBase

SLOTS = {"customer_name": "Anna", "agent_name": "Minh", "brand": "Avada"}


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load(SHIPPED_KNOWLEDGE)


@pytest.fixture(scope="module")
def repairer(kb: KnowledgeBase) -> Repairer:
    return Repairer(GuardrailEngine.from_knowledge(kb))


def run(
    repairer: Repairer, kb: KnowledgeBase, text: str, platform: str, step: str, **kwargs: object
) -> object:
    engine = repairer.engine
    context = engine.context(text, platform=platform, step=step)
    flow_step = kb.flows["livechat"].step(step)
    return repairer.repair(text, context, kwargs.pop("slots", SLOTS), flow_step, **kwargs)


def test_missing_review_ask_is_appended_in_english(repairer: Repairer, kb: KnowledgeBase) -> None:
    outcome = run(repairer, kb, "Thanks so much, have a great day!", "livechat", "farewell")
    assert outcome.result.allowed and outcome.text.startswith("Thanks so much, have a great day! ")
    assert "review" in outcome.text.lower()
    assert outcome.repairs == ["appended the review ask from the flow's template"]


def test_missing_review_ask_is_appended_in_vietnamese(repairer: Repairer, kb: KnowledgeBase) -> None:
    outcome = run(repairer, kb, "Dạ em cảm ơn chị Lan đã liên hệ shop ạ!", "shopee", "farewell")
    assert outcome.result.allowed and "đánh giá" in outcome.text
    assert "{" not in outcome.text


def test_placeholders_are_filled_from_the_request(repairer: Repairer, kb: KnowledgeBase) -> None:
    outcome = run(repairer, kb, "Hi [Customer's Name], this is {agent_name} from <brand>.", "livechat",
                  "greeting")
    assert outcome.text == "Hi Anna, this is Minh from Avada." and outcome.result.allowed


def test_sentence_with_an_unfillable_placeholder_is_removed(repairer: Repairer, kb: KnowledgeBase) -> None:
    text = "Glad it works now! By the way, you haven't activated [Feature X] yet. Anything else?"
    outcome = run(repairer, kb, text, "livechat", "achieve_more")
    assert outcome.text == "Glad it works now! Anything else?" and outcome.result.allowed


def test_rule_breaking_sentence_is_rewritten_by_the_drafter_when_it_can(
    repairer: Repairer, kb: KnowledgeBase
) -> None:
    calls: list[list[str]] = []

    def regenerate(text: str, violations: list[Violation]) -> str:
        calls.append([v.rule for v in violations])
        return ("Nếu anh/chị muốn hủy, anh/chị có thể tự gửi yêu cầu Hủy đơn "
                "trên ứng dụng ạ.")

    outcome = run(repairer, kb, "Anh/chị hủy đơn giúp shop nhé.", "shopee", "troubleshoot",
                  regenerate=regenerate)
    assert calls == [["buyer_cancel_request"]] and outcome.result.allowed
    assert outcome.text.startswith("Nếu anh/chị muốn hủy")


def test_without_a_drafter_the_offending_sentence_is_cut(repairer: Repairer, kb: KnowledgeBase) -> None:
    text = "Dạ shop hiểu ạ. Anh/chị kết bạn Zalo của shop nhé. Shop cảm ơn ạ."
    outcome = run(repairer, kb, text, "shopee", "troubleshoot")
    assert outcome.text == "Dạ shop hiểu ạ. Shop cảm ơn ạ." and outcome.result.allowed


def test_a_drafter_that_keeps_failing_is_bounded(repairer: Repairer, kb: KnowledgeBase) -> None:
    attempts = []

    def stubborn(text: str, violations: list[Violation]) -> str:
        attempts.append(text)
        return "Please cancel the order and reorder."

    outcome = run(repairer, kb, "Please cancel the order.", "shopee", "troubleshoot", regenerate=stubborn)
    assert len(attempts) == repairer.max_attempts
    assert outcome.result.allowed and "cancel" not in outcome.text.lower()


def test_the_review_ask_is_whatever_required_rule_the_review_ask_steps_have(tmp_path: object) -> None:
    """A team's pack names its review-ask rule as it likes: the ask is still found, appended and never cut."""
    import shutil
    from pathlib import Path

    root = Path(str(tmp_path)) / "knowledge"
    shutil.copytree(SHIPPED_KNOWLEDGE, root)
    pack = root / "rules" / "flow.yaml"
    pack.write_text(pack.read_text(encoding="utf-8").replace("id: review_ask_missing", "id: ask_for_stars"),
                    encoding="utf-8")
    kb = KnowledgeBase.load(root)
    repairer = Repairer(GuardrailEngine.from_knowledge(kb))
    assert repairer.engine.asks_for_review("Would you mind rating your chat with us today?")
    outcome = run(repairer, kb, "Thanks so much, have a great day!", "livechat", "farewell")
    assert outcome.result.allowed and outcome.repairs == ["appended the review ask from the flow's template"]
