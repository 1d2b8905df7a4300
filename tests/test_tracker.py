"""The step tracker on flows of the tests' own, from the YAML alone (the shipped flow is followed in
`test_shipped_tracker.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from copilot.contracts import Message
from copilot.flow.flows import Flow, load_flow
from copilot.flow.tracker import StepTracker
from copilot.retrieval.embedders import SentenceTransformerEmbedder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


def conversation(*turns: str) -> list[Message]:
    """Alternate customer / agent turns, starting with the customer."""
    return [Message(role="customer" if i % 2 == 0 else "agent", text=t) for i, t in enumerate(turns)]


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


def test_one_agent_message_can_perform_several_steps(unseen: StepTracker) -> None:
    message = "Hello, welcome to Lotus Bank verification. Could you tell me your full legal name?"
    assert unseen.performed(message) == ("hello", "ask_name")


def test_location_reports_steps_done_next_steps_and_a_reason(unseen: StepTracker) -> None:
    location = unseen.locate(conversation("hi", "Welcome to Lotus Bank verification!", "ok"))
    assert (location.step, location.steps_done) == ("ask_name", ["hello"])
    assert location.next_steps == ["ask_account_number"]
    assert location.reasons and "ask_name" in location.reasons[0]


def test_a_customer_cue_calls_for_its_step_and_names_the_cue(tmp_path: Path) -> None:
    flow = {**UNSEEN_FLOW, "steps": [*UNSEEN_FLOW["steps"][:-1],
                                     {**UNSEEN_FLOW["steps"][-1], "cues": [r"\b(that is all|bye)\b"]}]}
    path = tmp_path / "bank_kyc.yaml"
    path.write_text(yaml.safe_dump(flow), encoding="utf-8")
    tracker = StepTracker(load_flow(path))
    location = tracker.locate(conversation("hi", "Hello, welcome to Lotus Bank verification.", "that is all"))
    assert location.step == "goodbye" and location.reasons == ["customer cue 'that is all' calls for goodbye"]
    assert tracker.locate(conversation("hi", "Hello, welcome to Lotus Bank verification.", "ok")).step == \
        "ask_name"  # no cue: the graph


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
