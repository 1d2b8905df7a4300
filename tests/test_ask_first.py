"""Ask first: an answer unit whose procedure needs details the conversation does not give yet asks for them
at the flow's asking step, citing the unit, and answers once the agent has asked (small fixture, hashing
embedder)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import document
from helpers.draft_kb import ANSWERS, SECTIONS, draft, draft_knowledge, indexed_copilot

from copilot import KnowledgeBase, KnowledgeError
from copilot.compose.scripted import ScriptedChatModel
from copilot.understand.units import answer_units

MISSING_ASK = ("Let's track down the missing points, {customer_name}. Which order earned them, and on which "
               "date was it paid? I will look that order up in the points log.")
MISSING_REPLY = ("Points arrive once the order is marked paid, {customer_name}; a refunded order takes its "
                 "points back.")
MISSING_ASK_VI = "Dạ anh/chị {customer_name} cho em mã đơn và ngày thanh toán để em tra điểm nhé."
MISSING_UNIT = document(
    "points-missing", "Loyalty points missing after an order",
    "# Points missing\n\n## When to use\nA merchant says a shopper did not get the points of an order.\n\n"
    f"## Reply (English)\n{MISSING_REPLY}\n\n## Ask first (English)\n{MISSING_ASK}\n\n"
    f"## Hỏi trước (Tiếng Việt)\n{MISSING_ASK_VI}",
    kind="faq", platforms="[livechat]", language="[en, vi]", answers="[points_question]", steps="[solution]")
EXAMPLES = """\
examples:
  - {text: "a shopper paid but got no points", answer: points-missing}
  - {text: "points never showed up for my customer's order", answer: points-missing}
  - {text: "the order went through and zero points were added", answer: points-missing}
  - {text: "missing loyalty points on a paid order", answer: points-missing}
  - {text: "how long do my shoppers keep their points", answer: points-expiry}
  - {text: "do reward points ever expire", answer: points-expiry}
  - {text: "can the points widget use our brand green", answer: widget-colours}
  - {text: "could the widget be darker", answer: widget-colours}
"""
AGENT = {"name": "Ivy", "brand": "Sprout"}
HELLO = "Good day Noor, you are chatting with Ivy from Sprout. Thanks for writing in."


@pytest.fixture
def knowledge(make_knowledge: Callable[..., Path]) -> Path:
    root = draft_knowledge(make_knowledge)
    (root / "faqs" / "points-missing.md").write_text(MISSING_UNIT, encoding="utf-8")
    (root / "answer-examples").mkdir(exist_ok=True)
    for old in (root / "answer-examples").glob("*.yaml"):
        old.unlink()
    (root / "answer-examples" / "points.yaml").write_text(EXAMPLES, encoding="utf-8")
    (root / "sections.yaml").write_text(SECTIONS + "ask: [ask first, hỏi trước]\n", encoding="utf-8")
    return root


@pytest.fixture
def copilot(knowledge: Path, tmp_path: Path) -> Any:
    return indexed_copilot(knowledge, tmp_path / "index")


def _chat(*turns: tuple[str, str]) -> dict[str, Any]:
    return {"platform": "livechat", "customer": {"name": "Noor"}, "agent": AGENT,
            "messages": [{"role": role, "text": text} for role, text in turns]}


def test_a_unit_keeps_its_ask_first_message_per_language_apart_from_its_reply(knowledge: Path) -> None:
    kb = KnowledgeBase.load(knowledge)
    unit = next(u for u in answer_units(kb.documents, kb.sections) if u.id == "points-missing")
    assert unit.asks["en"] == ("Ask first (English)", MISSING_ASK)
    assert unit.asks["vi"][1] == MISSING_ASK_VI
    assert unit.reply("en") == ("Reply (English)", MISSING_REPLY)


def test_at_the_asking_step_the_draft_asks_the_units_details_and_cites_it(copilot: Any) -> None:
    response = draft(copilot, _chat(("customer", "hello"), ("agent", HELLO),
                                    ("customer", "a shopper paid but got no points")))
    assert response.step == "questions" and response.acts == ["questions"]
    assert response.draft == MISSING_ASK.replace("{customer_name}", "Noor")
    assert [c.id for c in response.citations] == ["points-missing"]
    assert response.answer is None and response.need is not None


def test_once_the_agent_asked_the_details_the_draft_answers(copilot: Any) -> None:
    asked = MISSING_ASK.replace("{customer_name}", "Noor")
    response = draft(copilot, _chat(("customer", "hello"), ("agent", HELLO),
                                    ("customer", "a shopper paid but got no points"), ("agent", asked),
                                    ("customer", "order 1042, paid on Monday, still no points")))
    assert response.answer is not None and response.answer.id == "points-missing"
    assert MISSING_REPLY.replace("{customer_name}", "Noor") in response.draft


def test_a_first_message_is_greeted_and_answered_not_asked(copilot: Any) -> None:
    response = draft(copilot, _chat(("customer", "hi, a shopper paid but got no points")))
    assert response.acts[0] == "hello" and "questions" not in response.acts
    assert response.answer is not None and MISSING_ASK[:30] not in response.draft


def test_the_llm_is_told_to_ask_the_details_not_to_give_the_fix(knowledge: Path, tmp_path: Path) -> None:
    model = ScriptedChatModel("Which order was it, Noor, and when was it paid? [1]")
    copilot = indexed_copilot(knowledge, tmp_path / "index", model=model)
    response = draft(copilot, _chat(("customer", "hello"), ("agent", HELLO),
                                    ("customer", "a shopper paid but got no points")))
    user = model.history[0].messages[1]["content"]
    assert "do not give the fix or the policy yet" in user and "(id: points-missing)" in user
    assert MISSING_ASK[:40] in user and MISSING_REPLY[:40] not in user
    assert response.answer is None and [c.id for c in response.citations] == ["points-missing"]


def test_a_folder_without_a_triage_table_still_drafts_from_its_units(knowledge: Path, tmp_path: Path) -> None:
    (knowledge / "triage.yaml").unlink()
    copilot = indexed_copilot(knowledge, tmp_path / "index")
    response = draft(copilot, _chat(("customer", "hello"), ("agent", HELLO),
                                    ("customer", "a shopper paid but got no points")))
    assert response.draft == MISSING_ASK.replace("{customer_name}", "Noor") and response.need is not None


DETAILS_ANSWERS = ANSWERS.replace("questions:\n", """  details:
    values: [given, missing]
    ask: {en: "What do you see?", vi: "Anh/chị thấy gì ạ?"}
ask_first: {condition: details, when: missing}
questions:
""", 1)
DETAILS_EXAMPLES = """\
condition: details
examples:
  - {text: "points are gone", value: missing}
  - {text: "something is off with the points", value: missing}
  - {text: "a shopper paid but got no points", value: missing}
  - {text: "my customer has no points", value: missing}
  - {text: "points broken", value: missing}
  - {text: "order 5531 paid on the 3rd earned nothing", value: given}
  - {text: "order 2208, paid Friday, the log shows zero", value: given}
  - {text: "it was order 7719 paid yesterday morning", value: given}
  - {text: "order 1204 from last Tuesday has no points in the log", value: given}
  - {text: "hello there", value: none}
  - {text: "thanks a lot", value: none}
  - {text: "ok", value: none}
"""


@pytest.fixture
def gated(knowledge: Path, tmp_path: Path) -> Any:
    """The fixture with `ask_first` in answers.yaml: ask only when the details read as missing."""
    (knowledge / "answers.yaml").write_text(DETAILS_ANSWERS, encoding="utf-8")
    (knowledge / "condition-examples" / "details.yaml").write_text(DETAILS_EXAMPLES, encoding="utf-8")
    return indexed_copilot(knowledge, tmp_path / "index")


def test_with_ask_first_set_a_message_read_as_missing_details_is_asked(gated: Any) -> None:
    response = draft(gated, _chat(("customer", "hello"), ("agent", HELLO),
                                  ("customer", "a shopper paid but got no points")))
    assert response.draft == MISSING_ASK.replace("{customer_name}", "Noor") and response.answer is None


def test_with_ask_first_set_a_message_that_gives_the_details_is_answered(gated: Any) -> None:
    response = draft(gated, _chat(("customer", "hello"), ("agent", HELLO),
                                  ("customer", "A shopper paid but got no points. Order 4410, paid Monday, "
                                               "the log shows zero.")))
    assert response.answer is not None and response.answer.id == "points-missing"
    assert MISSING_REPLY.replace("{customer_name}", "Noor") in response.draft


def test_ask_first_must_name_a_declared_condition_and_value(knowledge: Path, tmp_path: Path) -> None:
    (knowledge / "answers.yaml").write_text(
        DETAILS_ANSWERS.replace("when: missing", "when: vague"), encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"ask_first.*details: vague.*declared"):
        indexed_copilot(knowledge, tmp_path / "index")
