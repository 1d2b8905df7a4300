"""Drafts that answer, on the shipped knowledge base: the policy's answer when the need is clear, the one
telling question when it is not, the same understanding handed to an OpenAI-compatible model."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import SHIPPED_KNOWLEDGE

from copilot import Copilot, Settings
from copilot.compose.scripted import ScriptedChatModel
from copilot.compose.slots import dangling_words
from copilot.contracts import DraftRequest

pytestmark = pytest.mark.slow


def _shopee(*turns: tuple[str, str], **extra: Any) -> dict[str, Any]:
    return {"platform": "shopee", "messages": [{"role": r, "text": t} for r, t in turns], **extra}


AFTER_HANDOVER = _shopee(
    ("customer", "shop oi"),
    ("agent", "Dạ em chào chị ạ, chị cần em hỗ trợ gì ạ?"),
    (
        "customer",
        "đơn mình bên vận chuyển lấy đi rồi, đang trên đường giao, giờ không muốn nhận nữa hủy được không",
    ),
    customer={"name": "Hoa"},
    agent={"name": "Minh", "brand": "Đậu Shop"},
)
UNCLEAR_CANCEL = _shopee(("customer", "alo shop"), ("agent", "Dạ shop nghe ạ"), ("customer", "hủy đơn"))


def draft(copilot: Copilot, body: dict[str, Any]) -> Any:
    return copilot.draft(DraftRequest.model_validate(body))


def test_a_cancel_after_the_hand_over_gets_the_policy_answer_cited_in_vietnamese(
    shipped_copilot: Copilot,
) -> None:
    response = draft(shipped_copilot, AFTER_HANDOVER)
    assert response.answer is not None and response.answer.id == "macro-cancel-after-handover"
    assert response.acts == ["troubleshoot"] and response.language == "vi"
    assert [c.id for c in response.citations][:1] == ["macro-cancel-after-handover"]
    assert "chị Hoa" in response.draft and "anh/chị" not in response.draft  # addressed as the agent did
    assert response.guardrails.allowed


def test_an_unclear_cancel_asks_whether_the_parcel_was_handed_over_and_cites_no_policy(
    shipped_copilot: Copilot,
) -> None:
    response = draft(shipped_copilot, UNCLEAR_CANCEL)
    assert response.answer is None and not response.citations
    assert response.acts == ["probing"] and "vận chuyển" in response.draft and response.draft.endswith("?")


def test_a_first_message_that_asks_is_greeted_and_answered_in_one_reply(shipped_copilot: Copilot) -> None:
    body = {"platform": "livechat", "customer": {"name": "Sam"}, "agent": {"name": "Ivy", "brand": "Avada"},
            "messages": [{"role": "customer",
                          "text": "hey - does your free trial cost anything, and when would billing start?"}]}
    response = draft(shipped_copilot, body)
    assert response.step == "greeting" and response.acts[0] == "greeting" and len(response.acts) >= 2
    assert response.answer is not None and response.answer.id == "faq-free-trial"
    assert response.draft.startswith("Hi Sam") and "trial" in response.draft


def test_no_agent_name_leaves_no_gap_in_either_language(shipped_copilot: Copilot) -> None:
    for platform, text in (("livechat", "hello there"), ("shopee", "shop ơi")):
        response = draft(
            shipped_copilot, {"platform": platform, "messages": [{"role": "customer", "text": text}]}
        )
        words = shipped_copilot.knowledge.slot_words
        assert response.draft and not dangling_words(response.draft, words), response.draft


def llm_copilot(shipped_copilot: Copilot, model: ScriptedChatModel) -> Copilot:
    settings = Settings(knowledge_dir=SHIPPED_KNOWLEDGE, index_dir=shipped_copilot.settings.index_dir)
    return Copilot(settings, embedder=shipped_copilot.index.embedder, model=model)


def test_the_llm_prompt_carries_the_selected_answer_and_the_acts(shipped_copilot: Copilot) -> None:
    model = ScriptedChatModel("Dạ đơn của chị đã giao cho đơn vị vận chuyển nên không hủy được nữa ạ [1].")
    response = draft(llm_copilot(shipped_copilot, model), AFTER_HANDOVER)
    user = model.history[0].messages[1]["content"]
    assert (
        "(id: macro-cancel-after-handover)" in user and user.count("(id: ") == 1
    )  # the unit, not a search's top 4
    assert "This message performs, in order: Troubleshoot." in user and "answered by passage [1]" in user
    assert response.answer is not None and response.citations[0].id == "macro-cancel-after-handover"


def test_when_nothing_is_sure_the_llm_is_told_so_and_given_the_question(shipped_copilot: Copilot) -> None:
    model = ScriptedChatModel("Dạ chị cho em hỏi đơn đã giao cho đơn vị vận chuyển chưa ạ?")
    response = draft(llm_copilot(shipped_copilot, model), UNCLEAR_CANCEL)
    user = model.history[0].messages[1]["content"]
    assert "No answer of the knowledge base is sure enough" in user and "vận chuyển" in user
    assert "(id: " not in user and response.answer is None
