"""`copilot bench` measures (never asserts) latency; this checks it runs and reports every line."""

from __future__ import annotations

import pytest
from conftest import REPO

from copilot import Copilot
from copilot.bench import markdown, percentiles, run_bench

pytestmark = pytest.mark.slow


def test_percentiles_of_known_values() -> None:
    assert percentiles([float(v) for v in range(1, 101)]) == (50.5, 95.05, 99.01)


def test_quick_bench_reports_guardrails_retrieval_and_drafts(shipped_copilot: Copilot) -> None:
    timings = run_bench(shipped_copilot, REPO / "evals" / "datasets", quick=True)
    assert [t.name.split(",")[0].split(" (")[0] for t in timings] == ["guardrail check", "retrieval",
                                                                      "draft in-process"]
    assert all(t.samples > 100 and 0 < t.p50 <= t.p95 <= t.p99 for t in timings)
    report = markdown(timings, quick=True)
    assert report.startswith("# Benchmarks") and report.count("\n| ") == len(timings) + 2
