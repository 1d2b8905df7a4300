"""The answer selector's trade-off: how often drafts answer against how often the answer is wrong, per
threshold. On the team's answer examples by cross-validation (the validation data the threshold is chosen on),
and on draft datasets that say whether each case is answerable (measured, never chosen on)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from copilot.contracts import DraftRequest
from copilot.core import Copilot
from copilot.text import fold
from copilot.understand.config import load_answer_examples
from copilot.understand.selector import AnswerSelector
from evals.cases import Case
from evals.datasets import Known, load_cases
from evals.drafts import carries

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9)


@dataclass(frozen=True)
class Pick:
    """One case: the selector's confidence in its best unit, and whether answering with it would be right."""

    confidence: float
    right: bool


@dataclass(frozen=True)
class TradeOff:
    threshold: float
    answer_rate: float
    wrong_rate: float
    right_rate: float


def trade_offs(picks: Sequence[Pick], thresholds: Sequence[float] = THRESHOLDS) -> list[TradeOff]:
    """Per threshold: the share of cases answered, answered wrongly and answered rightly."""
    rows = []
    for threshold in thresholds:
        answered = [p for p in picks if p.confidence >= threshold]
        total = len(picks) or 1
        rows.append(TradeOff(threshold, round(len(answered) / total, 3),
                             round(sum(not p.right for p in answered) / total, 3),
                             round(sum(p.right for p in answered) / total, 3)))
    return rows


def cross_validated(copilot: Copilot, folds: int = 5, seed: int = 13) -> list[Pick]:
    """Each answer example read by a selector fitted without it (and its fold): right when the best unit that
    serves any platform is the example's unit (a `none` example is never right: answering it is wrong)."""
    understander = copilot.understander
    units = understander.units
    examples = load_answer_examples(copilot.knowledge.root, {unit.id for unit in units})
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    picks = []
    for part in range(folds):
        held = set(order[part::folds])
        train = [(e.text, e.answer) for i, e in enumerate(examples) if i not in held]
        selector = AnswerSelector(units, train, copilot.index.embedder)
        for i in sorted(held):
            unit = selector.units.get(examples[i].answer)  # None for a `none` example: never answered right
            platforms = unit.platforms if unit else ()
            ranked = selector.rank(examples[i].text, platform=platforms[0] if platforms else None)
            best = ranked.best
            picks.append(Pick(best[1] if best else 0.0, bool(best and best[0].id == examples[i].answer)))
    return picks


def on_datasets(copilot: Copilot, datasets: Sequence[Path]) -> list[Pick]:
    """Each answerable or unanswerable draft case drafted as if the threshold were zero: right when the draft
    carries the case's facts and nothing it forbids (an unanswerable case is never answered right)."""
    understander = copilot.understander
    cases = [c for c in load_cases(datasets, Known.of(copilot), "draft") if "answerable" in c.expected]
    saved = understander.config
    understander.config = saved.model_copy(update={"threshold": 0.0})
    try:
        return [_pick(copilot, case) for case in cases]
    finally:
        understander.config = saved


def _pick(copilot: Copilot, case: Case[DraftRequest]) -> Pick:
    response = copilot.draft(case.input)
    if response.answer is None:
        return Pick(0.0, False)
    expected = case.expected
    forbidden = any(fold(s) in fold(response.draft) for s in expected.get("must_not_include", []))
    right = bool(expected["answerable"]) and not forbidden \
        and carries(response.draft, expected.get("must_include_any", []))
    return Pick(response.answer.confidence, right)
