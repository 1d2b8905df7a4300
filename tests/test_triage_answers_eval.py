"""The eval's score of the first-line bot's own replies: an auto-reply is right when it carries the case's
facts and nothing forbidden; handed-off cases, and auto-replies where a person should have taken the case, are
scored by the handoff field. A triage case's facts are checked when the dataset is read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from copilot.errors import DatasetError
from copilot.triage.contracts import AutoReply, TriageResponse
from evals.datasets import Known, load_cases
from evals.triage import auto_reply_scores

FACTS = {"must_include_any": [["repot", "new pot"], ["spring", "march"]], "must_not_include": ["water daily"]}


def replied(text: str | None, handoff: bool = False) -> TriageResponse:
    auto = AutoReply(text=text, citations=[]) if text is not None else None
    return TriageResponse.model_construct(handoff=handoff, auto_reply=auto)


@pytest.mark.parametrize(("expected", "output", "scores"), [
    ({**FACTS, "handoff": False}, replied("Repot it in spring, into a new pot."), {"auto_reply_right": 1.0}),
    ({**FACTS, "handoff": False}, replied("Repot it whenever you like."), {"auto_reply_right": 0.0}),
    ({**FACTS, "handoff": False}, replied("Repot in March and water daily."), {"auto_reply_right": 0.0}),
    ({"handoff": True}, replied("Repot in March."), {}),  # a person should have: the handoff recall counts it
    ({**FACTS, "handoff": False}, replied(None, handoff=True), {}),  # handed off: the handoff field scores it
    ({"handoff": False}, replied("Repot in March."), {}),  # the case says nothing of the answer
])
def test_an_auto_reply_is_right_when_it_carries_the_facts_and_the_case_wanted_one(
        expected: dict[str, Any], output: TriageResponse, scores: dict[str, float]) -> None:
    assert auto_reply_scores(expected, output) == scores


def test_a_triage_cases_facts_are_checked_when_read(tmp_path: Path) -> None:
    message = {"role": "customer", "text": "when to repot?"}
    case = {"id": "t1", "kind": "triage", "input": {"messages": [message]},
            "expected": {"handoff": False, "must_include_any": ["repot"]}}
    path = tmp_path / "triage_facts.jsonl"
    path.write_text(json.dumps(case) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="must_include_any"):
        list(load_cases([path], Known(), "triage"))
    case["expected"] = {"handoff": False, "must_include_any": [["repot"]], "must_not_include": "water"}
    path.write_text(json.dumps(case) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="must_not_include"):
        list(load_cases([path], Known(), "triage"))
