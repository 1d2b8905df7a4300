"""The tracker sends the sentences of a conversation's agent messages to the model together, each once."""

from __future__ import annotations

from pathlib import Path

from helpers import MINI_FLOW

from copilot.contracts import Message
from copilot.flow.flows import load_flow
from copilot.flow.tracker import StepTracker
from copilot.retrieval.embedders import HashingEmbedder


def agent_turns(*texts: str) -> list[Message]:
    messages = []
    for text in texts:
        messages += [Message(role="customer", text="hello there"), Message(role="agent", text=text)]
    return [*messages, Message(role="customer", text="ok thanks")]


def test_every_new_agent_sentence_is_embedded_in_one_call_and_only_once(tmp_path: Path) -> None:
    (tmp_path / "livechat.yaml").write_text(MINI_FLOW, encoding="utf-8")
    embedder = HashingEmbedder()
    tracker = StepTracker(load_flow(tmp_path / "livechat.yaml"), embedder)
    exemplars = len(embedder.calls)
    first = agent_turns("Hi Anna, how are you today? I will look into it.", "Let me solve the problem now.",
                        "Thank you so much for your patience!")
    location = tracker.locate(first)
    new_calls = embedder.calls[exemplars:]
    assert len(new_calls) == 1 and len(new_calls[0]) == 4
    tracker.locate([*first, Message(role="agent", text="Is there anything else for you today?")])
    assert embedder.calls[exemplars + 1:] == [["is there anything else for you today?"]]
    tracker.clear_caches()
    assert tracker.locate(first) == location and len(embedder.calls) == exemplars + 3
