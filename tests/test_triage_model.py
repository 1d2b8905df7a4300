"""The learned triage reading: examples from knowledge/ validated with file and field, learned per field,
read through unaccented and shorthand Vietnamese, probabilities that mean something, an embedding cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from copilot import KnowledgeError
from copilot.retrieval.embedders import HashingEmbedder
from copilot.triage.model import FIELDS, TriageModel, fitted_model, load_examples

INTENTS = {"cancel_order", "app_bug", "other"}
ROWS = [  # text, intent, issue type, urgency, sentiment
    ("how do I cancel my order", "cancel_order", "order_request", "medium", "neutral"),
    ("làm sao để hủy đơn vậy shop", "cancel_order", "order_request", "medium", "neutral"),
    ("i ordered by mistake please cancel it now", "cancel_order", "order_request", "high", "neutral"),
    ("em muốn hủy đơn vừa đặt nhầm", "cancel_order", "order_request", "high", "neutral"),
    ("the popup is not showing on my store", "app_bug", "technical_support", "medium", "neutral"),
    ("popup không hiện trên điện thoại", "app_bug", "technical_support", "medium", "neutral"),
    ("your app broke our checkout, nobody can pay!!", "app_bug", "technical_support", "urgent", "negative"),
    ("app làm sập trang thanh toán, khách không trả tiền được", "app_bug", "technical_support",
     "urgent", "negative"),
    ("thank you so much, great app", "other", "idea_suggestion", "low", "positive"),
    ("cảm ơn shop nhiều, hàng đẹp lắm", "other", "idea_suggestion", "low", "positive"),
]
EXAMPLES = "examples:\n" + "".join(
    f'  - {{text: "{t}", intent: {i}, issue_type: {k}, urgency: {u}, sentiment: {s}}}\n'
    for t, i, k, u, s in ROWS)


def write_examples(folder: Path, text: str = EXAMPLES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mixed.yaml").write_text(text, encoding="utf-8")
    return folder


def labelled(folder: Path) -> list[tuple[str, dict[str, str]]]:
    return [(e.text, e.model_dump(include=set(FIELDS))) for e in load_examples(folder, INTENTS)]


def test_examples_load_and_a_missing_folder_is_no_examples(tmp_path: Path) -> None:
    assert len(load_examples(write_examples(tmp_path / "ex"), INTENTS)) == 10
    assert load_examples(tmp_path / "absent", INTENTS) == []


@pytest.mark.parametrize(("change", "field", "reason"), [
    (lambda t: t.replace("intent: app_bug", "intent: app_bugs", 1), "examples.4.intent",
     "unknown intent 'app_bugs'"),
    (lambda t: t.replace("urgency: high", "urgency: critical", 1), "examples.2.urgency", "urgent"),
    (lambda t: t.replace("sentiment: positive", "sentiment: positive, mood: happy", 1), "examples.8.mood",
     "unknown field"),
    (lambda t: t.replace('text: "how do I cancel my order", ', "", 1), "examples.0.text", "missing"),
    (lambda t: "examples: []\n", "examples", "at least 1"),
])
def test_a_bad_example_is_named_with_file_and_field(
    tmp_path: Path, change: object, field: str, reason: str
) -> None:
    folder = write_examples(tmp_path / "ex", change(EXAMPLES))  # type: ignore[operator]
    with pytest.raises(KnowledgeError) as caught:
        load_examples(folder, INTENTS)
    assert caught.value.path.endswith("mixed.yaml") and caught.value.field == field
    assert reason in caught.value.reason


def test_the_model_learns_every_field_and_reads_unaccented_shorthand(tmp_path: Path) -> None:
    model = TriageModel(labelled(write_examples(tmp_path / "ex")))
    assert set(model.models) == set(FIELDS)
    reading = model.read("shop oi huy don giup em voi")
    assert reading["intent"].label == "cancel_order" and reading["issue_type"].label == "order_request"
    assert model.read("popup ko hien tren dt")["intent"].label == "app_bug"
    assert model.read("cam on shop nhieu nha")["sentiment"].label == "positive"
    for name, field_reading in reading.items():
        assert sum(field_reading.probabilities.values()) == pytest.approx(1.0, abs=1e-3), name
        assert field_reading.probability == pytest.approx(max(field_reading.probabilities.values()), abs=1e-3)


def test_the_issue_type_is_read_together_with_the_intent() -> None:
    """Words that lean to an issue type no example pairs with the likely intent do not decide alone."""
    both = [("popup not showing", {"intent": "app_bug", "issue_type": "technical_support"}),
            ("widget broken", {"intent": "app_bug", "issue_type": "technical_support"}),
            ("cancel my order", {"intent": "cancel_order", "issue_type": "order_request"}),
            ("huy don giup em", {"intent": "cancel_order", "issue_type": "order_request"})]
    # Issue-type-only examples whose words ("order") lean to order_request; the intents say app_bug.
    words = [("order page popup not showing", {"issue_type": "order_request"}),
             ("order widget broken", {"issue_type": "order_request"}),
             ("order popup broken", {"issue_type": "order_request"})]
    intents = [("order popup not showing", {"intent": "app_bug"}),
               ("order widget not showing", {"intent": "app_bug"}),
               ("order popup broken", {"intent": "app_bug"})]
    model = TriageModel([*both, *words, *intents])
    alone = model.models["issue_type"].predict_proba(model._features("order popup not showing"))[0]
    assert model.models["issue_type"].classes_[alone.argmax()] == "order_request"  # the words alone
    reading = model.read("order popup not showing")
    assert reading["intent"].label == "app_bug" and reading["issue_type"].label == "technical_support"
    assert sum(reading["issue_type"].probabilities.values()) == pytest.approx(1.0, abs=1e-3)
    assert model.read("cancel my order please")["issue_type"].label == "order_request"


def test_a_field_without_two_labels_is_not_learned(tmp_path: Path) -> None:
    model = TriageModel([("hello", {"intent": "other"}), ("cancel please", {"intent": "cancel_order"}),
                         ("hi", {"intent": "other", "urgency": "low"})])
    assert set(model.models) == {"intent"} and "urgency" not in model.read("hello there")


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.batches = 0

    def embed(self, texts: object) -> np.ndarray:
        self.batches += len(texts) > 1  # type: ignore[arg-type]
        return super().embed(texts)  # type: ignore[arg-type]


def test_example_vectors_are_cached_between_starts_and_refreshed_when_examples_change(tmp_path: Path) -> None:
    folder = write_examples(tmp_path / "ex")
    embedder, cache = CountingEmbedder(), tmp_path / "cache"
    first = TriageModel(labelled(folder), embedder, cache)
    second = TriageModel(labelled(folder), embedder, cache)
    assert embedder.batches == 1 and len(list(cache.glob("*.npy"))) == 1
    read_first, read_second = first.read("popup ko hien"), second.read("popup ko hien")
    assert read_first["intent"].probabilities == read_second["intent"].probabilities
    write_examples(folder, EXAMPLES.replace("great app", "great app!!"))
    TriageModel(labelled(folder), embedder, cache)
    assert embedder.batches == 2 and len(list(cache.glob("*.npy"))) == 1
    next(cache.glob("*.npy")).write_bytes(b"not a numpy file")
    TriageModel(labelled(folder), embedder, cache)
    assert embedder.batches == 3


NEEDS = [  # ten-ish examples of three needs, as a new team writes them
    ("how do I cancel my order", "cancel_order"), ("please cancel the order I placed", "cancel_order"),
    ("I want to cancel my purchase", "cancel_order"), ("cancel order number 1234", "cancel_order"),
    ("my popup is not showing", "app_bug"), ("the widget is broken on my store", "app_bug"),
    ("popup stopped showing after the update", "app_bug"), ("the app shows an error on checkout", "app_bug"),
    ("where is my parcel", "order_status"), ("when will my order arrive", "order_status"),
    ("track my order please", "order_status"), ("has my parcel shipped yet", "order_status"),
]


def test_a_message_far_from_every_need_is_out_of_scope_with_its_score() -> None:
    model = TriageModel([(text, {"intent": intent}) for text, intent in NEEDS], HashingEmbedder(),
                        scope_rejects=0.1)
    inside = model.read("can you cancel my order")["intent"]
    outside = model.read("what will the weather be in Paris tomorrow")["intent"]
    assert inside.label == "cancel_order" and not inside.out_of_scope
    assert outside.out_of_scope and outside.scope is not None and model.scope_threshold is not None
    assert outside.scope < model.scope_threshold <= inside.scope  # type: ignore[operator]
    assert not TriageModel([(t, {"intent": i}) for t, i in NEEDS], HashingEmbedder()).read(
        "what will the weather be in Paris tomorrow")["intent"].out_of_scope  # no threshold configured


def test_the_fitted_model_is_kept_and_loaded_until_the_examples_change(tmp_path: Path) -> None:
    embedder, cache = CountingEmbedder(), tmp_path / "cache"
    examples = [(text, {"intent": intent}) for text, intent in NEEDS]
    first = fitted_model(examples, embedder, cache, 0.1)
    second = fitted_model(examples, embedder, cache, 0.1)
    assert embedder.batches == 1 and len(list(cache.glob("triage-model-*.pickle"))) == 1
    assert second is not first and second.embedder is embedder
    assert second.read("popup not showing")["intent"] == first.read("popup not showing")["intent"]
    fitted_model([*examples, ("parcel still not here", {"intent": "order_status"})], embedder, cache, 0.1)
    assert embedder.batches == 2 and len(list(cache.glob("triage-model-*.pickle"))) == 1
    next(cache.glob("triage-model-*.pickle")).write_bytes(b"not a model")
    assert fitted_model(examples, embedder, cache, 0.1).read("cancel it")["intent"].label == "cancel_order"


def test_a_model_pickled_by_a_build_with_other_module_paths_is_fitted_again(tmp_path: Path) -> None:
    """An index folder kept from an older build (its classes since moved) loses nothing and raises nothing."""
    import pickle
    import sys
    import types

    embedder, cache = CountingEmbedder(), tmp_path / "cache"
    examples = [(text, {"intent": intent}) for text, intent in NEEDS]
    fitted_model(examples, embedder, cache, 0.1)
    old = types.ModuleType("copilot_old_triage_model")
    exec("class TriageModel:\n    pass", old.__dict__)  # the class at its old path
    old.TriageModel.__module__ = old.__name__
    sys.modules[old.__name__] = old
    stale = pickle.dumps(old.TriageModel())
    del sys.modules[old.__name__]
    next(cache.glob("triage-model-*.pickle")).write_bytes(stale)
    assert fitted_model(examples, embedder, cache, 0.1).read("cancel it")["intent"].label == "cancel_order"
    refitted = pickle.loads(next(cache.glob("triage-model-*.pickle")).read_bytes())
    assert isinstance(refitted, TriageModel)  # fitted again, and kept for the next start
