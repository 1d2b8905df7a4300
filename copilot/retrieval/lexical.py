"""BM25 over folded tokens, so "huy don" finds "hủy đơn"; word pairs are indexed too for precision."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from itertools import pairwise
from pathlib import Path

import bm25s
import numpy as np

from copilot.errors import IndexNotReadyError
from copilot.retrieval.chunking import Chunk
from copilot.retrieval.search_words import NO_SEARCH_WORDS, SearchWords
from copilot.retrieval.vector_store import SearchFilter
from copilot.text import words

# Short chunks of one document share most words; a low length penalty (b) suits them (measured on the
# retrieval set: k1 1.2 / b 0.3 beat the defaults 1.5 / 0.75).
BM25_K1 = 1.2
BM25_B = 0.3
WORDS_FILE = "search_words.json"


def lexical_tokens(text: str, search_words: SearchWords = NO_SEARCH_WORDS) -> list[str]:
    """Folded words without stop words, chat shorthand and synonyms expanded ("ko dc" -> "khong duoc"), plus
    adjacent pairs (Vietnamese words are often two syllables); `search_words`: the knowledge folder's."""
    expansions, stop = search_words.expansions, search_words.stop
    expanded: list[str] = []
    extra: list[str] = []
    for token in words(text):
        if token in expansions:
            extra.append(token)
            expanded.extend(expansions[token])
        elif token not in stop:
            expanded.append(token)
    return expanded + extra + [f"{first}_{second}" for first, second in pairwise(expanded)]


class BM25Index:
    """A BM25 index over chunks, saved to and loaded from a folder with the search words it was built with,
    so that queries are read as the chunks were."""

    def __init__(self, chunks: Sequence[Chunk], search_words: SearchWords = NO_SEARCH_WORDS,
                 engine: bm25s.BM25 | None = None) -> None:
        self.chunks = list(chunks)
        self.search_words = search_words
        if engine is None:
            engine = bm25s.BM25(k1=BM25_K1, b=BM25_B)
            if self.chunks:
                tokens = [lexical_tokens(c.search_text, search_words) for c in self.chunks]
                engine.index(tokens, show_progress=False)
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
        tokens = lexical_tokens(query, self.search_words)
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
        (folder / WORDS_FILE).write_text(self.search_words.model_dump_json(), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        """The index saved in `folder`; one saved without its search words (by an older version) must be built
        again."""
        with (folder / "chunks.jsonl").open(encoding="utf-8") as handle:
            chunks = [_chunk_from_json(json.loads(line)) for line in handle if line.strip()]
        if not (folder / WORDS_FILE).exists() and folder.is_dir():  # a folder gone is another ingest's
            raise IndexNotReadyError(f"{folder} holds no search words (an older index): run `copilot ingest`")
        search_words = SearchWords.model_validate_json((folder / WORDS_FILE).read_text(encoding="utf-8"))
        engine = bm25s.BM25.load(str(folder / "bm25"), show_progress=False) if chunks else None
        return cls(chunks, search_words, engine)


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


def expand_shorthand(folded: str, table: Mapping[str, tuple[str, ...]]) -> str:
    """Folded text with chat shorthand written out ("huy dc k" -> "huy duoc khong"), for cue matching;
    `table`: the knowledge folder's (`SearchWords.shorthand`)."""
    return re.sub(r"[0-9a-z]+", lambda m: " ".join(table.get(m.group(0), (m.group(0),))), folded)
