"""Contract tests for the VectorStore interface, run on every implementation:
the in-memory double, embedded Chroma, and a real `chroma run` server started for the test."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from copilot.retrieval.chunking import Chunk
from copilot.retrieval.vector_store import (
    ChromaVectorStore,
    InMemoryVectorStore,
    SearchFilter,
    VectorStore,
    chroma_client,
)

STORES = ["memory", "chroma-embedded", pytest.param("chroma-server", marks=pytest.mark.integration)]


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> VectorStore:
    name = request.param
    if name == "memory":
        return InMemoryVectorStore()
    if name == "chroma-embedded":
        return ChromaVectorStore(chroma_client(tmp_path / "index"), "contract_test")
    url = request.getfixturevalue("chroma_server")
    return ChromaVectorStore(chroma_client(tmp_path, url), f"contract_{uuid.uuid4().hex}")


def chunk(cid: str, fingerprint: str = "v1", **meta: Any) -> Chunk:
    return Chunk(id=cid, doc_id=cid.split("::")[0], title="t", section="s", kind=meta.pop("kind", "policy"),
                 text="x", fingerprint=fingerprint, source="x.md", **meta)


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


CHUNKS = [
    chunk("cancel::000", platforms=("shopee",), steps=("troubleshoot",), languages=("vi",)),
    chunk("popup::000", kind="faq", platforms=("livechat",), steps=("greeting",), languages=("en",)),
    chunk("tone::000", kind="playbook", languages=("en", "vi")),
]
VECTORS = np.stack([unit(1, 0, 0), unit(0, 1, 0), unit(0.6, 0.6, 0.2)])


def filled(store: VectorStore) -> VectorStore:
    store.upsert(CHUNKS, VECTORS)
    return store


class TestVectorStoreContract:
    def test_count_follows_upserts_and_deletes(self, store: VectorStore) -> None:
        assert store.count() == 0
        filled(store)
        assert store.count() == 3
        store.delete(["popup::000", "does-not-exist::000"])
        assert store.count() == 2

    def test_nearest_first_with_cosine_scores(self, store: VectorStore) -> None:
        hits = filled(store).query(unit(1, 0.05, 0), k=3)
        assert [hit.chunk_id for hit in hits] == ["cancel::000", "tone::000", "popup::000"]
        assert hits[0].score == pytest.approx(0.9988, abs=1e-3)
        assert hits[0].score >= hits[1].score >= hits[2].score

    def test_vectors_are_returned_as_stored_and_unknown_ids_left_out(self, store: VectorStore) -> None:
        found = filled(store).vectors(["tone::000", "cancel::000", "does-not-exist::000"])
        assert sorted(found) == ["cancel::000", "tone::000"]
        assert np.allclose(found["tone::000"], VECTORS[2], atol=1e-6)
        assert found["tone::000"].dtype == np.float32
        assert store.vectors([]) == {}

    def test_k_limits_the_results(self, store: VectorStore) -> None:
        assert len(filled(store).query(unit(1, 0, 0), k=2)) == 2

    def test_platform_filter_keeps_documents_for_every_platform(self, store: VectorStore) -> None:
        hits = filled(store).query(unit(0, 1, 0), k=3, where=SearchFilter(platform="shopee"))
        assert {hit.chunk_id for hit in hits} == {"cancel::000", "tone::000"}

    def test_kind_step_and_language_filters(self, store: VectorStore) -> None:
        filled(store)
        assert [h.chunk_id for h in store.query(unit(1, 0, 0), 3, SearchFilter(kind="faq"))] == ["popup::000"]
        by_step = store.query(unit(0, 1, 0), 3, SearchFilter(step="troubleshoot"))
        assert {h.chunk_id for h in by_step} == {"cancel::000", "tone::000"}
        english = store.query(unit(1, 0, 0), 3, SearchFilter(language="en"))
        assert {h.chunk_id for h in english} == {"popup::000", "tone::000"}

    def test_upsert_replaces_vector_and_fingerprint(self, store: VectorStore) -> None:
        filled(store)
        store.upsert([chunk("cancel::000", fingerprint="v2", platforms=("shopee",))],
                     np.stack([unit(0, 0, 1)]))
        assert store.count() == 3
        assert store.fingerprints()["cancel::000"] == "v2"
        assert store.query(unit(0, 0, 1), k=1)[0].chunk_id == "cancel::000"

    def test_fingerprints_list_every_chunk(self, store: VectorStore) -> None:
        assert filled(store).fingerprints() == {"cancel::000": "v1", "popup::000": "v1", "tone::000": "v1"}

    def test_query_can_be_limited_to_some_chunks(self, store: VectorStore) -> None:
        hits = filled(store).query(unit(1, 0, 0), k=3, ids={"popup::000", "tone::000"})
        assert [hit.chunk_id for hit in hits] == ["tone::000", "popup::000"]
        assert store.query(unit(1, 0, 0), k=3, where=SearchFilter(kind="faq"), ids={"tone::000"}) == []

    def test_query_on_empty_store_returns_nothing(self, store: VectorStore) -> None:
        assert store.query(unit(1, 0, 0), k=5) == []
