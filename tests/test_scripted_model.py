"""The scripted ChatModel, the seam's in-process double: what it answers and records, how callers use it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from copilot import Copilot, Settings
from copilot.compose.base import ChatModel, ChatModelError, Completion
from copilot.compose.breaker import GuardedChatModel
from copilot.compose.local import LocalComposer
from copilot.compose.openai_chat import OpenAIChatModel
from copilot.compose.scripted import ScriptedChatModel
from copilot.contracts import DraftRequest, Message
from copilot.triage.engine import TriageRequest

CHAT = {"platform": "livechat", "customer": {"name": "Anna"}, "agent": {"name": "Minh", "brand": "Avada"},
        "messages": [{"role": "customer", "text": "Hi, my popup is not showing on the homepage"}]}


def scripted_copilot(shipped_copilot: Any, model: ChatModel) -> Copilot:
    settings = Settings(knowledge_dir=shipped_copilot.settings.knowledge_dir,
                        index_dir=shipped_copilot.settings.index_dir)
    return Copilot(settings, embedder=shipped_copilot.index.embedder, model=model)


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


@pytest.mark.slow
def test_a_draft_through_the_scripted_model_is_its_reply_with_the_prompt_it_was_given(
    shipped_copilot: Any
) -> None:
    model = ScriptedChatModel("Hi Anna, this is Minh from Avada. "
                              "Could you share your store URL so I can check?")
    response = scripted_copilot(shipped_copilot, model).draft(DraftRequest.model_validate(CHAT))
    assert response.model == "scripted" and not response.degraded
    assert response.draft.startswith("Hi Anna, this is Minh from Avada")
    (call,) = model.history
    assert call.method == "complete" and call.prompt is not None
    assert "my popup is not showing" in " ".join(m["content"] for m in call.messages)


@pytest.mark.slow
def test_a_failing_scripted_model_leaves_the_local_composer_to_draft_marked_degraded(
    shipped_copilot: Any
) -> None:
    model = ScriptedChatModel(ChatModelError("the endpoint is down"))
    response = scripted_copilot(shipped_copilot, model).draft(DraftRequest.model_validate(CHAT))
    assert response.degraded and response.draft and len(model.history) == 1


@pytest.mark.slow
def test_triage_asks_a_model_that_writes_json_and_falls_back_when_it_names_no_intent(
    shipped_copilot: Any
) -> None:
    intent = next(iter(shipped_copilot.triager.config.intents))
    model = ScriptedChatModel().enqueue_json(
        {"intent": intent, "urgency": "low", "sentiment": "neutral", "confidence": 0.9},
        {"intent": "no_such_intent", "urgency": "low", "sentiment": "neutral", "confidence": 0.9})
    copilot = scripted_copilot(shipped_copilot, model)
    request = TriageRequest(platform="livechat",
                            messages=[Message(role="customer", text="hello, a question")])
    first, second = copilot.triage(request), copilot.triage(request)
    asked = [call for call in model.history if call.method == "complete_json"]
    assert first.intent == intent and len(asked) == 2
    assert "hello, a question" in asked[0].messages[0]["content"]
    assert second.intent != "no_such_intent"  # the local model read it instead


@pytest.mark.slow
def test_the_llm_is_told_how_to_write_the_language_in_the_knowledge_bases_words(shipped_copilot: Any,
                                                                               tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(shipped_copilot.settings.knowledge_dir, knowledge)
    answers = knowledge / "answers.yaml"
    text = answers.read_text(encoding="utf-8")
    team_words = '  vi: "xưng mình, gọi khách là bạn"'
    answers.write_text(re.sub(r"(?m)^  vi: .*diacritics.*$", team_words, text, count=1), encoding="utf-8")
    model = ScriptedChatModel("Dạ mình kiểm tra ngay ạ.")
    copilot = Copilot(Settings(knowledge_dir=knowledge, index_dir=tmp_path / "index"),
                      embedder=shipped_copilot.index.embedder, model=model)
    copilot.ingest()
    request = {"platform": "shopee",
               "messages": [{"role": "customer", "text": "Shop ơi đơn của mình đến đâu rồi?"}]}
    copilot.draft(DraftRequest.model_validate(request))
    system = model.history[0].messages[0]["content"]
    assert "(xưng mình, gọi khách là bạn)" in system and "full diacritics" not in system
