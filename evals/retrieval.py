"""Retrieval quality: hit@k and mean reciprocal rank of the documents a query should find; context recall."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from copilot.core import Copilot
from copilot.retrieval.hybrid import SearchHit
from evals.cases import Case
from evals.datasets import Known, load_cases
from evals.evaluators import Evaluator, Result, Task, score

CUTOFFS = (1, 3, 5)
FILTERS = ("platform", "kind", "step", "language")
Query = dict[str, Any]  # {"q": ..., and any of FILTERS}


class RetrievalTask(Task[Query, list[SearchHit]]):
    """A query searched in `mode`, `depth` chunks deep; it passes when a right document is in the top 3."""

    kind = "retrieval"
    metrics = "retrieval"

    def __init__(self, copilot: Copilot, evaluators: Sequence[Evaluator[Query, list[SearchHit]]],
                 mode: str = "hybrid", depth: int = 20) -> None:
        super().__init__(evaluators)
        self.copilot, self.mode, self.depth = copilot, mode, depth

    def run(self, case: Case[Query]) -> list[SearchHit]:
        filters = {name: case.input[name] for name in FILTERS if case.input.get(name)}
        return self.copilot.search(case.input["q"], k=self.depth, mode=self.mode, **filters)

    def row(self, result: Result[Query, list[SearchHit]]) -> dict[str, Any]:
        rank = rank_of(result.case, result.output)
        return {"passed": rank is not None and rank <= 3, "query": result.case.input["q"],
                "expected": list(result.case.expected["ids"]), "got": document_ranking(result.output)[:5],
                "rank": rank}


class RetrievalRanks(Evaluator[Query, list[SearchHit]]):
    """hit@k (a right document in the first k) and the reciprocal rank of the first right document (`mrr`)."""

    version = 1

    def evaluate(self, case: Case[Query], output: list[SearchHit]) -> dict[str, float]:
        rank = rank_of(case, output)
        scores = {f"hit@{k}": float(rank is not None and rank <= k) for k in CUTOFFS}
        scores["mrr"] = 1 / rank if rank else 0.0
        return scores


class ContextRecall(Evaluator[Query, list[SearchHit]]):
    """ragas' non-LLM context recall of the first five chunks against the first expected document's chunks."""

    version = 1

    def __init__(self, copilot: Copilot) -> None:
        from ragas.metrics import NonLLMContextRecall

        self.recall = NonLLMContextRecall()
        self.lexical = copilot.index.retriever().lexical

    def evaluate(self, case: Case[Query], output: list[SearchHit]) -> dict[str, float]:
        from ragas.dataset_schema import SingleTurnSample

        references = [chunk.text for chunk in self.lexical.chunks_of(case.expected["ids"][0])]
        sample = SingleTurnSample(retrieved_contexts=[hit.chunk.text for hit in output[:5]],
                                  reference_contexts=references)
        return {"context_recall": float(self.recall.single_turn_score(sample))}


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


def load_retrieval_cases(paths: Iterable[Path], known_ids: set[str] | None = None) -> list[Case[Query]]:
    """The retrieval cases of the given datasets; other kinds are skipped, unknown document ids named."""
    known = Known(documents=frozenset(known_ids) if known_ids is not None else None)
    return load_cases(paths, known, "retrieval")


def document_ranking(hits: list[SearchHit]) -> list[str]:
    """Document ids in the order their first chunk appears."""
    return list(dict.fromkeys(hit.chunk.doc_id for hit in hits))


def first_relevant_rank(ranking: list[str], expected: Iterable[str]) -> int | None:
    wanted = set(expected)
    return next((rank for rank, doc in enumerate(ranking, start=1) if doc in wanted), None)


def rank_of(case: Case[Query], hits: list[SearchHit]) -> int | None:
    return first_relevant_rank(document_ranking(hits), case.expected["ids"])


def score_cases(copilot: Copilot, cases: list[Case[Query]], mode: str, depth: int = 20) -> RetrievalScores:
    """Run every case in `mode` and average hit@k and reciprocal rank at document level."""
    results = score(RetrievalTask(copilot, [RetrievalRanks()], mode, depth), cases)
    total = max(len(results), 1)
    return RetrievalScores(cases=len(results),
                           hits={k: sum(r.scores[f"hit@{k}"] for r in results) / total for k in CUTOFFS},
                           mrr=sum(r.scores["mrr"] for r in results) / total,
                           ranks={r.case.id: rank_of(r.case, r.output) for r in results})


def breakdown(cases: list[Case[Query]], scores: RetrievalScores, k: int = 3) -> dict[str, float]:
    """hit@k per tag (for example en / vi / vi-unaccented)."""
    groups: dict[str, list[int | None]] = defaultdict(list)
    for case in cases:
        for tag in case.tags or ("untagged",):
            groups[tag].append(scores.ranks[case.id])
    return {tag: round(sum(1 for r in rs if r is not None and r <= k) / len(rs), 3)
            for tag, rs in groups.items()}
