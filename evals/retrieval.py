"""Retrieval quality: hit@k and mean reciprocal rank of the documents a query should find."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from copilot.core import Copilot
from copilot.errors import DatasetError
from copilot.retrieval.hybrid import SearchHit
from evals.datasets import cases_of_kind

CUTOFFS = (1, 3, 5)
FILTERS = ("platform", "kind", "step", "language")


@dataclass(frozen=True)
class RetrievalCase:
    id: str
    query: str
    expected_ids: tuple[str, ...]
    filters: dict[str, Any]
    tags: tuple[str, ...] = ()


@dataclass
class RetrievalScores:
    """Averages over cases; `ranks` keeps each case's rank of the first right document (None = missed)."""

    cases: int = 0
    hits: dict[int, float] = field(default_factory=dict)
    mrr: float = 0.0
    ranks: dict[str, int | None] = field(default_factory=dict)

    def as_row(self) -> dict[str, float]:
        row = {f"hit@{k}": round(v, 3) for k, v in self.hits.items()}
        row["mrr"] = round(self.mrr, 3)
        return row


def load_retrieval_cases(paths: Iterable[Path], known_ids: set[str] | None = None) -> list[RetrievalCase]:
    """The retrieval cases of the given datasets; other kinds are skipped, unknown document ids named."""
    return [_parse_case(raw, path, number, known_ids) for path, number, raw in cases_of_kind(paths, "retrieval")]


def _parse_case(raw: dict[str, Any], path: Path, number: int, known_ids: set[str] | None) -> RetrievalCase:
    query = raw["input"].get("q")
    if not isinstance(query, str) or not query.strip():
        raise DatasetError(path, number, "required, the query text", "input.q")
    ids = raw.get("expected", {}).get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise DatasetError(path, number, "required, a non-empty list of document ids", "expected.ids")
    unknown = [i for i in ids if known_ids is not None and i not in known_ids]
    if unknown:
        raise DatasetError(path, number, f"unknown document id(s): {', '.join(unknown)}", "expected.ids")
    filters = {name: raw["input"][name] for name in FILTERS if raw["input"].get(name)}
    return RetrievalCase(raw["id"], query, tuple(ids), filters, tuple(raw.get("tags", ())))


def document_ranking(hits: list[SearchHit]) -> list[str]:
    """Document ids in the order their first chunk appears."""
    return list(dict.fromkeys(hit.chunk.doc_id for hit in hits))


def first_relevant_rank(ranking: list[str], expected: Iterable[str]) -> int | None:
    wanted = set(expected)
    return next((rank for rank, doc in enumerate(ranking, start=1) if doc in wanted), None)


def score_cases(copilot: Copilot, cases: list[RetrievalCase], mode: str, depth: int = 20) -> RetrievalScores:
    """Run every case in `mode` and average hit@k and reciprocal rank at document level."""
    scores = RetrievalScores(cases=len(cases))
    for case in cases:
        hits = copilot.search(case.query, k=depth, mode=mode, **case.filters)
        scores.ranks[case.id] = first_relevant_rank(document_ranking(hits), case.expected_ids)
    ranks = list(scores.ranks.values())
    total = max(len(ranks), 1)
    scores.hits = {k: sum(1 for r in ranks if r is not None and r <= k) / total for k in CUTOFFS}
    scores.mrr = sum(1.0 / r for r in ranks if r is not None) / total
    return scores


def breakdown(cases: list[RetrievalCase], scores: RetrievalScores, k: int = 3) -> dict[str, float]:
    """hit@k per tag (for example en / vi / vi-unaccented)."""
    groups: dict[str, list[int | None]] = defaultdict(list)
    for case in cases:
        for tag in case.tags or ("untagged",):
            groups[tag].append(scores.ranks[case.id])
    return {tag: round(sum(1 for r in rs if r is not None and r <= k) / len(rs), 3) for tag, rs in groups.items()}
