"""The need model on public data: CLINC150 (Larson et al., 2019; CC-BY-3.0), read from its folder by path.

In-scope accuracy and out-of-scope recall at 10 examples per intent (the first ten of each in
`data_full.json`), 50 (`data_small.json`) and 100 (`data_full.json`), each intent's name (in words) one more
example for the need model, as a team's `triage.yaml` names are. The scope threshold is chosen on the
validation split only: the level under which `rejects` of its in-scope queries fall. Test numbers are read
once with it.
"""

from __future__ import annotations

import csv
import json
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from copilot.cache import cached_embeddings
from copilot.errors import DatasetError
from copilot.retrieval.embedders import Embedder
from copilot.triage.model import TriageModel

REJECTS = 0.01
SHOTS = (10, 50, 100)
Pairs = list[tuple[str, str]]


@dataclass(frozen=True)
class IntentRow:
    shots: int
    examples: int
    fit_seconds: float
    threshold: float
    # accuracy without threshold, in-scope accuracy with it, out-of-scope recall
    val: tuple[float, float, float]
    test: tuple[float, float, float]


def load_clinc(folder: Path, name: str) -> dict[str, Pairs]:
    """One of CLINC150's files: splits of [text, intent] pairs; a missing or malformed file is named."""
    path = folder / name
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {split: [(str(text), str(intent)) for text, intent in rows] for split, rows in raw.items()}
    except OSError as exc:
        raise DatasetError(path, 0, f"cannot read it ({exc.strerror}): is this the CLINC150 folder?") from exc
    except (ValueError, TypeError, AttributeError) as exc:
        raise DatasetError(path, 0, f"not CLINC150's JSON ({type(exc).__name__}: {exc})") from exc


def first_per_intent(rows: Pairs, shots: int) -> Pairs:
    seen: dict[str, int] = defaultdict(int)
    chosen = []
    for text, intent in rows:
        if seen[intent] < shots:
            chosen.append((text, intent))
            seen[intent] += 1
    return chosen


def clinc_rows(folder: Path, embedder: Embedder, cache_dir: Path | None = None,
               shots: tuple[int, ...] = SHOTS, rejects: float = REJECTS) -> list[IntentRow]:
    """One row per number of examples per intent."""
    full, small = load_clinc(folder, "data_full.json"), None
    rows = []
    for count in shots:
        if count == 50:
            small = small or load_clinc(folder, "data_small.json")
        data = small if count == 50 and small else full
        train = data["train"] if count in (50, 100) else first_per_intent(full["train"], count)
        rows.append(_row(count, train, data, embedder, cache_dir, rejects))
    return rows


def _fitted(
    count: int, train: Pairs, embedder: Embedder, cache_dir: Path | None
) -> tuple[TriageModel, int, float]:
    """The triage model fitted on a report's examples, each intent's name (in words) one more example for the
    need model, as a team's `triage.yaml` names are; with the number of examples and the seconds it took."""
    names = sorted({intent for _, intent in train})
    started = time.perf_counter()
    model = TriageModel([(text, {"intent": intent}) for text, intent in train], embedder,
                        cache_dir / f"train-{count}" if cache_dir else None,
                        names=[(name.replace("_", " "), name) for name in names])
    return model, len(train) + len(names), round(time.perf_counter() - started, 1)


def _row(count: int, train: Pairs, data: dict[str, Pairs], embedder: Embedder, cache_dir: Path | None,
         rejects: float) -> IntentRow:
    model, examples, fit_seconds = _fitted(count, train, embedder, cache_dir)
    val = _scored(model, data["val"] + data["oos_val"], embedder, cache_dir, "val")
    scopes = [scope for scope, _, expected in val if expected != "oos"]
    threshold = float(np.quantile(scopes, rejects))
    test = _scored(model, data["test"] + data["oos_test"], embedder, cache_dir, "test")
    return IntentRow(count, examples, fit_seconds, round(threshold, 4), _rates(val, threshold),
                     _rates(test, threshold))


def _scored(model: TriageModel, rows: Pairs, embedder: Embedder, cache_dir: Path | None,
            split: str) -> list[tuple[float, str, str]]:
    """(scope score, intent read, intent expected) per query, embedded in one batch (cached by content)."""
    texts = [text for text, _ in rows]
    vectors = cached_embeddings(embedder, texts, cache_dir / split if cache_dir else None)
    readings = model.read_intents(texts, vectors)
    return [(reading.scope or 0.0, reading.label, expected)
            for reading, (_, expected) in zip(readings, rows, strict=True)]


def _rates(scored: list[tuple[float, str, str]], threshold: float) -> tuple[float, float, float]:
    inside = [(scope, got == expected) for scope, got, expected in scored if expected != "oos"]
    outside = [scope for scope, _, expected in scored if expected == "oos"]
    plain = sum(ok for _, ok in inside) / len(inside)
    kept = sum(ok and scope >= threshold for scope, ok in inside) / len(inside)
    recall = sum(scope < threshold for scope in outside) / max(len(outside), 1)
    return round(plain, 3), round(kept, 3), round(recall, 3)


BANKING_TEST_PER_INTENT = 20


@dataclass(frozen=True)
class BankingRow:
    shots: int
    examples: int
    fit_seconds: float
    test_queries: int
    accuracy: float


def load_banking(folder: Path) -> Pairs:
    """BANKING77's `test.csv` (text,category) as (text, intent) pairs; a missing or malformed file is
    named."""
    path = folder / "test.csv"
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        return [(row["text"], row["category"]) for row in rows]
    except OSError as exc:
        raise DatasetError(
            path, 0, f"cannot read it ({exc.strerror}): is this the BANKING77 folder?"
        ) from exc
    except (KeyError, csv.Error) as exc:
        raise DatasetError(path, 0, f"not BANKING77's CSV (text,category): {exc}") from exc


def banking_rows(folder: Path, embedder: Embedder, cache_dir: Path | None = None,
                 shots: tuple[int, ...] = (10, 20)) -> list[BankingRow]:
    """Intent accuracy with the first `shots` queries of each intent as the examples, the last 20 as the
    test."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    for text, intent in load_banking(folder):
        by_intent[intent].append(text)
    test = [
        (text, intent) for intent, texts in by_intent.items() for text in texts[-BANKING_TEST_PER_INTENT:]
    ]
    queries = [text for text, _ in test]
    vectors = cached_embeddings(embedder, queries, cache_dir / "test" if cache_dir else None)
    rows = []
    for count in shots:
        train = [(text, intent) for intent, texts in by_intent.items()
                 for text in texts[:min(count, len(texts) - BANKING_TEST_PER_INTENT)]]
        model, examples, fit_seconds = _fitted(count, train, embedder, cache_dir)
        readings = model.read_intents(queries, vectors)
        right = sum(reading.label == intent for reading, (_, intent) in zip(readings, test, strict=True))
        rows.append(BankingRow(count, examples, fit_seconds, len(test), round(right / len(test), 3)))
    return rows
