"""The step tracker on the shipped flow (`knowledge/flows/livechat.yaml`): customers' words and the flow's
own cues, templates and graph pick the next step. How the tracker follows any flow from its YAML alone is
tested on flows of the tests' own (`test_tracker.py`): editing the shipped flow may fail this file, never
that one."""

from __future__ import annotations

import pytest
from helpers import SHIPPED_KNOWLEDGE

from copilot import KnowledgeBase
from copilot.contracts import Message
from copilot.flow.tracker import StepTracker
from copilot.retrieval.embedders import SentenceTransformerEmbedder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tracker() -> StepTracker:
    flow = KnowledgeBase.load(SHIPPED_KNOWLEDGE).flows["livechat"]  # its cues read the shipped chat shorthand
    return StepTracker(flow, SentenceTransformerEmbedder())


def conversation(*turns: str) -> list[Message]:
    """Alternate customer / agent turns, starting with the customer."""
    return [Message(role="customer" if i % 2 == 0 else "agent", text=t) for i, t in enumerate(turns)]


GREETING = "Hi Anna, this is Minh from Avada. Thanks for reaching out!"
GREETING_VI = "Dạ em chào chị Lan, em là Minh bên Đậu Shop ạ. Chị cần em hỗ trợ gì ạ?"


@pytest.mark.parametrize(("turns", "step"), [
    (["hi, my popup is broken!!"], "greeting"),
    (["hello", GREETING, "the popup is not working on my store"], "probing"),
    (["hello", GREETING, "This is the third time it breaks, this is ridiculous!!"], "empathy"),
    (["Shop ơi", GREETING_VI, "Em lỡ chọn sai màu rồi, cho em hủy đơn này được không shop?"],
     "troubleshoot"),
    (["hi", GREETING, "my popup stopped showing", "Could you tell me which page and since when?",
      "homepage, since yesterday, store is anna-shop.myshopify.com"], "set_expectation"),
    (["hi", GREETING, "popup gone", "Please enable the app embed in Online Store > Themes > Customize.",
      "ok I did that and saved"], "update_result"),
    (["hi", GREETING, "popup gone", "I've just fixed the issue! Could you double-check that it works now?",
      "yes it works now"], "achieve_more"),
    (["hi", GREETING, "popup gone", "I've just fixed the issue! Could you double-check that it works now?",
      "thanks, all good now!"], "farewell"),
    (["hi", GREETING, "popup gone", "Is there anything else I can help you with today?",
      "yes, another issue: the countdown timer shows the wrong time"], "probing"),
    (["chao shop", GREETING_VI, "don cua minh giao 6 ngay roi van chua nhan duoc, ma don 230512ABC"],
     "set_expectation"),
    # "điện thoại" (phone) folds to the letters of "điên" (mad): asking for a phone number is not
    # anger.
    (["Shop ơi", GREETING_VI, "cho mình xin số điện thoại của shop để hỏi đơn hàng"],
     "probing"),
])
def test_next_step_follows_the_customer_and_the_flow(
    tracker: StepTracker, turns: list[str], step: str
) -> None:
    names = ["Anna", "Lan", "Minh", "Avada", "Đậu Shop"]
    assert tracker.locate(conversation(*turns), names=names).step == step


def test_one_agent_message_can_perform_several_steps(tracker: StepTracker) -> None:
    message = ("Hi Anna, this is Minh from Avada. I'm so sorry for the trouble this has caused you. "
               "Could you share a bit more detail about when it started?")
    assert tracker.performed(message.replace("Anna", "").replace("Minh", "").replace("Avada", "")) == (
        "greeting", "empathy", "probing")


def test_location_reports_steps_done_next_steps_and_a_reason(tracker: StepTracker) -> None:
    location = tracker.locate(conversation("hello", GREETING, "the popup is not working"),
                              names=["Anna", "Minh"])
    assert location.steps_done == ["greeting"]
    assert location.next_steps == ["set_expectation", "troubleshoot", "probing"]
    assert location.reasons and "probing" in location.reasons[0]
