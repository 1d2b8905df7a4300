"""The review's service numbers in two passes: the database counts every measure per day, channel and agent in
one GROUP BY (a few hundred rows for a week), and the team's, each channel's, each agent's and each day's
numbers are sums of those counts. Percentiles the same way: the database counts the response times per
channel, agent and tenth of a minute, the nearest rank is read off the counts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any

MEASURES = ("conversations", "in_time", "due", "never", "ours", "good", "bad", "rated", "waiting", "broken",
            "finished", "coverage", "in_order", "asked", "qa")
PERCENTILES = (50, 90)


@dataclass
class Counts:
    """The sums of one group (a day, a channel, an agent, the team)."""

    conversations: float = 0
    in_time: float = 0
    due: float = 0
    never: float = 0
    ours: float = 0
    good: float = 0
    bad: float = 0
    rated: float = 0
    waiting: float = 0
    broken: float = 0
    finished: float = 0
    coverage: float = 0
    in_order: float = 0
    asked: float = 0
    qa: float = 0

    def add(self, other: Counts) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    @property
    def rate(self) -> float | None:
        return round(self.in_time / self.due, 3) if self.due else None


@dataclass(frozen=True)
class Partial:
    day: str
    channel: str
    agent: str | None
    counts: Counts


def partials(rows: Iterable[Sequence[Any]]) -> list[Partial]:
    """Rows of (day, channel, agent, *MEASURES) as the database summed them."""
    return [
        Partial(str(row[0]), str(row[1]), row[2], Counts(*(float(v or 0) for v in row[3:]))) for row in rows
    ]


def rolled(found: list[Partial], key: Callable[[Partial], Any]) -> dict[Any, Counts]:
    groups: dict[Any, Counts] = defaultdict(Counts)
    for partial in found:
        groups[key(partial)].add(partial.counts)
    return dict(groups)


def days_at_target(found: list[Partial], key: Callable[[Partial], Any], target: float) -> dict[Any, int]:
    """Per group, the days whose response rate reached the target."""
    per_day = rolled(found, lambda p: (key(p), p.day))
    met: dict[Any, int] = defaultdict(int)
    for (group, _), counts in per_day.items():
        met[group] += counts.due > 0 and counts.in_time >= counts.due * target
    return dict(met)


def percentiles(
    rows: Iterable[Sequence[Any]], key: Callable[[str, str | None], Any]
) -> dict[Any, dict[str, float]]:
    """Rows of (channel, agent, tenth of a minute, count): per group, p50 and p90 in minutes."""
    counts: dict[Any, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for channel, agent, tenth, count in rows:
        counts[key(str(channel), agent)][int(tenth)] += int(count)
    found: dict[Any, dict[str, float]] = {}
    for group, tenths in counts.items():
        ordered = sorted(tenths.items())
        total = sum(count for _, count in ordered)
        for p in PERCENTILES:
            rank, seen = (total * p + 99) // 100, 0
            for tenth, count in ordered:
                seen += count
                if seen >= rank:
                    found.setdefault(group, {})[f"p{p}"] = tenth / 10
                    break
    return found


def tenth_counts(rows: Iterable[Sequence[Any]]) -> dict[int, int]:
    """Rows of (channel, agent, tenth, count) summed over channels and agents: the team's distribution."""
    every: dict[int, int] = defaultdict(int)
    for _, _, tenth, count in rows:
        every[int(tenth)] += int(count)
    return dict(every)
