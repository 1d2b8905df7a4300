"""The speed-ups of the search path keep its answers: batched and cached encodes return each caller its own
vectors, the partial sort ranks like a full one, and filtering dense hits in memory finds what the store's
filter finds."""

from __future__ import annotations

import platform
import threading
from collections.abc import Sequence

import numpy as np
import pytest

from copilot.retrieval import embedders
from copilot.retrieval.chunking import Chunk
from copilot.retrieval.embedders import (
    EncodeBatcher,
    HashingEmbedder,
    SentenceTransformerEmbedder,
    VectorCache,
)
from copilot.retrieval.hybrid import HybridRetriever
from copilot.retrieval.index import ExactVectors
from copilot.retrieval.lexical import BM25Index
from copilot.retrieval.vector_store import InMemoryVectorStore, SearchFilter, VectorHit


def fake_vectors(texts: Sequence[str]) -> np.ndarray:
    """One row per text whose first value is the text's length, so a caller can tell whose vector it got."""
    return np.array([[float(len(text)), 1.0] for text in texts], dtype=np.float32)


def test_concurrent_encodes_are_merged_and_each_caller_gets_its_own_vectors() -> None:
    calls: list[list[str]] = []
    first_started, release = threading.Event(), threading.Event()

    def encode(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        if len(calls) == 1:
            first_started.set()
            release.wait(5)
        return fake_vectors(texts)

    batcher = EncodeBatcher(encode)
    results: dict[str, np.ndarray] = {}
    first = threading.Thread(target=lambda: results.update(a=batcher.encode(["a"])))
    first.start()
    first_started.wait(5)
    waiting = [threading.Thread(target=lambda t=text: results.update({t: batcher.encode([t, "bb"])}))
               for text in ("ccc", "dddd", "eeeee")]
    for thread in waiting:
        thread.start()
    while len(batcher._waiting) < 3:
        threading.Event().wait(0.01)
    release.set()
    for thread in (first, *waiting):
        thread.join(5)
    assert calls[0] == ["a"] and len(calls) == 2
    assert sorted(calls[1]) == ["bb", "ccc", "dddd", "eeeee"]
    for text in ("ccc", "dddd", "eeeee"):
        assert results[text][:, 0].tolist() == [len(text), 2.0]


def test_two_lanes_run_two_model_calls_at_once() -> None:
    first_running, both_running = threading.Event(), threading.Barrier(2, timeout=5)

    def encode(texts: list[str]) -> np.ndarray:
        first_running.set()
        both_running.wait()
        return fake_vectors(texts)

    batcher = EncodeBatcher(encode, lanes=2)
    results: dict[str, object] = {}

    def call(text: str) -> None:
        try:
            results[text] = batcher.encode([text])[0, 0]
        except threading.BrokenBarrierError as exc:
            results[text] = exc

    threads = [threading.Thread(target=call, args=(text,)) for text in ("a", "bb")]
    threads[0].start()
    first_running.wait(5)
    threads[1].start()
    for thread in threads:
        thread.join(15)
    assert results == {"a": 1.0, "bb": 2.0}


def test_an_encode_error_reaches_every_caller_of_the_batch() -> None:
    def encode(texts: list[str]) -> np.ndarray:
        raise RuntimeError("model broke")

    with pytest.raises(RuntimeError, match="model broke"):
        EncodeBatcher(encode).encode(["a"])


def test_vector_cache_drops_the_least_recently_used() -> None:
    cache = VectorCache(size=2)
    cache.put(["a", "b"], fake_vectors(["a", "b"]))
    assert set(cache.get(["a"])) == {"a"}
    cache.put(["c"], fake_vectors(["c"]))
    assert set(cache.get(["a", "b", "c"])) == {"a", "c"}


def test_short_texts_are_encoded_once_documents_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    encoded: list[list[str]] = []

    def encode(texts: list[str]) -> np.ndarray:
        encoded.append(texts)
        return fake_vectors(texts)

    monkeypatch.setattr(embedders, "_batcher", lambda location, batch_size: EncodeBatcher(encode))
    embedder = SentenceTransformerEmbedder(model="fake-model")
    document = "x" * (embedders.CACHED_CHARS + 1)
    assert embedder.embed(["hello", "hi"])[:, 0].tolist() == [5, 2]
    assert embedder.embed(["hi", "new one", "hi"])[:, 0].tolist() == [2, 7, 2]
    embedder.embed([document])
    embedder.embed([document])
    many = [f"text {n}" for n in range(embedders.CACHED_BATCH + 1)]
    embedder.embed(many)
    embedder.embed(many)
    assert encoded == [["hello", "hi"], ["new one"], [document], [document], many, many]
    embedder.clear_cache()
    embedder.embed_query("hi")
    assert encoded[-1] == ["hi"]


def test_partial_sort_ranks_like_a_full_sort() -> None:
    chunks = [Chunk(id=f"d{i}::000", doc_id=f"d{i}", title="", section="", kind="faq", fingerprint="f",
                    source="x.md", text=" ".join(["refund"] * (i % 7 + 1) + ["filler"] * (i % 5)))
              for i in range(60)]
    index = BM25Index(chunks)
    scores = index._engine.get_scores(["refund"])
    full = [int(i) for i in np.argsort(-scores, kind="stable")[:10]]
    assert [position for position, _ in index.search("refund", k=10)] == full


class CountingStore(InMemoryVectorStore):
    """Records the filter of every query."""

    __test__ = False

    def __init__(self) -> None:
        super().__init__()
        self.filters: list[SearchFilter | None] = []

    def query(self, vector: np.ndarray, k: int, where: SearchFilter | None = None) -> list[VectorHit]:
        self.filters.append(where)
        return super().query(vector, k, where)


def retriever_over(chunks: list[Chunk], store: InMemoryVectorStore) -> HybridRetriever:
    embedder = HashingEmbedder()
    store.upsert(chunks, embedder.embed([chunk.text for chunk in chunks]))
    return HybridRetriever(embedder, store, BM25Index(chunks), depth=5)


PLATFORMS = ("shopee", "lazada", "tiki", "tiktok")
CHUNKS = [Chunk(id=f"doc{i}::000", doc_id=f"doc{i}", title="", section="", kind="faq", fingerprint="f",
                source="x.md", text=f"ticket{i} order {i % 9} refund voucher cancel {i % 4}",
                platforms=(PLATFORMS[i % 4],))
          for i in range(80)]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_dense_search_filtered_in_memory_finds_what_the_store_filter_finds(platform: str) -> None:
    where = SearchFilter(platform=platform)
    in_memory = retriever_over(CHUNKS, CountingStore())
    by_store = retriever_over(CHUNKS, InMemoryVectorStore())
    vector = by_store.embedder.embed_query("refund order 3")
    expected = by_store.store.query(vector, 5, where)
    score = {hit.chunk_id: round(hit.score, 6) for hit in by_store.store.query(vector, len(CHUNKS))}
    found = in_memory._dense("refund order 3", 5, where)
    assert all(where.matches(in_memory._by_id[chunk_id]) for chunk_id in found)
    assert [score[chunk_id] for chunk_id in found] == [round(hit.score, 6) for hit in expected]
    assert isinstance(in_memory.store, CountingStore) and in_memory.store.filters == [None]


def test_a_filter_too_selective_to_over_fetch_is_left_to_the_store() -> None:
    chunks = [*CHUNKS, Chunk(id="rare::000", doc_id="rare", title="", section="", kind="faq", fingerprint="f",
                             source="x.md", text="refund order", platforms=("facebook",))]
    retriever = retriever_over(chunks, CountingStore())
    where = SearchFilter(platform="facebook", kind="faq")
    retriever.depth = 600
    assert retriever._dense("refund order", 600, where) == ["rare::000"]
    assert isinstance(retriever.store, CountingStore) and retriever.store.filters == [where]


class FakeModel:
    """Answers each text with its length and the thread that encoded it (numbered 1, 2, ...); calls of more
    than three texts wait until two run at once."""

    def __init__(self) -> None:
        self.threads: dict[int, int] = {}
        self.two_at_once = threading.Barrier(2, timeout=5)

    def encode(self, texts: list[str], **options: object) -> np.ndarray:
        if len(texts) > 3:
            self.two_at_once.wait()
        thread = self.threads.setdefault(threading.get_ident(), len(self.threads) + 1)
        return np.array([[float(len(text)), float(thread)] for text in texts])


def test_a_long_list_is_dealt_out_to_every_core_and_comes_back_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = FakeModel()
    monkeypatch.setattr(embedders, "_load_sentence_transformer", lambda location: model)
    monkeypatch.setattr(embedders.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(embedders, "_BATCHERS", {})
    texts = [f"text {n} " + "x" * (n * 7 % 23) for n in range(embedders.SMALL_BATCH * 2 + 1)]
    vectors = embedders._batcher("fake-model", 64).encode(texts)
    assert vectors[:, 0].tolist() == [len(text) for text in texts]
    assert len(set(vectors[:, 1].tolist())) == 2
    assert len(set(embedders._batcher("fake-model", 64).encode(texts[:3])[:, 1].tolist())) == 1


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc arenas are a glibc feature")
def test_malloc_arenas_are_capped_on_glibc() -> None:
    assert embedders.limit_malloc_arenas() is True


def random_units(count: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, 16)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("where", [None, SearchFilter(platform="tiki"), SearchFilter(kind="policy")])
def test_exact_vectors_in_memory_find_what_the_store_finds(where: SearchFilter | None) -> None:
    store = InMemoryVectorStore()
    store.upsert(CHUNKS, random_units(len(CHUNKS), seed=3))
    exact = ExactVectors.of(store, CHUNKS)
    assert exact is not None and exact.count() == len(CHUNKS)
    some = {chunk.id for chunk in CHUNKS[::3]}
    for query in random_units(5, seed=4):
        for k in (1, 7, 200):
            for ids in (None, some):
                got, expected = exact.query(query, k, where, ids), store.query(query, k, where, ids)
                assert [hit.chunk_id for hit in got] == [hit.chunk_id for hit in expected]
                assert [hit.score for hit in got] == pytest.approx([hit.score for hit in expected], abs=1e-6)
    assert exact.query(random_units(1, seed=5)[0], 0) == []


def test_exact_vectors_are_not_built_when_the_store_lacks_some() -> None:
    store = InMemoryVectorStore()
    store.upsert(CHUNKS, random_units(len(CHUNKS), seed=3))
    store.delete([CHUNKS[5].id])  # e.g. another replica's ingest removed it
    assert ExactVectors.of(store, CHUNKS) is None
