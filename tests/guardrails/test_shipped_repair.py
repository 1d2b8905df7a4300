"""The shipped knowledge repairs a draft: its farewell templates give the review ask its rule wants, in both
languages, and its placeholder rule and `language.yaml` hints fill a left-over slot. How the repairer works
on any knowledge is tested on the tests' own folder (`test_repair.py`): editing the shipped knowledge may fail
this file, never that one."""

from __future__ import annotations

import pytest
from helpers import SHIPPED_KNOWLEDGE

from copilot.guardrails.engine import GuardrailEngine
from copilot.guardrails.repair import Repairer, RepairOutcome
from copilot.knowledge import KnowledgeBase

SLOTS = {"customer_name": "Anna", "agent_name": "Minh", "brand": "Avada"}


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load(SHIPPED_KNOWLEDGE)


@pytest.fixture(scope="module")
def repairer(kb: KnowledgeBase) -> Repairer:
    return Repairer(GuardrailEngine.from_knowledge(kb))


def run(repairer: Repairer, kb: KnowledgeBase, text: str, platform: str, step: str) -> RepairOutcome:
    context = repairer.engine.context(text, platform=platform, step=step)
    return repairer.repair(text, context, SLOTS, kb.flows["livechat"].step(step))


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
