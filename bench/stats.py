"""Latency statistics: percentiles of timed calls, and the goals they are compared with."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Timing:
    """Percentiles of one measured operation, in milliseconds."""

    name: str
    samples: int
    p50: float
    p95: float
    p99: float

    @classmethod
    def of(cls, name: str, values_ms: Sequence[float]) -> Timing:
        return cls(name, len(values_ms), *percentiles(values_ms))


@dataclass(frozen=True)
class Goal:
    """One goal of the issue with what this run measured; `passed` is None when it was not measured."""

    name: str
    target: str
    measured: str
    passed: bool | None


def at_most(name: str, value: float | None, limit: float, unit: str = "") -> Goal:
    suffix = f" {unit}" if unit else ""
    if value is None:
        return Goal(name, f"<= {limit:g}{suffix}", "not measured", None)
    return Goal(name, f"<= {limit:g}{suffix}", f"{value:g}{suffix}", value <= limit)


def at_least(name: str, value: float | None, limit: float, unit: str = "") -> Goal:
    suffix = f" {unit}" if unit else ""
    if value is None:
        return Goal(name, f">= {limit:g}{suffix}", "not measured", None)
    return Goal(name, f">= {limit:g}{suffix}", f"{value:g}{suffix}", value >= limit)


def percentiles(values_ms: Sequence[float]) -> tuple[float, float, float]:
    """p50, p95 and p99 (inclusive method, so a few samples give their own range, not extrapolations)."""
    if not values_ms:
        raise ValueError("no samples to take percentiles of")
    ordered = sorted(values_ms)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered * 99
    return round(cuts[49], 3), round(cuts[94], 3), round(cuts[98], 3)


def measure(
    name: str, calls: Sequence[Callable[[], Any]], rounds: int, reset: Callable[[], None] = lambda: None
) -> Timing:
    """Run every call once to warm up, then `rounds` times, timing each call; `reset` (untimed) empties caches
    first, so a repeated query costs what a new customer message costs."""
    for call in calls:
        call()
    values = []
    for _ in range(rounds):
        for call in calls:
            reset()
            started = time.perf_counter()
            call()
            values.append((time.perf_counter() - started) * 1000)
    return Timing.of(name, values)


def timed(name: str, call: Callable[[T], Any], inputs: Sequence[T],
          reset: Callable[[], None] = lambda: None) -> Timing:
    """Time `call` on each input (prepared beforehand, so building it is not timed), after an untimed
    `reset`."""
    values = []
    for item in inputs:
        reset()
        started = time.perf_counter()
        call(item)
        values.append((time.perf_counter() - started) * 1000)
    return Timing.of(name, values)
