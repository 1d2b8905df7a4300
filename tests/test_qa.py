"""QA mode scores finished human conversations for flow compliance."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO
from typer.testing import CliRunner

from copilot import Copilot, DatasetError, KnowledgeError
from copilot.cli import app
from copilot.qa import load_transcripts, review_conversation, summarise

pytestmark = pytest.mark.slow
SAMPLE = REPO / "evals" / "transcripts" / "sample.jsonl"


@pytest.fixture(scope="module")
def reviews(shipped_copilot: Copilot) -> dict[str, Any]:
    tracker = shipped_copilot.drafter.tracker(shipped_copilot.knowledge.flows["livechat"])
    transcripts = load_transcripts(SAMPLE, shipped_copilot.knowledge)
    return {t.id: review_conversation(t, tracker, shipped_copilot.guardrails) for t in transcripts}


def test_a_conversation_that_follows_the_whole_flow_scores_full_marks(reviews: dict[str, Any]) -> None:
    good = reviews["avada-good"]
    assert good.steps_missing == [] and good.in_order and good.review_asked and good.score == 100


def test_a_farewell_without_review_ask_is_caught(reviews: dict[str, Any]) -> None:
    review = reviews["avada-no-review"]
    assert not review.review_asked and review.score < 60 and "probing" in review.steps_missing


def test_rule_violations_are_reported_per_message(reviews: dict[str, Any]) -> None:
    review = reviews["shopee-violation"]
    flagged = [m for m in review.messages if m.violations]
    assert len(flagged) == 1 and flagged[0].index == 2
    assert {v.rule for v in flagged[0].violations} == {"buyer_cancel_request", "off_platform_transaction"}
    assert review.review_asked


def test_summary_counts_rules_and_missed_steps(reviews: dict[str, Any]) -> None:
    summary = summarise(list(reviews.values()), ["greeting", "probing"])
    assert summary["conversations"] == 3 and summary["review_ask_rate"] == pytest.approx(0.667, abs=1e-3)
    assert summary["violations_by_rule"] == {"buyer_cancel_request": 1, "off_platform_transaction": 1}


def test_cli_prints_the_table_and_json(shipped_copilot: Copilot) -> None:
    index = str(shipped_copilot.settings.index_dir)
    result = CliRunner().invoke(app, ["qa", str(SAMPLE), "--json", "--index", index])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["summary"]["conversations"] == 3 and data["conversations"][0]["id"] == "avada-good"


def test_a_bad_line_is_named_with_its_number(tmp_path: Path, shipped_copilot: Copilot) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": "a", "messages": [{"role": "customer", "text": "hi"}]}\n'
                    '{"id": "b", "messages": []}\n')
    with pytest.raises(DatasetError, match=r"t.jsonl:2: field 'messages'"):
        load_transcripts(path, shipped_copilot.knowledge)


def test_the_summary_counts_the_steps_of_every_flow_the_transcripts_follow(
        make_knowledge: Callable[..., Path], tmp_path: Path) -> None:
    """A transcript of a team's own flow has its missed steps counted too, not only the live-chat flow's."""
    from copilot.knowledge import KnowledgeBase
    from copilot.qa import steps_of

    other = "id: returns\ntitle: Returns\nsteps:\n  - {id: welcome, title: Welcome, goal: Welcome.}\n" \
            "  - {id: label, title: Label, goal: Send the return label.}\n"
    knowledge = KnowledgeBase.load(make_knowledge({"flows/returns.yaml": other}))
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": "a", "messages": [{"role": "customer", "text": "hi"}]}\n'
                    '{"id": "b", "flow": "returns", "messages": [{"role": "customer", "text": "hi"}]}\n')
    assert steps_of(load_transcripts(path, knowledge), knowledge) == [*knowledge.flows["livechat"].step_ids,
                                                                     "welcome", "label"]


def test_the_scores_weights_are_the_knowledge_folders(reviews: dict[str, Any], shipped_copilot: Copilot,
                                                     tmp_path: Path) -> None:
    """A team that cares only about the review ask says so in review.yaml; `copilot qa` scores by it."""
    from copilot.review.config import QAWeights

    transcripts = load_transcripts(SAMPLE, shipped_copilot.knowledge)
    tracker = shipped_copilot.drafter.tracker(shipped_copilot.knowledge.flows["livechat"])
    only_ask = QAWeights(steps=0, order=0, review_ask=100, clean=0, per_blocking=0)
    scored = {t.id: review_conversation(t, tracker, shipped_copilot.guardrails, only_ask).score
              for t in transcripts}
    assert scored == {key: 100.0 if review.review_asked else 0.0 for key, review in reviews.items()}
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "review.yaml").write_text("qa: {steps: 60, order: 20, review_ask: 10, clean: 20}\n")
    with pytest.raises(KnowledgeError, match=r"review.yaml.*add up to 100 \(they add up to 110\)"):
        QAWeights.of(folder)
    assert QAWeights.of(tmp_path) == QAWeights()  # no review.yaml: the defaults
    (folder / "review.yaml").write_text("qa: fifty-fifty\n")
    with pytest.raises(KnowledgeError, match=r"review.yaml"):
        QAWeights.of(folder)  # a `qa` that is no table of weights is named, not ignored
