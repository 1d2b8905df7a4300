"""One evaluation case, whatever its kind: a dataset line, its input parsed into the request it stands for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

InputT = TypeVar("InputT")


@dataclass(frozen=True)
class Case(Generic[InputT]):
    """`input` is the request the copilot answers (a `DraftRequest`, a `TriageRequest`, or the JSON object of
    a guardrail check or a search); every key of `expected` is optional and a case is scored on the keys it
    has; `dataset` names the file it came from, for the per-dataset breakdowns."""

    id: str
    kind: str
    input: InputT
    expected: dict[str, Any]
    tags: tuple[str, ...] = ()
    dataset: str = ""
