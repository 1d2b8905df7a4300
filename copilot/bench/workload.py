"""What the bench sends: the shipped evaluation datasets' drafts, checks and queries, made new per request."""

from __future__ import annotations

import itertools
import json
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from copilot.errors import CopilotError

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
        drafts = [case["input"] for case in _cases(datasets / "drafts.jsonl", "draft")]
        checks = [case["input"] for case in _cases(datasets / "guardrails.jsonl", "guardrail")]
        queries = [(case["input"]["q"], case["input"].get("platform"))
                   for case in _cases(datasets / "retrieval.jsonl", "retrieval")]
        return cls(drafts, checks, queries)

    def fresh_draft(self, number: int) -> dict[str, Any]:
        """Draft request `number` (the dataset, cycled) with an order number never used before at the end of
        every message, so no cache (query embeddings, recognised agent messages) has seen it: each one costs
        what a new conversation costs."""
        body = deepcopy(self.drafts[number % len(self.drafts)])
        order = next(self._orders)
        for message in body["messages"]:
            message["text"] = f"{message['text']} #{order}"
        return body

    def draft_call(self, number: int) -> tuple[str, dict[str, Any]]:
        return "/v1/drafts", self.fresh_draft(number)

    def check_call(self, number: int) -> tuple[str, dict[str, Any]]:
        return "/v1/guardrails/check", self.checks[number % len(self.checks)]

    def mixed_call(self, number: int) -> tuple[str, dict[str, Any]]:
        """Drafts and checks alternately, as the sidebar does (a draft, then the agent's edits checked)."""
        return self.draft_call(number // 2) if number % 2 == 0 else self.check_call(number // 2)


def _cases(path: Path, kind: str) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CopilotError(f"bench dataset {path}: cannot be read ({exc.strerror})") from exc
    cases = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CopilotError(f"bench dataset {path}, line {number}: not JSON ({exc.msg})") from exc
        if case.get("kind") == kind:
            cases.append(case)
    if not cases:
        raise CopilotError(f"bench dataset {path}: no '{kind}' case")
    return cases
