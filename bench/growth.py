"""How a draft's cost grows with the size of the knowledge base and the length of the conversation: the whole
in-process draft (local composer) over each synthetic index, for conversations of 2, 20 and 200 messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.stats import Timing, timed
from bench.synthetic import long_conversation
from bench.workload import Workload, renewed
from copilot.contracts import DraftRequest
from copilot.core import Copilot
from copilot.retrieval.hybrid import HybridRetriever
from copilot.retrieval.index import KnowledgeIndex
from copilot.retrieval.vector_store import VectorStore
from copilot.settings import Settings


class PrebuiltIndex(KnowledgeIndex):
    """A knowledge index whose searcher was built elsewhere (a synthetic index), never loaded from disk."""

    def __init__(self, settings: Settings, retriever: HybridRetriever, store: VectorStore) -> None:
        super().__init__(settings, embedder=retriever.embedder, store=store)
        self._prebuilt = retriever

    def retriever(self) -> HybridRetriever:
        return self._prebuilt


@dataclass(frozen=True)
class GrowthCell:
    """Draft latency for one knowledge size and conversation length."""

    chunks: int
    messages: int
    next_message: Timing
    new_conversation: Timing


def copilot_over(settings: Settings, retriever: HybridRetriever, store: VectorStore) -> Copilot:
    """A copilot with the knowledge folder of `settings` (flows, rules, platforms) searching `retriever`,
    whose vectors `store` holds."""
    copilot = Copilot(settings, embedder=retriever.embedder, store=store)
    copilot.index = PrebuiltIndex(settings, retriever, store)
    return copilot


def growth_row(copilot: Copilot, chunks: int, workload: Workload, lengths: Sequence[int], conversations: int,
               rounds: int) -> list[GrowthCell]:
    """For each length, `conversations` generated conversations: drafted as the next message (each
    first drafted once, then `rounds` times with its last agent and customer messages new) and as new ones."""
    cells = []
    for length in lengths:
        bases = [long_conversation(workload.drafts, length, seed=seed) for seed in range(conversations)]
        for body in bases:
            copilot.draft(DraftRequest.model_validate(body))
        following = _requests(bases, workload, rounds, whole=False)
        fresh = _requests(bases, workload, max(1, rounds // 2), whole=True)
        cells.append(GrowthCell(
            chunks, length,
            timed(f"{chunks} chunks, {length} messages, next message", copilot.draft, following),
            timed(f"{chunks} chunks, {length} messages, new conversation", copilot.draft, fresh,
                  copilot.clear_caches),
        ))
    return cells


def _requests(
    bases: list[dict[str, Any]], workload: Workload, rounds: int, whole: bool
) -> list[DraftRequest]:
    return [DraftRequest.model_validate(renewed(body, workload.order(), whole)) for _ in range(rounds)
            for body in bases]
