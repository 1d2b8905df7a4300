"""How long the triage model takes to fit on many examples, and to load once kept in the index folder."""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from copilot.retrieval.embedders import Embedder
from copilot.triage.config import TriageConfig
from copilot.triage.model import FIELDS, fitted_model, load_examples


@dataclass(frozen=True)
class TriageFit:
    examples: int
    fit_seconds: float
    load_seconds: float


class _TiledEmbedder:
    """The real embedder's vectors of the shipped examples, reused for their numbered copies: the fit is
    timed, not the embedding (done once at ingest and kept by content)."""

    def __init__(self, embedder: Embedder, originals: list[str]) -> None:
        self._vectors = dict(zip(originals, np.asarray(embedder.embed(originals)), strict=True))
        self._embedder = embedder

    @property
    def name(self) -> str:
        return self._embedder.name

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._vectors.get(text.rsplit(" #", 1)[0], self._vectors[next(iter(self._vectors))])
                         for text in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._embedder.embed_query(text)


def triage_fit_speed(knowledge: Path, embedder: Embedder, workdir: Path, count: int = 10_000) -> TriageFit:
    """Fit on `count` examples (the shipped ones, numbered copies to reach the count), then load it back."""
    config = TriageConfig.load(knowledge / "triage.yaml")
    examples = load_examples(knowledge / "triage-examples", config.intents)
    shipped = [(e.text, e.model_dump(include=set(FIELDS))) for e in examples]
    labelled = [(f"{text} #{i // len(shipped)}" if i >= len(shipped) else text, labels)
                for i, (text, labels) in enumerate(shipped[i % len(shipped)] for i in range(count))]
    tiled = _TiledEmbedder(embedder, [text for text, _ in shipped])
    folder = workdir / "triage-fit"
    rejects = config.out_of_scope.rejects if config.out_of_scope else None
    started = time.perf_counter()
    fitted_model(labelled, tiled, folder, rejects, config.names())
    fit = time.perf_counter() - started
    started = time.perf_counter()
    fitted_model(labelled, tiled, folder, rejects, config.names()).read("warm up")
    load = time.perf_counter() - started
    shutil.rmtree(folder, ignore_errors=True)
    return TriageFit(count, round(fit, 1), round(load, 3))
