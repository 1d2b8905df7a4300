"""BM25 over folded tokens, so "huy don" finds "hủy đơn"; word pairs are indexed too for precision."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from itertools import pairwise
from pathlib import Path

import bm25s
import numpy as np

from copilot.retrieval.chunking import Chunk
from copilot.retrieval.vector_store import SearchFilter
from copilot.text import words

# Short chunks of one document share most words; a low length penalty (b) suits them (measured on the
# retrieval set: k1 1.2 / b 0.3 beat the defaults 1.5 / 0.75).
BM25_K1 = 1.2
BM25_B = 0.3


@cache
def stopwords() -> frozenset[str]:
    text = resources.files("copilot.retrieval").joinpath("stopwords.txt").read_text(encoding="utf-8")
    lines = (line for line in text.splitlines() if not line.startswith("#"))
    return frozenset(word for line in lines for word in line.split())


@cache
def abbreviations() -> dict[str, tuple[str, ...]]:
    """Chat shorthand ("ko" -> "khong"), for matching and indexing."""
    return _word_table("abbreviations.txt")


@cache
def expansions() -> dict[str, tuple[str, ...]]:
    """Shorthand and synonyms ("huy" -> "cancel"): every form is indexed."""
    return {**_word_table("synonyms.txt"), **abbreviations()}


def _word_table(name: str) -> dict[str, tuple[str, ...]]:
    text = resources.files("copilot.retrieval").joinpath(name).read_text(encoding="utf-8")
    table: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            short, *expansion = line.split()
            table[short] = tuple(expansion)
    return table


def lexical_tokens(text: str) -> list[str]:
    """Folded words without stop words, chat shorthand expanded ("ko dc" -> "khong duoc"), plus adjacent
    pairs (Vietnamese words are often two syllables)."""
    expanded: list[str] = []
    extra: list[str] = []
    for token in words(text):
        if token in expansions():
            extra.append(token)
            expanded.extend(expansions()[token])
        elif token not in stopwords():
            expanded.append(token)
    return expanded + extra + [f"{first}_{second}" for first, second in pairwise(expanded)]


class BM25Index:
    """A BM25 index over chunks, saved to and loaded from a folder."""

    def __init__(self, chunks: Sequence[Chunk], engine: bm25s.BM25 | None = None) -> None:
        self.chunks = list(chunks)
        if engine is None:
            engine = bm25s.BM25(k1=BM25_K1, b=BM25_B)
            if self.chunks:
                engine.index([lexical_tokens(c.search_text) for c in self.chunks], show_progress=False)
        self._engine = engine
        self._masks: dict[SearchFilter, np.ndarray] = {}
        self._by_document: dict[str, list[Chunk]] | None = None

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        """Every chunk of one document, in document order."""
        if self._by_document is None:
            grouped: dict[str, list[Chunk]] = {}
            for chunk in self.chunks:
                grouped.setdefault(chunk.doc_id, []).append(chunk)
            self._by_document = grouped
        return self._by_document.get(doc_id, [])

    def search(self, query: str, k: int, where: SearchFilter | None = None) -> list[tuple[int, float]]:
        """Positions in `chunks` with their BM25 scores, best first; chunks scoring zero are left out."""
        tokens = lexical_tokens(query)
        if not self.chunks or not tokens or k <= 0:
            return []
        scores = self._engine.get_scores(tokens)
        if where is not None:
            scores = scores * self._mask(where)
        top = best_positions(scores, k)
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

    def share(self, where: SearchFilter) -> float:
        """The fraction of chunks the filter keeps."""
        return float(self._mask(where).mean()) if self.chunks else 0.0

    def _mask(self, where: SearchFilter) -> np.ndarray:
        if where not in self._masks:
            self._masks[where] = np.array([where.matches(c) for c in self.chunks], dtype=np.float32)
        return self._masks[where]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.chunks:
            self._engine.save(str(folder / "bm25"), show_progress=False)
        with (folder / "chunks.jsonl").open("w", encoding="utf-8") as handle:
            for chunk in self.chunks:
                handle.write(json.dumps(_chunk_to_json(chunk), ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        with (folder / "chunks.jsonl").open(encoding="utf-8") as handle:
            chunks = [_chunk_from_json(json.loads(line)) for line in handle if line.strip()]
        engine = bm25s.BM25.load(str(folder / "bm25"), show_progress=False) if chunks else None
        return cls(chunks, engine)


def best_positions(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the `k` highest scores, best first (ties by position): a partial sort, since a full one of
    100,000 scores costs more than the whole BM25 lookup."""
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    order: np.ndarray = top[np.lexsort((top, -scores[top]))]
    return order


def _chunk_to_json(chunk: Chunk) -> dict[str, object]:
    return {name: list(value) if isinstance(value, tuple) else value for name, value in vars(chunk).items()}


def _chunk_from_json(data: dict[str, object]) -> Chunk:
    fields = {name: tuple(v) if isinstance(v, list) else v for name, v in data.items()}
    return Chunk(**fields)  # type: ignore[arg-type]


def expand_shorthand(folded: str) -> str:
    """Folded text with chat shorthand written out ("huy dc k" -> "huy duoc khong"), for cue matching."""
    table = abbreviations()
    return re.sub(r"[0-9a-z]+", lambda m: " ".join(table.get(m.group(0), (m.group(0),))), folded)
