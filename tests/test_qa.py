"""QA mode scores finished human conversations for flow compliance: the code, on the small flow, rule pack and
review.yaml of `helpers.qa_kb` with the hashing embedder, so every assertion names the fixture's own steps,
rules and weights. How the shipped knowledge scores the sample transcripts is in `test_shipped_review.py`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.qa_kb import TRANSCRIPTS, cli_with_hashing, qa_copilot, qa_knowledge, write_jsonl
from typer.testing import CliRunner

from copilot import Copilot, DatasetError, KnowledgeError
from copilot.cli import app
from copilot.qa import ConversationReview, Transcript, load_transcripts, review_conversation, summarise
from copilot.review.config import QAWeights

STEPS = ["greeting", "probing", "troubleshoot", "farewell"]


@pytest.fixture
def knowledge(make_knowledge: Callable[..., Path]) -> Path:
    return qa_knowledge(make_knowledge)


@pytest.fixture
def copilot(knowledge: Path, tmp_path: Path) -> Copilot:
    return qa_copilot(knowledge, tmp_path)


@pytest.fixture
def transcripts(copilot: Copilot, tmp_path: Path) -> list[Transcript]:
    return load_transcripts(write_jsonl(tmp_path / "chats.jsonl", TRANSCRIPTS), copilot.knowledge)


def reviewed(copilot: Copilot, transcripts: list[Transcript],
             weights: QAWeights | None = None) -> dict[str, ConversationReview]:
    """Each transcript's review, scored by `weights` (by default the fixture's review.yaml)."""
    tracker = copilot.drafter.tracker(copilot.knowledge.flows["livechat"])
    weights = weights or QAWeights.of(copilot.knowledge.root)
    return {t.id: review_conversation(t, tracker, copilot.guardrails, weights) for t in transcripts}


@pytest.fixture
def reviews(copilot: Copilot, transcripts: list[Transcript]) -> dict[str, ConversationReview]:
    return reviewed(copilot, transcripts)


def test_a_conversation_that_follows_the_whole_flow_scores_full_marks(
        reviews: dict[str, ConversationReview]) -> None:
    full = reviews["qa-full"]
    assert full.steps_covered == STEPS and full.steps_missing == [] and full.in_order
    assert full.review_asked and full.violations == [] and full.score == 100


def test_a_farewell_without_the_rating_ask_is_caught(reviews: dict[str, ConversationReview]) -> None:
    review = reviews["qa-no-rating"]
    assert not review.review_asked and review.steps_missing == ["probing"]
    assert review.score == 40 * 3 / 4 + 10 + 0 + 20  # review.yaml: steps, order, review ask, clean


def test_rule_violations_are_reported_per_message(reviews: dict[str, ConversationReview]) -> None:
    review = reviews["qa-slip"]
    flagged = [m for m in review.messages if m.violations]
    assert len(flagged) == 1 and flagged[0].index == 2
    assert {v.rule for v in flagged[0].violations} == {"cancel_for_us", "outside_contact"}
    assert review.review_asked
    assert review.steps_missing == ["probing"]
    assert review.score == 40 * 3 / 4 + 10 + 30 + 0  # two blocking rules take the 20 for clean messages


def test_a_marketplace_rule_is_not_applied_off_the_marketplace(
        copilot: Copilot, transcripts: list[Transcript]) -> None:
    slip = next(t for t in transcripts if t.id == "qa-slip")
    on_live_chat = reviewed(copilot, [slip.model_copy(update={"platform": "livechat"})])["qa-slip"]
    assert on_live_chat.violations == [] and on_live_chat.score == 40 * 3 / 4 + 10 + 30 + 20


def test_summary_counts_rules_and_missed_steps(reviews: dict[str, ConversationReview]) -> None:
    summary = summarise(list(reviews.values()), STEPS)
    assert summary["conversations"] == 3 and summary["review_ask_rate"] == pytest.approx(0.667, abs=1e-3)
    assert summary["violations_by_rule"] == {"cancel_for_us": 1, "outside_contact": 1}
    assert summary["missed_steps"] == {"probing": 2}
    assert summary["average_score"] == round((100 + 60 + 70) / 3, 1) and summary["in_order_rate"] == 1.0


def test_the_scores_weights_are_the_knowledge_folders(copilot: Copilot,
                                                     transcripts: list[Transcript]) -> None:
    """A team that cares only about the review ask says so in review.yaml; without one, the defaults."""
    by_folder = reviewed(copilot, transcripts)
    only_ask = reviewed(copilot, transcripts, QAWeights(steps=0, order=0, review_ask=100, clean=0,
                                                         per_blocking=0))
    assert {key: r.score for key, r in only_ask.items()} == {
        key: 100.0 if review.review_asked else 0.0 for key, review in by_folder.items()}
    defaults = reviewed(copilot, transcripts, QAWeights())
    assert defaults["qa-no-rating"].score == 50 * 3 / 4 + 20 + 0 + 15 != by_folder["qa-no-rating"].score


def test_the_command_prints_the_table_and_json_scored_by_review_yaml(
        knowledge: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli_with_hashing(monkeypatch)
    path = write_jsonl(tmp_path / "chats.jsonl", TRANSCRIPTS)
    options = ["--knowledge", str(knowledge), "--index", str(tmp_path / "index")]
    result = CliRunner().invoke(app, ["qa", str(path), "--json", *options])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["summary"]["conversations"] == 3 and data["summary"]["missed_steps"]["probing"] == 2
    assert {c["id"]: c["score"] for c in data["conversations"]} == {"qa-full": 100, "qa-no-rating": 60,
                                                                   "qa-slip": 70}
    slip = data["conversations"][2]
    flagged = [(m["index"], {v["rule"] for v in m["violations"]}) for m in slip["messages"]
               if m["violations"]]
    assert flagged == [(2, {"cancel_for_us", "outside_contact"})]
    table = CliRunner().invoke(app, ["qa", str(path), *options])
    assert table.exit_code == 0 and "QA of 3 conversations" in table.stdout, table.output
    assert "'violations_by_rule': {'cancel_for_us': 1, 'outside_contact': 1}" in table.stdout


def test_a_bad_line_is_named_with_its_number(make_knowledge: Callable[..., Path], tmp_path: Path) -> None:
    from copilot.knowledge import KnowledgeBase

    path = tmp_path / "t.jsonl"
    path.write_text('{"id": "a", "messages": [{"role": "customer", "text": "psst"}]}\n'
                    '{"id": "b", "messages": []}\n')
    with pytest.raises(DatasetError, match=r"t.jsonl:2: field 'messages'"):
        load_transcripts(path, KnowledgeBase.load(make_knowledge()))


def test_the_summary_counts_the_steps_of_every_flow_the_transcripts_follow(
        make_knowledge: Callable[..., Path], tmp_path: Path) -> None:
    """A transcript of a team's own flow has its missed steps counted too, not only the live-chat flow's."""
    from copilot.knowledge import KnowledgeBase
    from copilot.qa import steps_of

    other = "id: returns\ntitle: Returns\nsteps:\n  - {id: welcome, title: Welcome, goal: Welcome.}\n" \
            "  - {id: label, title: Label, goal: Send the return label.}\n"
    knowledge = KnowledgeBase.load(make_knowledge({"flows/returns.yaml": other}))
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": "a", "messages": [{"role": "customer", "text": "psst"}]}\n'
                    '{"id": "b", "flow": "returns", "messages": [{"role": "customer", "text": "psst"}]}\n')
    assert steps_of(load_transcripts(path, knowledge), knowledge) == [*knowledge.flows["livechat"].step_ids,
                                                                     "welcome", "label"]


def test_weights_that_do_not_add_up_or_are_no_table_are_named(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "review.yaml").write_text("qa: {steps: 60, order: 20, review_ask: 10, clean: 20}\n")
    with pytest.raises(KnowledgeError, match=r"review.yaml.*add up to 100 \(they add up to 110\)"):
        QAWeights.of(folder)
    assert QAWeights.of(tmp_path) == QAWeights()  # no review.yaml: the defaults
    (folder / "review.yaml").write_text("qa: fifty-fifty\n")
    with pytest.raises(KnowledgeError, match=r"review.yaml"):
        QAWeights.of(folder)  # a `qa` that is no table of weights is named, not ignored
