"""Fusion of rankings: weighted reciprocal rank, then documents ranked by their best sections.

Settings chosen on evals/datasets/retrieval.jsonl (see README): the packaged embedding model knows English
only, so its ranking weighs less on Vietnamese queries; a document gains from a second and third matching
section.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

RRF_K = 30
DENSE_WEIGHT = {"en": 1.5, "vi": 0.3}
LEXICAL_WEIGHT = 1.0
SECTION_BONUS = 0.5


@dataclass(frozen=True)
class Fused:
    """A ranked item (a chunk id); `score` is in (0, 1]: 1 means first in every ranking that was fused."""

    item: str
    score: float
    ranks: dict[str, int]


def fuse(rankings: Mapping[str, Sequence[str]], language: str,
         document_of: Callable[[str], str]) -> list[Fused]:
    """The items of the `dense` and `lexical` rankings, best first: each item's weighted reciprocal ranks,
    raised by the best other sections of its document (`document_of`)."""
    weights = {"dense": DENSE_WEIGHT.get(language, 1.0), "lexical": LEXICAL_WEIGHT}
    scores: dict[str, float] = defaultdict(float)
    ranks: dict[str, dict[str, int]] = defaultdict(dict)
    for name, ranking in rankings.items():
        for rank, item in enumerate(ranking, start=1):
            scores[item] += weights[name] / (RRF_K + rank)
            ranks[item][name] = rank
    documents = {item: document_of(item) for item in scores}
    by_document: dict[str, list[float]] = defaultdict(list)
    for item, score in scores.items():
        by_document[documents[item]].append(score)
    document_score = {}
    for document, values in by_document.items():
        values.sort(reverse=True)
        document_score[document] = values[0] + SECTION_BONUS * sum(values[1:3])
    best = sum(weights[name] for name in rankings) / (RRF_K + 1) * (1 + 2 * SECTION_BONUS)

    final = {item: document_score[documents[item]] * score / by_document[documents[item]][0]
             for item, score in scores.items()}
    ordered = sorted(final, key=lambda item: -final[item])
    return [Fused(item, round(min(final[item] / best, 1.0), 4), ranks[item]) for item in ordered]
