"""Search over 1k, 10k and 100k chunks: the real Chroma store (embedded, and a `chroma run` server) and the
real BM25 index and hybrid retriever, over a synthetic help centre (see `bench.synthetic`)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from bench.serving import ChromaServer
from bench.stats import Timing, measure
from bench.synthetic import SyntheticKnowledge
from copilot.retrieval.chunking import Chunk
from copilot.retrieval.embedders import Embedder
from copilot.retrieval.hybrid import HybridRetriever
from copilot.retrieval.index import EXACT_LIMIT, ExactVectors, collection_name
from copilot.retrieval.lexical import BM25Index
from copilot.retrieval.vector_store import ChromaVectorStore, SearchFilter, chroma_client

Query = tuple[str, str | None]


@dataclass
class BuiltIndex:
    """A synthetic index of `size` chunks in `folder`, with how long its two halves took to build."""

    size: int
    folder: Path
    retriever: HybridRetriever
    store_seconds: float
    lexical_seconds: float
    store: ChromaVectorStore
    exact: HybridRetriever | None

    @property
    def served(self) -> HybridRetriever:
        """What `copilot serve` would search: vectors in memory up to `EXACT_LIMIT` chunks, else the store."""
        return self.exact or self.retriever


def build_index(base: Sequence[Chunk], base_vectors: np.ndarray, size: int, embedder: Embedder,
                folder: Path) -> BuiltIndex:
    """Grow the base chunks to `size`, store their vectors in an embedded Chroma under `folder` and index them
    with BM25."""
    knowledge = SyntheticKnowledge.grow(base, size)
    vectors = knowledge.vectors(base_vectors)
    started = time.perf_counter()
    store = ChromaVectorStore(chroma_client(folder), collection_name(embedder.name))
    store.upsert(knowledge.chunks, vectors)
    stored = time.perf_counter()
    lexical = BM25Index(knowledge.chunks)
    indexed = time.perf_counter()
    retriever = HybridRetriever(embedder, store, lexical)
    exact = ExactVectors.of(store, knowledge.chunks) if size <= EXACT_LIMIT else None
    return BuiltIndex(size, folder, retriever, round(stored - started, 1), round(indexed - stored, 1), store,
                      HybridRetriever(embedder, exact, lexical) if exact else None)


def search_timing(name: str, retriever: HybridRetriever, queries: Sequence[Query], rounds: int) -> Timing:
    """Hybrid search as the API runs it (k=5, the platform filter the query was asked with), the query's
    embedding computed each time (the cache is emptied before every call)."""
    calls = [partial(retriever.search, text, k=5, where=SearchFilter(platform=platform) if platform else None)
             for text, platform in queries]
    clear = getattr(retriever.embedder, "clear_cache", None)
    return measure(name, calls, rounds, clear or (lambda: None))


def served_search_timing(index: BuiltIndex, queries: Sequence[Query], rounds: int, workdir: Path) -> Timing:
    """The same search with the vectors in a `chroma run` server on loopback (a copy of the embedded data)."""
    data = workdir / f"chroma-server-{index.size}"
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(index.folder / "chroma", data)
    embedder = index.retriever.embedder
    with ChromaServer(workdir, data) as server:
        store = ChromaVectorStore(chroma_client(workdir, server.url), collection_name(embedder.name))
        retriever = HybridRetriever(embedder, store, index.retriever.lexical)
        timing = search_timing(f"{index.size:,} chunks, Chroma server", retriever, queries, rounds)
    shutil.rmtree(data, ignore_errors=True)
    return timing
