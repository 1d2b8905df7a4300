"""What the bench sends: the shipped evaluation datasets' drafts, checks and queries, made new per request."""

from __future__ import annotations

import itertools
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from copilot.contracts import DraftRequest, GuardrailRequest, parse_request
from copilot.errors import CopilotError, InvalidRequestError

FIRST_ORDER = 100_000


@dataclass(frozen=True)
class Workload:
    """Request bodies from `evals/datasets`: `/v1/drafts`, `/v1/guardrails/check`, and search queries with the
    platform each was asked for."""

    drafts: list[dict[str, Any]]
    checks: list[dict[str, Any]]
    queries: list[tuple[str, str | None]]
    _orders: itertools.count[int] = field(default_factory=lambda: itertools.count(FIRST_ORDER), repr=False)

    @classmethod
    def load(cls, datasets: Path) -> Workload:
        """The inputs of `drafts.jsonl`, `guardrails.jsonl` and `retrieval.jsonl`, each checked against its
        request model, so a broken case is named before anything is measured."""
        drafts = _inputs(datasets / "drafts.jsonl", "draft", DraftRequest)
        checks = _inputs(datasets / "guardrails.jsonl", "guardrail", GuardrailRequest)
        cases = _inputs(datasets / "retrieval.jsonl", "retrieval", SearchCase)
        queries = [(str(q["q"]), q.get("platform")) for q in cases]
        return cls(drafts, checks, queries)

    def order(self) -> int:
        """An order number never used before in this run."""
        return next(self._orders)

    def fresh_draft(self, number: int, whole: bool = True) -> dict[str, Any]:
        """Draft request `number` (the dataset, cycled), renewed with an order number never used before."""
        return renewed(self.drafts[number % len(self.drafts)], self.order(), whole)

    def draft_call(self, number: int) -> tuple[str, dict[str, Any]]:
        return "/v1/drafts", self.fresh_draft(number)

    def next_draft_call(self, number: int) -> tuple[str, dict[str, Any]]:
        return "/v1/drafts", self.fresh_draft(number, whole=False)

    def check_call(self, number: int) -> tuple[str, dict[str, Any]]:
        return "/v1/guardrails/check", self.checks[number % len(self.checks)]

    def mixed_call(self, number: int) -> tuple[str, dict[str, Any]]:
        """Drafts and checks alternately, as the sidebar does (a draft, then the agent's edits checked)."""
        return self.next_draft_call(number // 2) if number % 2 == 0 else self.check_call(number // 2)


def renewed(request: dict[str, Any], order: int, whole: bool = True) -> dict[str, Any]:
    """A copy of a draft request with `#order` at the end of its messages, so no cache (query embeddings,
    recognised agent messages) has seen them. `whole`: every message, as when a conversation is new to the
    copilot; otherwise only the last agent and the last customer message, as when the sidebar drafts again
    after the agent replied and the customer wrote back."""
    body = deepcopy(request)
    messages = body["messages"]
    latest = {role: max((i for i, m in enumerate(messages) if m["role"] == role), default=-1)
              for role in ("agent", "customer")}
    for index, message in enumerate(messages):
        if whole or index in latest.values():
            message["text"] = f"{message['text']} #{order}"
    return body


class SearchCase(BaseModel):
    """The input of a retrieval case: a query and, optionally, the platform it was asked for."""

    model_config = ConfigDict(extra="ignore")

    q: str = Field(min_length=1)
    platform: str | None = None


def _inputs(path: Path, kind: str, model: type[BaseModel]) -> list[dict[str, Any]]:
    inputs = []
    for case in _cases(path, kind):
        try:
            parse_request(model, case.get("input"))
        except InvalidRequestError as exc:
            raise CopilotError(f"bench dataset {path}, case {case.get('id', '?')}: {exc}") from exc
        inputs.append(case["input"])
    return inputs


def _cases(path: Path, kind: str) -> list[dict[str, Any]]:
    """The cases of `kind` in a dataset, read and checked as the eval runner reads them."""
    from evals.datasets import read_cases

    cases = [case for _, case in read_cases(path) if case.get("kind") == kind]
    if not cases:
        raise CopilotError(f"bench dataset {path}: no '{kind}' case")
    return cases
