"""Scoring cases in the shape of pydantic-evals: a task gives the copilot's output for a case, its evaluators
turn the case and that output into named scores, and a score's metric is its mean over the cases that have
it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from evals.cases import Case

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Result(Generic[InputT, OutputT]):
    """One case, what the copilot gave for it and the scores of every evaluator."""

    case: Case[InputT]
    output: OutputT
    scores: dict[str, float]


class Evaluator(ABC, Generic[InputT, OutputT]):
    """Turns a case and the copilot's output into named scores. `version` goes into the report: bump it when
    what the evaluator scores changes, so that two reports tell whether their numbers can be compared."""

    version: ClassVar[int]

    @property
    def name(self) -> str:
        return type(self).__name__

    @abstractmethod
    def evaluate(self, case: Case[InputT], output: OutputT) -> dict[str, float]: ...

    def summarize(self, results: Sequence[Result[InputT, OutputT]]) -> dict[str, float]:
        """Metrics of the whole set that are no mean of case scores (precision, calibration), in full name."""
        return {}


class Task(ABC, Generic[InputT, OutputT]):
    """One kind of case: what the copilot does for it, the evaluators that score it, how a report shows it."""

    kind: ClassVar[str]
    metrics: ClassVar[str]  # the first part of the names of its metrics

    def __init__(self, evaluators: Sequence[Evaluator[InputT, OutputT]]) -> None:
        self.evaluators = list(evaluators)

    @abstractmethod
    def run(self, case: Case[InputT]) -> OutputT: ...

    @abstractmethod
    def row(self, result: Result[InputT, OutputT]) -> dict[str, Any]:
        """The case in the report: `passed`, and what a reader needs to see why."""


def score(task: Task[InputT, OutputT], cases: Sequence[Case[InputT]],
          progress: Progress | None = None) -> list[Result[InputT, OutputT]]:
    """Every case through the task, scored by each of its evaluators in turn."""
    results = []
    for index, case in enumerate(cases, start=1):
        output = task.run(case)
        scores: dict[str, float] = {}
        for evaluator in task.evaluators:
            scores.update(evaluator.evaluate(case, output))
        results.append(Result(case, output, scores))
        if progress:
            progress(task.metrics, index, len(cases))
    return results


def means(results: Sequence[Result[Any, Any]]) -> dict[str, float]:
    """Each score averaged over the cases that have it, in the order the scores first appear."""
    values: dict[str, list[float]] = defaultdict(list)
    for result in results:
        for name, value in result.scores.items():
            values[name].append(value)
    return {name: round(sum(v) / len(v), 3) for name, v in values.items()}
