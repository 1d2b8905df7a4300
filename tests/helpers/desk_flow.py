"""A small flow of the tests' own, a returns desk, and labelled transcripts of it: the step model's and the
taught tracker's tests share them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from copilot.flow.flows import Flow, FlowExamples, load_examples, load_flow

DESK = {
    "id": "returns_desk",
    "title": "Returns desk",
    "steps": [
        {"id": "welcome", "title": "Welcome", "goal": "Welcome the customer.", "next": ["order_number"],
         "templates": {"en": ["Welcome to the returns desk, what can I do for you today?"]}},
        {"id": "order_number", "title": "Order number", "goal": "Ask for the order number.",
         "next": ["return_reason"], "templates": {"en": ["Which order number is this about?"]}},
        {"id": "return_reason", "title": "Return reason", "goal": "Ask why the item goes back.",
         "next": ["refund"], "templates": {"en": ["May I ask why you would like to send it back?"]}},
        {"id": "replacement", "title": "Replacement", "goal": "Offer a new unit for a broken item.",
         "next": ["closing"],
         "templates": {"en": ["I am sorry it came damaged: we will ship you a new one."]}},
        {"id": "refund", "title": "Refund", "goal": "Start the refund.", "next": ["closing"],
         "templates": {"en": ["I have started your refund, it reaches your card within five days."]}},
        {"id": "closing", "title": "Closing", "goal": "Close the chat.",
         "templates": {"en": ["Is there anything more I can help with? Have a good day!"]}},
    ],
}
BROKEN = ["the vase was smashed when I opened the box", "my kettle shows a big crack on the side",
          "screen of the tablet is shattered on arrival", "the lamp arrived in pieces",
          "one leg of the chair snapped off in transit", "glass of the frame is broken"]
CHANGED = ["I just don't like the colour anymore", "bought the wrong size by mistake",
           "found it cheaper somewhere else", "I no longer need it", "it does not fit my room",
           "my sister already gave me one"]


OPENING = "Good morning, thanks for writing in! Could you give me the number printed on your receipt?"


def desk(tmp_path: Path) -> Flow:
    path = tmp_path / "returns_desk.yaml"
    path.write_text(yaml.safe_dump(DESK), encoding="utf-8")
    return load_flow(path)


def desk_transcript(customer: str, broken: bool, number: int) -> list[dict[str, Any]]:
    """A labelled transcript of the desk: the agent welcomes and asks the order number in one message, then
    replaces a broken item or asks why a changed mind sends it back."""
    replies = ([("We are sorry it broke, a new one ships to you today.", "replacement")] if broken
               else [("May I ask why you would like to send it back?", "return_reason")])
    messages: list[dict[str, Any]] = [
        {"role": "customer", "text": f"hello, about order {number}"},
        {"role": "agent", "text": OPENING,
         "step": "welcome", "acts": ["welcome", "order_number"]},
        {"role": "customer", "text": customer}]
    for text, step in replies:
        messages.append({"role": "agent", "text": text, "step": step})
    return messages


def desk_examples(tmp_path: Path, flow: Flow) -> FlowExamples:
    """Twelve labelled transcripts of the desk (six broken items replaced, six changed minds asked why),
    written beside the flow and read back."""
    path = tmp_path / "returns_desk.examples.jsonl"
    stories = [*((t, True) for t in BROKEN), *((t, False) for t in CHANGED)]
    lines = [json.dumps({"messages": desk_transcript(text, broken, n)})
             for n, (text, broken) in enumerate(stories)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_examples(path, flow)
