"""The learned step model: flow-agnostic features, the fit, a flow's labelled conversations, the report."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from helpers.desk_flow import BROKEN, CHANGED, DESK, OPENING, desk, desk_examples

from copilot.contracts import Message
from copilot.errors import KnowledgeError
from copilot.flow import learned
from copilot.flow.flows import load_examples, load_flow
from copilot.flow.learned import ActModel, MomentModel, teach
from copilot.flow.step_model import FEATURES, PACKAGED, Example, Examples, StepModel, features, fit
from copilot.flow.tracker import StepTracker
from copilot.retrieval.embedders import HashingEmbedder, SentenceTransformerEmbedder


def opening(customer: str) -> list[Message]:
    return [Message(role="customer", text="hello, I want to return something"),
            Message(role="agent", text="Welcome to the returns desk, what can I do for you today?"),
            Message(role="customer", text="I'd like to return an item"),
            Message(role="agent", text="Which order number is this about?"),
            Message(role="customer", text=customer)]


def labelled() -> list[tuple[list[Message], str]]:
    return [*((opening(text), "replacement") for text in BROKEN), *((opening(text), "return_reason")
                                                                     for text in CHANGED)]


def test_the_features_never_name_a_step(tmp_path: Path) -> None:
    """Renaming every step of a flow leaves every candidate's features unchanged: the weights carry to
    any flow."""
    flow = desk(tmp_path)
    renamed = json.loads(json.dumps(DESK).replace("order_number", "s2").replace("return_reason", "s3")
                         .replace("replacement", "s4").replace("refund", "s5").replace("closing", "s6"))
    renamed["id"] = "renamed"
    (tmp_path / "renamed.yaml").write_text(yaml.safe_dump(renamed), encoding="utf-8")
    other = load_flow(tmp_path / "renamed.yaml")
    embedder = HashingEmbedder()
    moments = [(StepTracker(flow, embedder).read(messages), step) for messages, step in labelled()]
    renamed_moments = [(StepTracker(other, embedder).read(messages), {"replacement": "s4"}.get(step, "s3"))
                       for messages, step in labelled()]
    conversation = opening("the teapot lid is chipped")
    mine = features(flow, StepTracker(flow, embedder).read(conversation), Examples.build(flow, moments))
    theirs = features(other, StepTracker(other, embedder).read(conversation),
                      Examples.build(other, renamed_moments))
    assert mine.shape == (len(flow.steps), len(FEATURES))
    np.testing.assert_array_equal(mine, theirs)


def test_the_fit_learns_which_feature_marks_the_step_taken() -> None:
    rng = np.random.default_rng(3)
    examples = []
    for _ in range(200):
        rows = rng.normal(size=(5, len(FEATURES))).astype(np.float32)
        chosen = int(rng.integers(5))
        rows[:, 7] = 0.0
        rows[chosen, 7] = 1.0  # the "done" column marks the step taken in this synthetic world
        examples.append(Example(rows, chosen))
    model = fit(examples)
    assert int(np.argmax(model.weights)) == 7
    assert fit(examples).weights.tobytes() == model.weights.tobytes()  # deterministic
    hits = sum(int(np.argmax(e.rows @ model.weights)) == e.chosen for e in examples)
    assert hits == len(examples)


def test_weights_round_trip_and_refuse_other_features(tmp_path: Path) -> None:
    model = StepModel(np.linspace(-1, 1, len(FEATURES)))
    model.save(tmp_path / "m.json")
    assert np.allclose(StepModel.load(tmp_path / "m.json").weights, model.weights, atol=1e-6)
    data = json.loads((tmp_path / "m.json").read_text())
    data["features"] = data["features"][:-1]
    data["weights"] = data["weights"][:-1]
    (tmp_path / "m.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="copilot step-train"):
        StepModel.load(tmp_path / "m.json")
    assert len(StepModel.load(PACKAGED).weights) == len(FEATURES)


def test_labelled_conversations_are_checked_line_by_line(tmp_path: Path) -> None:
    flow = desk(tmp_path)
    path = tmp_path / "returns_desk.examples.jsonl"
    good = {"input": {"messages": [{"role": "customer", "text": "hi"}]}, "expected": {"step": "welcome"}}
    path.write_text(json.dumps(good) + "\n\n" + json.dumps(good) + "\n", encoding="utf-8")
    assert [m.step for m in load_examples(path, flow).moments] == ["welcome", "welcome"]
    for line, message in [
        ("{not json", "3: not valid JSON"),
        (json.dumps({"input": {}}), "3: a labelled moment needs input.messages and expected.step"),
        (json.dumps({**good, "expected": {"step": "dance"}}), "unknown step 'dance' for flow 'returns_desk'"),
        (json.dumps({"input": {"messages": [{"role": "bot", "text": "x"}]}, "expected": {"step": "welcome"}}),
         "3: field 'input.messages.0.role'"),
        (json.dumps({"messages": [{"role": "agent", "text": "x", "step": "dance"}]}),
         "3: field 'messages\\[0\\].step': unknown step 'dance'"),
        (json.dumps({"messages": [{"role": "agent", "text": "x", "step": "welcome", "acts": ["hop"]}]}),
         "3: field 'messages\\[0\\].acts': unknown step 'hop'"),
        (json.dumps({"messages": []}), "3: field 'messages'"),
    ]:
        path.write_text(json.dumps(good) + "\n\n" + line + "\n", encoding="utf-8")
        with pytest.raises(KnowledgeError, match=message):
            load_examples(path, flow)


def test_a_labelled_transcript_gives_a_moment_and_an_agent_message_per_labelled_reply(tmp_path: Path) -> None:
    flow = desk(tmp_path)
    path = tmp_path / "returns_desk.examples.jsonl"
    transcript = {"id": "t1", "customer": {"name": "Ana"}, "agent": {"name": "Bo", "brand": "Shelf"},
                  "messages": [{"role": "customer", "text": "hi, the lamp arrived broken"},
                               {"role": "agent", "text": "Welcome Ana! Which order is it?", "step": "welcome",
                                "acts": ["welcome", "order_number"]},
                               {"role": "customer", "text": "A-12"},
                               {"role": "agent", "text": "Sorry! A new one ships today.",
                                "step": "replacement"},
                               {"role": "agent", "text": "an unlabelled aside"}]}
    path.write_text(json.dumps(transcript) + "\n", encoding="utf-8")
    examples = load_examples(path, flow)
    assert [(len(m.messages), m.step) for m in examples.moments] == [(1, "welcome"), (3, "replacement")]
    assert examples.moments[1].names == ("Ana", "Bo", "Shelf")
    assert [(t.text, t.acts) for t in examples.turns] == [
        ("Welcome Ana! Which order is it?", ("welcome", "order_number")),
        ("Sorry! A new one ships today.", ("replacement",))]  # no acts: the step is the one act


@pytest.mark.slow
def test_a_flows_labelled_conversations_teach_it_what_its_graph_does_not_say(tmp_path: Path) -> None:
    """The graph goes from the order number to the return reason; the team's conversations show that a broken
    item gets a replacement at once. With them, a new conversation in other words follows the team."""
    flow = desk(tmp_path)
    embedder = SentenceTransformerEmbedder()
    plain = StepTracker(flow, embedder)
    broken = opening("the cup came with its handle broken off")
    changed = opening("honestly I changed my mind about it")
    assert plain.locate(broken).step == "return_reason"  # the graph alone
    taught = StepTracker(flow, embedder)
    moments = [(taught.read(messages), step) for messages, step in labelled()]
    taught.model = StepModel.load().chooser(flow, Examples.build(flow, moments))
    assert taught.locate(broken).step == "replacement"
    assert taught.locate(changed).step == "return_reason"
    assert "step model" in taught.locate(broken).reasons[0]




def test_enough_labelled_transcripts_teach_the_flow_its_own_acts_and_next_steps(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With enough labelled transcripts the tracker recognises an agent message by what agents wrote (the act
    model), and picks the next step with the flow's own moment model; with too few it keeps the templates."""
    flow = desk(tmp_path)
    examples = desk_examples(tmp_path, flow)
    assert (len(examples.moments), len(examples.turns)) == (24, 24)
    embedder = HashingEmbedder()
    untaught = teach(StepTracker(flow, embedder), examples)
    assert untaught.acts is None and untaught.model is None  # under MIN_TURNS and MIN_MOMENTS
    assert untaught.performed(OPENING) == ("order_number",)  # the templates miss the welcome
    monkeypatch.setattr(learned, "MIN_TURNS", 10)
    monkeypatch.setattr(learned, "MIN_MOMENTS", 10)
    tracker = teach(StepTracker(flow, embedder), examples)
    assert isinstance(tracker.acts, ActModel) and isinstance(tracker.model, MomentModel)
    assert tracker.performed(OPENING) == ("welcome", "order_number")
    broken = [Message(role="customer", text="hello"),
              Message(role="agent", text=OPENING),
              Message(role="customer", text="the vase was smashed when I opened the box")]
    located = tracker.locate(broken)
    assert located.step == "replacement" and located.steps_done == ["welcome", "order_number"]
    assert "labelled conversations" in located.reasons[0]
    changed = [*broken[:2], Message(role="customer", text="I no longer need it")]
    assert tracker.locate(changed).step == "return_reason"
    again = teach(StepTracker(flow, embedder), examples)
    assert np.array_equal(again.model.probabilities(tracker.read(changed)),
                          tracker.model.probabilities(tracker.read(changed)))  # deterministic


@pytest.mark.slow
def test_the_report_and_the_bench_run_on_a_slice_of_star_dev() -> None:
    from bench.steps import run_step_bench, step_markdown
    from evals.steps import STAR_DEV, markdown, read_star, report

    embedder = SentenceTransformerEmbedder()
    corpus = read_star(embedder, limit=4)
    assert len(corpus.domains()) == 6
    table = report(corpus, curve=(0, 2))
    text = markdown(table)
    assert "| graph else BM25 |" in text and "| learned, up to 2 labelled |" in text
    tested = table["all"]["graph"].total
    assert tested == sum(table[d]["graph"].total for d in corpus.domains()) > 0
    assert table["all"]["learned, up to 2 labelled"].total == tested
    cost = run_step_bench(embedder, STAR_DEV, lambda _: None, labelled_count=3, new=4, growing_count=1)
    section = step_markdown(cost)
    assert "| learned, new conversation | 4 |" in section and cost.labelled_moments > 0


@pytest.mark.slow
def test_a_team_adds_a_flow_and_its_labelled_conversations_and_drafts_follow_them(
        make_knowledge: Callable[..., Path], tmp_path: Path) -> None:
    from copilot import Copilot, Settings
    from copilot.contracts import DraftRequest

    lines = "\n".join(json.dumps({"input": {"messages": [m.model_dump(exclude_none=True) for m in messages]},
                                  "expected": {"step": step}}) for messages, step in labelled())
    root = make_knowledge({"flows/returns_desk.yaml": yaml.safe_dump(DESK),
                           "flows/returns_desk.examples.jsonl": lines + "\n"})
    copilot = Copilot(Settings(knowledge_dir=root, index_dir=tmp_path / "index"))
    copilot.warm_up()
    assert copilot.drafter.tracker(copilot.knowledge.flows["returns_desk"]).model is not None
    body = {"platform": "livechat", "flow": "returns_desk", "language": "en",
            "messages": [m.model_dump(exclude_none=True)
                         for m in opening("the mirror arrived with a crack across it")]}
    response = copilot.draft(DraftRequest.model_validate(body))
    assert response.step == "replacement"
    assert "new one" in response.draft
    (root / "flows" / "returns_desk.examples.jsonl").write_text(lines + '\n{"input": {}}\n', encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"returns_desk.examples.jsonl:13"):
        copilot.ingest()
    # the old knowledge still serves
    assert copilot.draft(DraftRequest.model_validate(body)).step == "replacement"
    (root / "flows" / "returns_desk.examples.jsonl").write_text(lines + "\n", encoding="utf-8")
    # a reindex while serving reads the labelled conversations again before any draft needs them
    copilot.ingest()
    assert "returns_desk" in copilot.drafter._trackers


@pytest.mark.slow
def test_the_step_bench_serves_the_flow_with_and_without_its_labelled_conversations(
        shipped_copilot: Any, tmp_path: Path) -> None:
    from helpers import SHIPPED_KNOWLEDGE

    from bench.steps import run_step_http
    from evals.steps import STAR_DEV

    timings = run_step_http(STAR_DEV, SHIPPED_KNOWLEDGE, shipped_copilot.settings.index_dir, tmp_path,
                            lambda _: None, labelled_count=3, counts=((2, 4),), growing_count=1)
    assert {name: t.samples for name, t in timings.items() if "new" in name} == {
        "graph, new conversation, concurrency 2": 4, "learned, new conversation, concurrency 2": 4}
    assert all(t.samples > 0 for name, t in timings.items() if "growing" in name)
