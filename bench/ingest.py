"""Ingest throughput (`copilot ingest` from scratch) against the embedder's raw encode speed on the same
texts, in the same run."""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from copilot.core import Copilot
from copilot.knowledge import KnowledgeBase, markdown_files
from copilot.retrieval.chunking import Chunk, MarkdownChunker
from copilot.retrieval.embedders import Embedder
from copilot.settings import Settings

_ID_LINE = re.compile(r"^id:\s*(\S+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class IngestSpeed:
    chunks: int
    encode_per_s: float
    ingest_per_s: float

    @property
    def ratio(self) -> float:
        return round(self.ingest_per_s / self.encode_per_s, 2) if self.encode_per_s else 0.0


def enlarged_knowledge(source: Path, copies: int, target: Path) -> Path:
    """The knowledge folder with each document present `copies` times (ids suffixed), for a longer, steadier
    measurement."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    for copy in range(2, copies + 1):
        for path in markdown_files(source):
            text = _ID_LINE.sub(f"id: \\1-copy{copy}", path.read_text("utf-8"), count=1)
            destination = target / f"copy-{copy}" / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_text(text, encoding="utf-8")
    return target


def ingest_speed(knowledge_dir: Path, embedder: Embedder, workdir: Path) -> tuple[IngestSpeed, list[Chunk],
                                                                                   np.ndarray]:
    """Chunks per second of a raw `embed` of every chunk text (one call, the mean of one before and one
    after), and of a whole ingest into an empty index (load and validate the folder, chunk, embed, store,
    BM25) with the same, already loaded, model. Also returns the chunks and their vectors, the seed of the
    synthetic knowledge bases."""
    chunks = MarkdownChunker().split_all(KnowledgeBase.load(knowledge_dir).documents)
    texts = [chunk.embedding_text for chunk in chunks]
    vectors, encode_before = _timed_encode(embedder, texts)
    copilot = Copilot(Settings(knowledge_dir=knowledge_dir, index_dir=workdir / "ingest-index",
                               data_dir=workdir / "ingest-data"), embedder=embedder)
    started = time.perf_counter()
    report = copilot.ingest()
    ingest_seconds = time.perf_counter() - started
    _, encode_after = _timed_encode(embedder, texts)
    encode_seconds = (encode_before + encode_after) / 2
    speed = IngestSpeed(report.chunks, round(len(texts) / encode_seconds, 1),
                        round(report.chunks / ingest_seconds, 1))
    return speed, chunks, vectors


def _timed_encode(embedder: Embedder, texts: list[str]) -> tuple[np.ndarray, float]:
    """The raw encode is timed before and after the ingest, so a machine slowing down or speeding up in
    between does not tilt the ratio."""
    started = time.perf_counter()
    vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
    return vectors, time.perf_counter() - started
