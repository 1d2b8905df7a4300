"""A flow's taught step models: what the understanding stage reads steers them, they are kept on disk keyed by
what they were fitted from, and a later start loads them instead of reading every labelled conversation."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers.desk_flow import BROKEN, CHANGED, DESK, OPENING, desk, desk_examples, desk_transcript

from copilot.contracts import DraftRequest, Message
from copilot.flow import learned
from copilot.flow.fitted import kept_path, load_taught, taught_key, write_taught
from copilot.flow.flows import FlowExamples, LabelledMoment, load_examples
from copilot.flow.learned import ActModel, AnswerMoments, MomentModel, teach
from copilot.flow.tracker import StepTracker
from copilot.retrieval.embedders import HashingEmbedder


@pytest.fixture
def few(monkeypatch: pytest.MonkeyPatch) -> None:
    """The desk's twelve transcripts are enough to teach both models."""
    monkeypatch.setattr(learned, "MIN_TURNS", 10)
    monkeypatch.setattr(learned, "MIN_MOMENTS", 10)


def conversation(customer: str) -> list[Message]:
    return [Message(role="customer", text="hello"), Message(role="agent", text=OPENING),
            Message(role="customer", text=customer)]


def test_the_taught_models_round_trip_through_their_file(tmp_path: Path, few: None) -> None:
    flow = desk(tmp_path)
    examples = desk_examples(tmp_path, flow)
    embedder = HashingEmbedder()
    taught = teach(StepTracker(flow, embedder), examples)
    key = taught_key(flow, examples, embedder.name)
    path = tmp_path / "returns_desk.fitted.npz"
    write_taught(taught, path, key)
    loaded = StepTracker(flow, embedder)
    assert load_taught(loaded, path, key)
    assert isinstance(loaded.acts, ActModel) and isinstance(loaded.model, MomentModel)
    for text in ("the teapot lid arrived cracked", "I would rather keep my money"):
        reading = taught.read(conversation(text))
        assert np.array_equal(loaded.model.probabilities(reading), taught.model.probabilities(reading))
        assert loaded.locate(conversation(text)) == taught.locate(conversation(text))
    assert loaded.performed(OPENING) == taught.performed(OPENING) == ("welcome", "order_number")


def test_a_stale_or_broken_file_is_not_loaded(tmp_path: Path, few: None) -> None:
    flow = desk(tmp_path)
    examples = desk_examples(tmp_path, flow)
    embedder = HashingEmbedder()
    key = taught_key(flow, examples, embedder.name)
    path = tmp_path / "returns_desk.fitted.npz"
    write_taught(teach(StepTracker(flow, embedder), examples), path, key)
    fewer = FlowExamples(moments=examples.moments[:-1], turns=examples.turns)
    assert taught_key(flow, fewer, embedder.name) != key
    assert taught_key(flow, examples, "another-embedder") != key
    untouched = StepTracker(flow, embedder)
    assert not load_taught(untouched, path, taught_key(flow, fewer, embedder.name))
    path.write_bytes(b"not an archive")
    assert not load_taught(untouched, path, key)
    assert not load_taught(untouched, tmp_path / "missing.fitted.npz", key)
    assert untouched.acts is None and untouched.model is None


def test_what_the_understanding_reads_steers_the_moment_model(tmp_path: Path, few: None) -> None:
    """The same words can call for two steps: the hints (here, whether a sure answer is ready) tell them
    apart, as the answer selector's confidence does for drafts."""
    flow = desk(tmp_path)
    same = "it is about the thing I bought"
    moments = [LabelledMoment(messages=tuple(conversation(same)), step=step)
               for step in ("replacement", "return_reason") * 8]
    ready = {id(m): (1.0,) if m.step == "replacement" else (0.0,) for m in moments}
    tracker = teach(StepTracker(flow, HashingEmbedder()), FlowExamples(moments=tuple(moments)),
                    lambda moment: ready[id(moment)])
    assert tracker.locate(conversation(same), hints=(1.0,)).step == "replacement"
    assert tracker.locate(conversation(same), hints=(0.0,)).step == "return_reason"


def test_a_flow_that_keeps_its_cues_learns_only_when_a_reply_answers(tmp_path: Path, few: None,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """With `keep_cues`, the labelled conversations teach the answer-now model (here: broken items get the
    replacement, the desk's answering step) and leave the step to the cues and graph; it survives its file."""
    monkeypatch.setattr(learned, "ANSWER_STRENGTH", 10.0)  # twelve moments: less regularised than 2,000 need
    flow = desk(tmp_path).model_copy(update={"keep_cues": True})
    examples = desk_examples(tmp_path, flow)
    embedder = HashingEmbedder()
    tracker = teach(StepTracker(flow, embedder), examples, answer_step="replacement")
    assert tracker.model is None and tracker.acts is None and isinstance(tracker.answering, AnswerMoments)
    broken, changed = (tracker.answers_now(conversation(text)) for text in (BROKEN[1], CHANGED[1]))
    assert broken is not None and changed is not None and broken > 0.5 > changed
    cued = StepTracker(flow, embedder)
    assert tracker.locate(conversation(BROKEN[1])) == cued.locate(conversation(BROKEN[1]))
    key = taught_key(flow, examples, embedder.name, "replacement")
    assert key != taught_key(flow, examples, embedder.name, "refund")
    write_taught(tracker, tmp_path / "kept.fitted.npz", key)
    loaded = StepTracker(flow, embedder)
    assert load_taught(loaded, tmp_path / "kept.fitted.npz", key) and loaded.model is None
    assert loaded.answers_now(conversation(BROKEN[1])) == broken
    # without an answering step there is nothing to learn
    assert teach(StepTracker(flow, embedder), examples).answering is None


def test_only_moments_where_the_customer_spoke_teach_the_next_step(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """An agent's second message in a row is a moment of the transcript but not one a draft answers: it does
    not count towards the moment model (nor teach it)."""
    flow = desk(tmp_path)
    lines = []
    for number, text in enumerate([*BROKEN, *CHANGED]):
        messages = desk_transcript(text, text in BROKEN, number)
        messages.append({"role": "agent", "text": "Anything else today?", "step": "closing"})
        lines.append(json.dumps({"messages": messages}))
    path = tmp_path / "returns_desk.examples.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    examples = load_examples(path, flow)
    assert len(examples.moments) == 36  # 24 after a customer message, 12 after the agent's
    monkeypatch.setattr(learned, "MIN_MOMENTS", 25)
    assert teach(StepTracker(flow, HashingEmbedder()), examples).model is None
    monkeypatch.setattr(learned, "MIN_MOMENTS", 24)
    taught = teach(StepTracker(flow, HashingEmbedder()), examples)
    assert isinstance(taught.model, MomentModel)
    chances = taught.model.probabilities(taught.read(conversation(BROKEN[1])))
    assert chances[flow.step_ids.index("closing")] == 0.0  # never learned as a next step


def test_a_transcripts_platform_goes_with_its_moments(tmp_path: Path) -> None:
    flow = desk(tmp_path)
    path = tmp_path / "returns_desk.examples.jsonl"
    messages = desk_transcript(BROKEN[0], True, 1)
    path.write_text(json.dumps({"platform": "shopee", "messages": messages}) + "\n"
                    + json.dumps({"messages": messages}) + "\n", encoding="utf-8")
    assert {m.platform for m in load_examples(path, flow).moments} == {"shopee", None}


def test_a_later_start_loads_the_taught_models_kept_in_the_index_folder(
        make_knowledge: Callable[..., Path], tmp_path: Path, few: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from copilot import Copilot, Settings
    from copilot import drafter as drafting

    stories = [*((t, True) for t in BROKEN), *((t, False) for t in CHANGED)]
    lines = "\n".join(json.dumps({"messages": desk_transcript(text, broken, n)})
                      for n, (text, broken) in enumerate(stories)) + "\n"
    root = make_knowledge({"flows/returns_desk.yaml": yaml.safe_dump(DESK),
                           "flows/returns_desk.examples.jsonl": lines})
    settings = Settings(knowledge_dir=root, index_dir=tmp_path / "index")
    body = {"flow": "returns_desk", "language": "en",
            "messages": [m.model_dump(exclude_none=True) for m in conversation("the bowl came chipped")]}
    first = Copilot(settings, embedder=HashingEmbedder())
    first.warm_up()
    step = first.draft(DraftRequest.model_validate(body)).step
    kept = list((tmp_path / "index" / "flows").glob("returns_desk.*.fitted.npz"))
    assert len(kept) == 1

    def no_teaching(*_: object, **__: object) -> None:
        raise AssertionError("the kept models should have been loaded")

    monkeypatch.setattr(drafting, "teach", no_teaching)
    later = Copilot(settings, embedder=HashingEmbedder())
    later.warm_up()
    assert isinstance(later.drafter.tracker(later.knowledge.flows["returns_desk"]).model, MomentModel)
    assert later.draft(DraftRequest.model_validate(body)).step == step
    # edited examples are taught again, and replace the kept file
    monkeypatch.undo()
    monkeypatch.setattr(learned, "MIN_TURNS", 10)
    monkeypatch.setattr(learned, "MIN_MOMENTS", 10)
    (root / "flows" / "returns_desk.examples.jsonl").write_text(lines + lines, encoding="utf-8")
    edited = Copilot(settings, embedder=HashingEmbedder())
    edited.warm_up()
    flow = edited.knowledge.flows["returns_desk"]
    key = taught_key(flow, edited.knowledge.examples["returns_desk"], HashingEmbedder().name)
    assert list((tmp_path / "index" / "flows").glob("returns_desk.*.fitted.npz")) == [
        kept_path(tmp_path / "index" / "flows", "returns_desk", key)]


def desk_knowledge(make_knowledge: Callable[..., Path]) -> Path:
    stories = [*((t, True) for t in BROKEN), *((t, False) for t in CHANGED)]
    lines = "\n".join(json.dumps({"messages": desk_transcript(text, broken, n)})
                      for n, (text, broken) in enumerate(stories)) + "\n"
    return make_knowledge({"flows/returns_desk.yaml": yaml.safe_dump(DESK),
                           "flows/returns_desk.examples.jsonl": lines})


def test_step_train_names_an_unknown_flow_and_a_flow_without_examples(
        make_knowledge: Callable[..., Path], tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from copilot.cli import app

    root, index = desk_knowledge(make_knowledge), str(tmp_path / "index")
    unknown = CliRunner().invoke(app, ["step-train", "--flow", "returns", "--knowledge", str(root),
                                       "--index", index])
    assert unknown.exit_code == 2
    assert "no flow 'returns'" in unknown.stderr and "returns_desk" in unknown.stderr
    bare = CliRunner().invoke(app, ["step-train", "--flow", "livechat", "--knowledge", str(root),
                                    "--index", index])
    assert bare.exit_code == 2 and "no labelled conversations" in bare.stderr
    assert "Traceback" not in unknown.output + bare.output


@pytest.mark.slow
def test_step_train_writes_the_taught_models_a_start_then_loads(
        make_knowledge: Callable[..., Path], tmp_path: Path, few: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from copilot import Copilot, Settings
    from copilot import drafter as drafting
    from copilot.cli import app

    root = desk_knowledge(make_knowledge)
    result = CliRunner().invoke(app, ["step-train", "--flow", "returns_desk", "--knowledge", str(root),
                                      "--index", str(tmp_path / "train-index")])
    assert result.exit_code == 0, result.output
    assert "next step learned" in result.stdout and (root / "flows" / "returns_desk.fitted.npz").is_file()

    def no_teaching(*_: object, **__: object) -> None:
        raise AssertionError("the shipped taught models should have been loaded")

    monkeypatch.setattr(drafting, "teach", no_teaching)
    serving = Copilot(Settings(knowledge_dir=root, index_dir=tmp_path / "serve-index"))
    tracker = serving.drafter.tracker(serving.knowledge.flows["returns_desk"])
    assert isinstance(tracker.model, MomentModel) and isinstance(tracker.acts, ActModel)
