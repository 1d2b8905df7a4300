"""Fusion of the dense and lexical rankings, on its own: reciprocal ranks weighted by language, documents
raised by their other matching sections, scores in (0, 1]."""

from __future__ import annotations

from copilot.retrieval.fusion import fuse


def document(item: str) -> str:
    return item.split("#")[0]


def test_first_in_both_rankings_scores_more_with_the_documents_other_sections() -> None:
    lone = fuse({"dense": ["a#1"], "lexical": ["a#1"]}, "en", document)
    assert lone[0].score == 0.5 and lone[0].ranks == {"dense": 1, "lexical": 1}  # no other section
    rankings = {"dense": ["a#1", "a#2", "a#3"], "lexical": ["a#1", "a#2", "a#3"]}
    fused = fuse(rankings, "en", document)
    assert [f.item for f in fused] == ["a#1", "a#2", "a#3"]
    assert 0.95 < fused[0].score <= 1 and all(0 < f.score <= 1 for f in fused)


def test_the_dense_ranking_weighs_less_on_vietnamese() -> None:
    rankings = {"dense": ["dense-only#1"], "lexical": ["lexical-only#1"]}
    assert fuse(rankings, "en", document)[0].item == "dense-only#1"
    assert fuse(rankings, "vi", document)[0].item == "lexical-only#1"


def test_a_document_with_more_matching_sections_goes_first() -> None:
    rankings = {"dense": ["lone#1", "many#1", "many#2", "many#3"], "lexical": ["many#1", "lone#1"]}
    fused = fuse(rankings, "en", document)
    assert fused[0].item == "many#1"
    assert {f.item for f in fused} == {"lone#1", "many#1", "many#2", "many#3"}
