"""`copilot bench --review` on a small synthetic week: both backends measured, the section written into
BENCHMARKS.md in place (and kept by a full bench). No time is asserted: only that everything was measured."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.review import review_copilot

from bench.review_bench import BEGIN, END, kept_section, review_markdown, run_review_bench, write_section
from bench.week import synthetic_week
from copilot import Copilot

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_the_synthetic_week_has_every_kind_of_trouble_and_is_the_same_each_time() -> None:
    from datetime import date

    week = list(synthetic_week(400, date(2026, 11, 22)))
    assert week == list(synthetic_week(400, date(2026, 11, 22)))
    assert {r["platform"] for r in week} == {"livechat", "shopee", "lazada", "tiktok"}
    assert sum(r["status"] == "open" and len(r["messages"]) <= 2 for r in week) >= 5  # never answered
    assert sum("rating" in r for r in week) > 50 and len({r["id"] for r in week}) == 400
    assert all(r["messages"][0]["at"].startswith("2026-11-") for r in week)


def test_both_backends_are_measured_and_the_section_replaces_itself(
    shipped_copilot: Copilot, tmp_path: Path, postgres: str
) -> None:
    from helpers.postgres import create_database

    copilot = review_copilot(shipped_copilot, tmp_path)
    messages: list[str] = []
    bench = run_review_bench(copilot, 30, tmp_path, messages.append, create_database(postgres, "bench_small"))
    assert [run.backend for run in bench.runs] == ["SQLite", "PostgreSQL"]
    assert all(run.rows == 30 and len(run.review_seconds) == 3 for run in bench.runs)
    assert bench.analyse_seconds > 0 and bench.messages > 30 and messages
    section = review_markdown(bench)
    assert section.startswith(BEGIN) and section.rstrip().endswith(END) and "| PostgreSQL |" in section
    benchmarks = tmp_path / "BENCHMARKS.md"
    benchmarks.write_text("# Benchmarks\n\n## Goals\n\nkept\n", encoding="utf-8")
    write_section(benchmarks, section)
    write_section(benchmarks, section)
    text = benchmarks.read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1 and "kept" in text and kept_section(benchmarks) == section
