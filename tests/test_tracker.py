"""The step tracker on the shipped flow and on a flow it has never seen, from the YAML alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpers import SHIPPED_KNOWLEDGE

from copilot.contracts import Message
from copilot.flow.flows import Flow, load_flow
from copilot.flow.tracker import StepTracker
from copilot.retrieval.embedders import SentenceTransformerEmbedder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


@pytest.fixture(scope="module")
def tracker(embedder: SentenceTransformerEmbedder) -> StepTracker:
    return StepTracker(load_flow(SHIPPED_KNOWLEDGE / "flows" / "livechat.yaml"), embedder)


def conversation(*turns: str) -> list[Message]:
    """Alternate customer / agent turns, starting with the customer."""
    return [Message(role="customer" if i % 2 == 0 else "agent", text=t) for i, t in enumerate(turns)]


GREETING = "Hi Anna, this is Minh from Avada. Thanks for reaching out!"
GREETING_VI = "Dạ em chào chị Lan, em là Minh bên Đậu Shop ạ. Chị cần em hỗ trợ gì ạ?"


@pytest.mark.parametrize(("turns", "step"), [
    (["hi, my popup is broken!!"], "greeting"),
    (["hello", GREETING, "the popup is not working on my store"], "probing"),
    (["hello", GREETING, "This is the third time it breaks, this is ridiculous!!"], "empathy"),
    (["Shop ơi", GREETING_VI, "Shop ơi em đặt nhầm size, muốn hủy đơn được không?"],
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


UNSEEN_FLOW = {
    "id": "bank_kyc",
    "title": "Account verification",
    "steps": [
        {"id": "hello", "title": "Hello", "goal": "Say hello and introduce the bank.", "next": ["ask_name"],
         "templates": {"en": ["Hello, welcome to Lotus Bank verification."]}},
        {"id": "ask_name", "title": "Ask name", "goal": "Ask for the customer's full legal name.",
         "next": ["ask_account_number"], "templates": {"en": ["May I have your full legal name, please?"]}},
        {"id": "ask_account_number", "title": "Ask account number",
         "goal": "Ask for the bank account number.", "next": ["confirm"],
         "templates": {"en": ["Could you type your account number?"]}},
        {"id": "confirm", "title": "Confirm", "goal": "Confirm the identity is verified.",
         "next": ["goodbye"], "templates": {"en": ["Thank you, your identity is verified."]}},
        {"id": "goodbye", "title": "Goodbye", "goal": "Close the conversation.",
         "templates": {"en": ["Have a nice day, goodbye."]}},
    ],
}


@pytest.fixture(scope="module")
def unseen(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> StepTracker:
    path = tmp_path_factory.mktemp("flows") / "bank_kyc.yaml"
    path.write_text(yaml.safe_dump(UNSEEN_FLOW), encoding="utf-8")
    return StepTracker(load_flow(path), embedder)


@pytest.mark.parametrize(("turns", "step", "done"), [
    (["hi I need to verify my account"], "hello", []),
    (["hi", "Hello there, welcome to Lotus Bank verification!", "ok"], "ask_name", ["hello"]),
    (["hi", "Hello, welcome to Lotus Bank verification. What is your full legal name?", "Tran Van An"],
     "ask_account_number", ["hello", "ask_name"]),
    (["hi", "Welcome to Lotus Bank verification.", "hey", "Can I have your full legal name please?",
      "Tran Van An", "Thanks! Now please type your bank account number.", "0123456789"], "confirm",
     ["hello", "ask_name", "ask_account_number"]),
])
def test_a_flow_never_seen_before_is_followed_from_its_yaml(
    unseen: StepTracker, turns: list[str], step: str, done: list[str]
) -> None:
    location = unseen.locate(conversation(*turns))
    assert (location.step, location.steps_done) == (step, done)


def test_flow_without_cues_or_templates_still_loads(tmp_path: Path) -> None:
    bare = {"id": "bare", "title": "Bare", "steps": [{"id": "a", "title": "A", "goal": "Do A."},
                                                     {"id": "b", "title": "B", "goal": "Do B."}]}
    path = tmp_path / "bare.yaml"
    path.write_text(yaml.safe_dump(bare), encoding="utf-8")
    flow: Flow = load_flow(path)
    tracker = StepTracker(flow)
    assert tracker.locate(conversation("hi", "We do A now.", "ok")).step == "b"


def test_names_are_removed_as_whole_words() -> None:
    from copilot.flow.tracker import without_names

    removed = without_names("Hi Lan, An here. Is there anything else?", ["An", "Lan"])
    assert removed == "Hi ,  here. Is there anything else?"
    assert without_names("Dạ em chào chị Ánh, em là An ạ", ["Ánh", "An"]) == (
        "Dạ em chào chị , em là  ạ")
