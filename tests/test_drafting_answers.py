"""Drafts that answer, on the small plant-shop knowledge base written by the tests (`helpers.draft_kb`)
with the hashing embedder: the unit's answer when the need is clear, the one telling question when it is not,
the same understanding handed to an LLM. What the shipped units answer is in `test_shipped_drafting.py`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers.draft_kb import (
    CANCEL_UNCLEAR,
    CANCEL_WITH_COURIER,
    FIRST_QUESTION,
    HELLO,
    PARCEL_QUESTION_VI,
    POINTS_REPLY,
    WITH_COURIER_REPLY,
    draft,
    draft_knowledge,
    indexed_copilot,
)

from copilot import Copilot
from copilot.compose.scripted import ScriptedChatModel
from copilot.compose.slots import dangling_words
from copilot.triage.contracts import TriageRequest

COURIER_ANSWER = WITH_COURIER_REPLY.replace("anh/chị {customer_name}", "chị Hoa").replace("anh/chị", "chị")


@pytest.fixture
def build(make_knowledge: Callable[..., Path], tmp_path: Path) -> Callable[..., Copilot]:
    """A copilot over the fixture, indexed; `model` is its chat model (the local composer without one)."""
    knowledge = draft_knowledge(make_knowledge)

    def make(model: Any = None) -> Copilot:
        copilot: Copilot = indexed_copilot(knowledge, tmp_path / "index", model)
        return copilot

    return make


@pytest.fixture
def copilot(build: Callable[..., Copilot]) -> Copilot:
    return build()


def test_a_cancel_with_the_courier_gets_that_units_answer_cited_in_vietnamese(copilot: Copilot) -> None:
    response = draft(copilot, CANCEL_WITH_COURIER)
    assert response.answer is not None and response.answer.id == "with-courier"
    assert response.acts == ["solution"] and response.language == "vi"
    assert [c.id for c in response.citations][:1] == ["with-courier"]
    assert "chị Hoa" in response.draft and "anh/chị" not in response.draft  # as the agent addressed her
    assert response.draft == COURIER_ANSWER
    assert response.need is not None and response.need.intent == "cancel_order"
    assert response.guardrails.allowed


def test_an_unclear_cancel_asks_where_the_parcel_is_and_cites_no_unit(copilot: Copilot) -> None:
    response = draft(copilot, CANCEL_UNCLEAR)
    assert response.answer is None and not response.citations
    assert response.acts == ["questions"] and response.draft == PARCEL_QUESTION_VI


def test_a_first_message_that_asks_is_greeted_and_answered_in_one_reply(copilot: Copilot) -> None:
    response = draft(copilot, FIRST_QUESTION)
    assert response.step == "hello" and response.acts == ["hello", "solution"]
    assert response.answer is not None and response.answer.id == "points-expiry"
    names = {"customer_name": "Sam", "agent_name": "Ivy", "brand": "Sprout"}
    assert response.draft == f"{HELLO['en'].format(**names)} {POINTS_REPLY.format(**names)}"


@pytest.mark.parametrize(("platform", "text", "greeting"), [
    ("livechat", "hello there", "Good day. Thanks for writing in."),
    ("shopee", "shop ơi", "Chào nha. Shop vui vì anh/chị ghé hỏi ạ."),
], ids=["english", "vietnamese"])
def test_no_names_leave_no_gap_in_either_language(copilot: Copilot, platform: str, text: str,
                                                  greeting: str) -> None:
    response = draft(copilot, {"platform": platform, "messages": [{"role": "customer", "text": text}]})
    words = copilot.knowledge.slot_words
    assert response.acts[0] == "hello" and response.draft.startswith(greeting), response.draft
    assert not dangling_words(response.draft, words), response.draft
    language = "en" if platform == "livechat" else "vi"
    emptied = HELLO[language].format(customer_name="", agent_name="", brand="")
    assert dangling_words(emptied, words)  # the template with its slots merely emptied would leave a gap


def test_the_llm_prompt_carries_the_selected_answer_and_the_acts(build: Callable[..., Copilot]) -> None:
    model = ScriptedChatModel("Dạ chậu cây của chị đã đi cùng bên vận chuyển nên không dừng được nữa ạ [1].")
    response = draft(build(model), CANCEL_WITH_COURIER)
    user = model.history[0].messages[1]["content"]
    assert "(id: with-courier)" in user and user.count("(id: ") == 1  # the unit, not a search's top four
    assert "This message performs, in order: Solution." in user and "answered by passage [1]" in user
    assert response.answer is not None and response.citations[0].id == "with-courier"


def test_when_nothing_is_sure_the_llm_is_told_so_and_given_the_question(
    build: Callable[..., Copilot],
) -> None:
    model = ScriptedChatModel("Dạ cho em hỏi chậu cây đã rời kho chưa ạ?")
    response = draft(build(model), CANCEL_UNCLEAR)
    user = model.history[0].messages[1]["content"]
    assert "No answer of the knowledge base is sure enough" in user and PARCEL_QUESTION_VI in user
    assert "(id: " not in user and response.answer is None


@pytest.mark.parametrize("line", [None, 1.0])
def test_the_bots_own_answer_threshold_holds_it_to_a_stricter_line_than_drafts(
        make_knowledge: Callable[..., Path], tmp_path: Path, line: float | None) -> None:
    """`answer_threshold` in triage.yaml: the bot, whose reply no agent reads first, sends a unit's answer
    alone only from that probability; drafts keep answers.yaml's threshold."""
    knowledge = draft_knowledge(make_knowledge)
    if line is not None:
        table = knowledge / "triage.yaml"
        table.write_text(table.read_text(encoding="utf-8") + f"answer_threshold: {line}\n", encoding="utf-8")
    copilot = indexed_copilot(knowledge, tmp_path / "index", None)
    request = TriageRequest.model_validate(
        {"platform": "shopee", "customer": {"name": "Hoa"}, "messages": CANCEL_WITH_COURIER["messages"][-1:]})
    result = copilot.triage(request)
    drafted = draft(copilot, CANCEL_WITH_COURIER)
    assert drafted.answer is not None  # the draft answers either way
    if line is None:
        assert result.auto_reply is not None, result.reasons
    else:
        assert result.handoff and result.auto_reply is None
        said = [reason for reason in result.reasons if "likely; the bot sends alone at 1.0" in reason]
        assert said, result.reasons
