"""Hybrid retrieval: dense (embeddings in the vector store) and lexical (BM25) rankings, fused
(`copilot.retrieval.fusion`)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from copilot.retrieval.chunking import Chunk
from copilot.retrieval.embedders import Embedder
from copilot.retrieval.fusion import fuse
from copilot.retrieval.lexical import BM25Index
from copilot.retrieval.vector_store import NearestVectors, SearchFilter
from copilot.understand.language import detect_language

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "bm25")

# Filtered dense search asks the store for twice the neighbours the filter's share of chunks should need, up
# to MAX_WIDE; beyond that the store filters.
OVERFETCH = 2.0
MAX_WIDE = 1000


@dataclass(frozen=True)
class SearchHit:
    """A retrieved chunk; `score` is in (0, 1]: 1 means first in every ranking that was fused."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None


class HybridRetriever:
    """Searches one knowledge index in `hybrid`, `dense` or `bm25` mode, with metadata filters."""

    def __init__(
        self, embedder: Embedder, store: NearestVectors, lexical: BM25Index, depth: int = 40
    ) -> None:
        self.embedder = embedder
        self.store = store
        self.lexical = lexical
        self.depth = depth
        self._by_id = {chunk.id: chunk for chunk in lexical.chunks}

    def search(
        self,
        query: str,
        k: int = 5,
        where: SearchFilter | None = None,
        mode: Mode = "hybrid",
        per_document: int | None = None,
    ) -> list[SearchHit]:
        """The `k` best chunks; `per_document` caps how many come from one document, for varied results."""
        if not query.strip() or k <= 0:
            return []
        depth = max(self.depth, k * 4)
        rankings: dict[str, list[str]] = {}
        if mode in ("hybrid", "dense"):
            rankings["dense"] = self._dense(query, depth, where)
        if mode in ("hybrid", "bm25"):
            found = self.lexical.search(query, depth, where)
            rankings["lexical"] = [self.lexical.chunks[i].id for i, _ in found]
        hits = self._fuse(rankings, detect_language([query]))
        if per_document is not None:
            hits = _cap_per_document(hits, per_document)
        return hits[:k]

    def _dense(self, query: str, depth: int, where: SearchFilter | None) -> list[str]:
        """The `depth` nearest chunks the filter keeps. A metadata filter inside Chroma costs 25 ms at 10,000
        chunks and 250 ms at 100,000, so the store is asked for more neighbours without it and the filter is
        applied here, on chunks already in memory; only when too few pass is the filter sent to the store."""
        vector = self.embedder.embed_query(query)
        if where is not None:
            share = self.lexical.share(where)
            if share == 0:
                return []
            wide = math.ceil(depth / share * OVERFETCH)
            if wide <= MAX_WIDE:
                nearest = self.store.query(vector, wide)
                kept = [hit.chunk_id for hit in nearest
                        if hit.chunk_id in self._by_id and where.matches(self._by_id[hit.chunk_id])]
                if len(kept) >= depth or len(nearest) < wide:
                    return kept[:depth]
        return [hit.chunk_id for hit in self.store.query(vector, depth, where) if hit.chunk_id in self._by_id]

    def _fuse(self, rankings: dict[str, list[str]], language: str) -> list[SearchHit]:
        fused = fuse(rankings, language, lambda chunk_id: self._by_id[chunk_id].doc_id)
        return [SearchHit(self._by_id[f.item], f.score, f.ranks.get("dense"), f.ranks.get("lexical"))
                for f in fused]


def _cap_per_document(hits: list[SearchHit], limit: int) -> list[SearchHit]:
    taken: dict[str, int] = defaultdict(int)
    kept = []
    for hit in hits:
        if taken[hit.chunk.doc_id] < limit:
            taken[hit.chunk.doc_id] += 1
            kept.append(hit)
    return kept
