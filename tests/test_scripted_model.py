"""The scripted ChatModel, the seam's in-process double: what it answers and records, how callers use it (on
helpers.qa_kb's small knowledge base, its triage table too, with the hashing embedder)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.qa_kb import qa_knowledge

from copilot import Copilot, Settings
from copilot.compose.base import ChatModel, ChatModelError, Completion
from copilot.compose.breaker import GuardedChatModel
from copilot.compose.local import LocalComposer
from copilot.compose.openai_chat import OpenAIChatModel
from copilot.compose.scripted import ScriptedChatModel
from copilot.contracts import DraftRequest, Message
from copilot.retrieval.embedders import HashingEmbedder
from copilot.triage.contracts import TriageRequest

CHAT = {"platform": "livechat", "customer": {"name": "Anna"}, "agent": {"name": "Minh", "brand": "Nha May"},
        "messages": [{"role": "customer", "text": "Hi, my popup is not showing on the homepage"}]}
VOICE = 'voice:\n  vi: "xưng tớ, gọi khách là cậu"\n  en: "short sentences, never an emoji"\n'


@pytest.fixture
def build(make_knowledge: Callable[..., Path], tmp_path: Path) -> Callable[..., Copilot]:
    """A copilot over helpers.qa_kb's knowledge base (with `docs` added) that writes with `model`, indexed
    with the hashing embedder."""

    def make(model: ChatModel, docs: dict[str, str | None] | None = None) -> Copilot:
        settings = Settings(knowledge_dir=qa_knowledge(make_knowledge, docs), index_dir=tmp_path / "index")
        copilot = Copilot(settings, embedder=HashingEmbedder(), model=model)
        copilot.ingest()
        return copilot

    return make


def test_it_answers_in_order_records_each_call_and_raises_what_was_enqueued() -> None:
    model = ScriptedChatModel().enqueue_json({"intent": "billing"}, ChatModelError("timed out"))
    assert model.complete_json([{"role": "user", "content": "read this"}]) == {"intent": "billing"}
    with pytest.raises(ChatModelError, match="timed out"):
        model.complete_json([{"role": "user", "content": "again"}])
    with pytest.raises(ChatModelError, match="nothing enqueued for call 3"):
        model.complete_json([])
    assert [call.method for call in model.history] == ["complete_json"] * 3
    assert model.history[1].messages == [{"role": "user", "content": "again"}]


def test_replies_and_json_answers_are_two_queues() -> None:
    model = ScriptedChatModel("plain words")
    with pytest.raises(ChatModelError, match="nothing enqueued for call 1 \\(complete_json\\)"):
        model.complete_json([])
    assert model.enqueue_json({"ok": True}).complete_json([]) == {"ok": True}
    assert ScriptedChatModel(Completion("done", "scripted")).name == "scripted"


def test_every_model_declares_what_it_can_do() -> None:
    assert (LocalComposer.can_stream, LocalComposer.supports_json) == (False, False)
    assert (OpenAIChatModel.can_stream, OpenAIChatModel.supports_json) == (True, True)
    guarded = GuardedChatModel(ScriptedChatModel())
    assert guarded.supports_json and guarded.can_stream
    with pytest.raises(ChatModelError, match="not JSON"):
        LocalComposer().complete_json([])


def test_a_draft_through_the_scripted_model_is_its_reply_with_the_prompt_it_was_given(
    build: Callable[..., Copilot]
) -> None:
    model = ScriptedChatModel("Hi Anna, Minh at Nha May here. Which page of your shop should show the popup?")
    response = build(model).draft(DraftRequest.model_validate(CHAT))
    assert response.model == "scripted" and not response.degraded
    assert response.draft.startswith("Hi Anna, Minh at Nha May here.")
    (call,) = model.history
    assert call.method == "complete" and call.prompt is not None
    assert "my popup is not showing" in " ".join(m["content"] for m in call.messages)


def test_a_failing_scripted_model_leaves_the_local_composer_to_draft_marked_degraded(
    build: Callable[..., Copilot]
) -> None:
    model = ScriptedChatModel(ChatModelError("the endpoint is down"))
    response = build(model).draft(DraftRequest.model_validate(CHAT))
    assert response.degraded and response.draft and response.model != "scripted" and len(model.history) == 1


def test_triage_asks_a_model_that_writes_json_and_falls_back_when_it_names_no_intent(
    build: Callable[..., Copilot]
) -> None:
    model = ScriptedChatModel().enqueue_json(
        {"intent": "voucher", "urgency": "low", "sentiment": "neutral", "confidence": 0.9},
        {"intent": "no_such_intent", "urgency": "low", "sentiment": "neutral", "confidence": 0.9})
    copilot = build(model)
    request = TriageRequest(platform="livechat",
                            messages=[Message(role="customer", text="hello, a question")])
    first, second = copilot.triage(request), copilot.triage(request)
    asked = [call for call in model.history if call.method == "complete_json"]
    assert first.intent == "voucher" and len(asked) == 2
    prompt = asked[0].messages[0]["content"]
    assert "hello, a question" in prompt and ", ".join(copilot.triager.config.intents) in prompt
    assert second.intent != "no_such_intent" and any("local model" in r for r in second.reasons)


@pytest.mark.parametrize(("platform", "text", "note", "not_note"), [
    ("shopee", "Kiện hàng của tớ đi tới đâu rồi shop?", "(xưng tớ, gọi khách là cậu)", "never an emoji"),
    ("livechat", "Where is my parcel, please?", "(short sentences, never an emoji)", "xưng tớ"),
], ids=["vi", "en"])
def test_the_llm_is_told_how_to_write_the_language_in_the_knowledge_bases_words(
    build: Callable[..., Copilot], platform: str, text: str, note: str, not_note: str
) -> None:
    model = ScriptedChatModel("Dạ tớ kiểm tra ngay nhé.")
    copilot = build(model, {"answers.yaml": VOICE})
    copilot.draft(DraftRequest.model_validate({"platform": platform,
                                               "messages": [{"role": "customer", "text": text}]}))
    system = model.history[0].messages[0]["content"]
    assert note in system and not_note not in system


UNSHOWN_PARCEL = r"""rules:
  - id: unshown_parcel
    type: forbidden
    unless_said: true
    patterns: ['\bparcel (is|was) (delivered|dropped off)\b']
    message: {en: "Do not report a delivery the conversation does not show."}
"""


def test_a_model_draft_reporting_an_action_the_conversation_does_not_show_is_rewritten(
    build: Callable[..., Copilot]
) -> None:
    model = ScriptedChatModel("Hi Anna, your parcel was delivered this morning.",
                              "Hi Anna, I'll check where your parcel is and come back to you.")
    copilot = build(model)
    (copilot.settings.knowledge_dir / "rules" / "claims.yaml").write_text(UNSHOWN_PARCEL, encoding="utf-8")
    copilot.ingest()  # the team's new rule pack, read with the knowledge
    response = copilot.draft(DraftRequest.model_validate(CHAT))
    assert response.draft.startswith("Hi Anna, I'll check where your parcel is")
    assert response.guardrails.allowed and any("unshown_parcel" in r for r in response.guardrails.repairs)
    assert len(model.history) == 2 and "Do not report a delivery" in str(model.history[1].messages)
    said = {**CHAT, "messages": [*CHAT["messages"],
                                 {"role": "agent", "text": "The courier says your parcel was delivered."},
                                 {"role": "customer", "text": "ok, where?"}]}
    model.enqueue("Your parcel was delivered this morning, at the front desk.")
    assert copilot.draft(DraftRequest.model_validate(said)).guardrails.repairs == []  # it was shown
