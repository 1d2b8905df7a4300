"""The code stays readable in pieces: no source file over 400 lines, no Python function over 40 (issue 16)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("copilot", "api", "bench", "evals")
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 40


def sources(*suffixes: str) -> list[Path]:
    return sorted(path for package in PACKAGES for suffix in suffixes
                  for path in (ROOT / package).rglob(f"*{suffix}"))


def test_no_source_file_is_over_400_lines() -> None:
    found = sources(".py", ".js")
    assert any(path.suffix == ".js" for path in found)
    long = {str(path.relative_to(ROOT)): lines for path in found
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES}
    assert not long


def test_no_function_is_over_40_lines() -> None:
    long = []
    for path in sources(".py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            if function and (node.end_lineno or node.lineno) - node.lineno + 1 > MAX_FUNCTION_LINES:
                long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert not long
