"""Indexing is incremental and searches combine dense and lexical rankings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import document

from copilot import Copilot, IndexNotReadyError, InvalidRequestError, Settings
from copilot.retrieval import index as index_module
from copilot.retrieval.embedders import HashingEmbedder
from copilot.retrieval.index import ExactVectors, LiveVectors


def make_copilot(knowledge: Path, tmp_path: Path, embedder: HashingEmbedder | None = None) -> Copilot:
    settings = Settings(knowledge_dir=knowledge, index_dir=tmp_path / "index")
    return Copilot(settings, embedder=embedder or HashingEmbedder())


def embedded_texts(embedder: HashingEmbedder) -> list[str]:
    return [text for call in embedder.calls for text in call]


def test_first_ingest_embeds_everything_and_reports_it(
    make_knowledge: Callable[..., Path], tmp_path: Path
) -> None:
    embedder = HashingEmbedder()
    report = make_copilot(make_knowledge(), tmp_path, embedder).ingest()
    assert report.documents == 3 and report.chunks == report.embedded_chunks > 0
    assert report.added == ["popup-not-showing", "shopee-cancel", "tone"] and report.removed == []
    assert len(embedded_texts(embedder)) == report.chunks


def test_unchanged_documents_are_not_embedded_again(
    make_knowledge: Callable[..., Path], tmp_path: Path
) -> None:
    root = make_knowledge()
    make_copilot(root, tmp_path).ingest()
    embedder = HashingEmbedder()
    report = make_copilot(root, tmp_path, embedder).ingest()
    assert report.embedded_chunks == 0 and report.unchanged == 3 and embedder.calls == []


def test_changed_document_alone_is_embedded_again(
    make_knowledge: Callable[..., Path], tmp_path: Path
) -> None:
    root = make_knowledge()
    make_copilot(root, tmp_path).ingest()
    changed = document("tone", "Tone of voice",
                       "# Tone\n\n## Always\nStay calm, warm and never blame anyone.", kind="playbook")
    make_knowledge({"playbooks/tone.md": changed})
    embedder = HashingEmbedder()
    copilot = make_copilot(root, tmp_path, embedder)
    report = copilot.ingest()
    assert report.updated == ["tone"] and report.added == [] and report.unchanged == 2
    assert all("Tone of voice" in text for text in embedded_texts(embedder))
    found = copilot.search("stay calm and warm, never blame", k=3, mode="bm25")
    assert found[0].chunk.text.startswith("Stay calm")


def test_removed_document_disappears_from_results(
    make_knowledge: Callable[..., Path], tmp_path: Path
) -> None:
    root = make_knowledge()
    copilot = make_copilot(root, tmp_path)
    copilot.ingest()
    assert copilot.search("popup app embed theme", k=1)[0].chunk.doc_id == "popup-not-showing"
    make_knowledge({"faqs/popup.md": None})
    report = copilot.ingest()
    assert report.removed == ["popup-not-showing"]
    for mode in ("hybrid", "dense", "bm25"):
        assert all(hit.chunk.doc_id != "popup-not-showing" for hit in copilot.search("popup", k=5, mode=mode))
    assert copilot.index.store.count() == report.chunks


def test_hybrid_finds_unaccented_vietnamese_and_english(
    make_knowledge: Callable[..., Path], tmp_path: Path
) -> None:
    copilot = make_copilot(make_knowledge(), tmp_path)
    copilot.ingest()
    unaccented = copilot.search("khach muon huy don da giao van chuyen", platform="shopee")
    assert unaccented[0].chunk.doc_id == "shopee-cancel"
    top = copilot.search("popup not showing on my store", platform="livechat")[0]
    assert top.chunk.doc_id == "popup-not-showing" and 0 < top.score <= 1
    assert top.dense_rank is not None and top.lexical_rank is not None


def test_platform_filter_excludes_other_platforms(
    make_knowledge: Callable[..., Path], tmp_path: Path
) -> None:
    copilot = make_copilot(make_knowledge(), tmp_path)
    copilot.ingest()
    ids = {hit.chunk.doc_id for hit in copilot.search("popup theme app embed", k=10, platform="shopee")}
    assert ids == {"shopee-cancel", "tone"}


def test_search_before_ingest_says_what_to_do(make_knowledge: Callable[..., Path], tmp_path: Path) -> None:
    with pytest.raises(IndexNotReadyError, match="copilot ingest"):
        make_copilot(make_knowledge(), tmp_path).search("anything")


def test_unknown_filter_values_are_named(make_knowledge: Callable[..., Path], tmp_path: Path) -> None:
    copilot = make_copilot(make_knowledge(), tmp_path)
    copilot.ingest()
    with pytest.raises(InvalidRequestError, match="unknown platform 'shoppe'"):
        copilot.search("x", platform="shoppe")
    with pytest.raises(InvalidRequestError, match="unknown search mode"):
        copilot.search("x", mode="fuzzy")


def test_an_unchanged_knowledge_base_keeps_its_lexical_index(
    make_knowledge: Callable[..., Path], tmp_path: Path
) -> None:
    root = make_knowledge()
    copilot = make_copilot(root, tmp_path)
    copilot.ingest()
    lexical = copilot.index.lexical_dir
    before = (lexical / "index.json").stat().st_mtime_ns
    copilot.ingest()
    assert copilot.index.lexical_dir == lexical and (lexical / "index.json").stat().st_mtime_ns == before
    make_knowledge({"playbooks/tone.md": document("tone", "Tone", "# T\n\n## A\nBe kind.", kind="playbook")})
    copilot.ingest()
    assert copilot.index.lexical_dir != lexical and not lexical.exists()


def test_a_small_index_is_searched_exactly_in_memory_and_a_large_one_in_the_store(
    make_knowledge: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copilot = make_copilot(make_knowledge(), tmp_path)
    copilot.ingest()
    queries = ["popup not showing", "hủy đơn", "refund a charge"]
    in_memory = copilot.index.retriever()
    assert isinstance(in_memory.store, ExactVectors)

    def ranked(hits: list[Any]) -> tuple[str, set[str]]:
        """The best, then the rest in any order (equal scores)."""
        return hits[0].chunk.id, {hit.chunk.id for hit in hits}

    exact = [ranked(in_memory.search(q, k=4, mode="dense")) for q in queries]
    monkeypatch.setattr(index_module, "EXACT_LIMIT", 1)
    copilot.ingest()
    copilot.index._retriever = None  # as after a new commit
    in_store = copilot.index.retriever()
    assert isinstance(in_store.store, LiveVectors)
    assert [ranked(in_store.search(q, k=4, mode="dense")) for q in queries] == exact
