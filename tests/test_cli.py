"""The `copilot` command as a user runs it: clear output, clear errors, no tracebacks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import document
from typer.testing import CliRunner

from copilot.cli import app

runner = CliRunner()


def run(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.mark.slow
def test_ingest_then_search_prints_ranked_passages(
    make_knowledge: Callable[..., Path], tmp_path: Path
) -> None:
    root, index = make_knowledge(), tmp_path / "cli-index"
    first = run("ingest", "--knowledge", str(root), "--index", str(index))
    assert first.exit_code == 0, first.output
    assert "Indexed 3 documents" in first.output and "3 added" in first.output
    again = run("ingest", "--knowledge", str(root), "--index", str(index))
    assert "3 unchanged; 0 chunks embedded" in again.output

    found = run("search", "khach muon huy don", "--platform", "shopee", "--knowledge", str(root),
                "--index", str(index))
    assert found.exit_code == 0
    assert found.output.splitlines()[0].startswith("1. shopee-cancel") and "§ Hủy đơn" in found.output

    as_json = run("search", "popup not showing", "--json", "--k", "2", "--knowledge", str(root),
                  "--index", str(index))
    rows = json.loads(as_json.stdout)
    assert rows[0]["id"] == "popup-not-showing" and {"title", "section", "score", "text"} <= set(rows[0])


def test_invalid_knowledge_file_gives_one_clear_line(
    make_knowledge: Callable[..., Path], tmp_path: Path
) -> None:
    root = make_knowledge({"faqs/bad.md": document("bad-doc", "Bad", "text", platforms="[shoppe]")})
    result = run("ingest", "--knowledge", str(root), "--index", str(tmp_path / "i"))
    assert result.exit_code == 2
    assert "bad.md" in result.stderr and "platforms" in result.stderr and "shoppe" in result.stderr
    assert "Traceback" not in result.output


def test_search_without_index_says_to_ingest(make_knowledge: Callable[..., Path], tmp_path: Path) -> None:
    result = run("search", "x", "--knowledge", str(make_knowledge()), "--index", str(tmp_path / "empty"))
    assert result.exit_code == 2 and "copilot ingest" in result.stderr


def test_unknown_platform_is_named(make_knowledge: Callable[..., Path], tmp_path: Path) -> None:
    result = run("search", "x", "--platform", "amazon", "--knowledge", str(make_knowledge()))
    assert result.exit_code == 2 and "unknown platform 'amazon'" in result.stderr


@pytest.mark.slow
def test_compare_retrieval_prints_the_three_modes(
    make_knowledge: Callable[..., Path], tmp_path: Path
) -> None:
    root, index = make_knowledge(), tmp_path / "idx"
    run("ingest", "--knowledge", str(root), "--index", str(index))
    dataset = tmp_path / "r.jsonl"
    cases = [{"id": "a", "kind": "retrieval", "input": {"q": "huy don", "platform": "shopee"},
              "expected": {"ids": ["shopee-cancel"]}, "tags": ["vi-unaccented"]},
             {"id": "b", "kind": "retrieval", "input": {"q": "popup gone"},
              "expected": {"ids": ["popup-not-showing"]}}]
    dataset.write_text("\n".join(json.dumps(c) for c in cases))
    result = run("compare-retrieval", str(dataset), "--knowledge", str(root), "--index", str(index))
    assert result.exit_code == 0, result.output
    for mode in ("dense", "bm25", "hybrid"):
        assert mode in result.output


def test_dataset_with_unknown_document_id_names_the_line(
    make_knowledge: Callable[..., Path], tmp_path: Path
) -> None:
    dataset = tmp_path / "r.jsonl"
    dataset.write_text('{"id": "a", "kind": "retrieval", "input": {"q": "x"}, '
                       '"expected": {"ids": ["nope"]}}\n')
    result = run("compare-retrieval", str(dataset), "--knowledge", str(make_knowledge()))
    assert result.exit_code == 2 and "r.jsonl:1" in result.stderr and "nope" in result.stderr


def test_help_lists_the_commands_by_who_runs_them_serving_first() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    panels = [result.output.index(title) for title in ("Serve and call", "Measure", "Team lead")]
    assert panels == sorted(panels)
    assert result.output.index("ingest") < panels[1] < result.output.index("eval")
