"""The code stays readable in pieces: no source file over 400 lines, no Python function over 40 (issue 16)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
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


def _imported_modules(folders: tuple[str, ...]) -> set[str]:
    found: set[str] = set()
    for path in (p for folder in folders for p in (ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def _declared(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[=<>~! ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
            for requirement in requirements}


def test_every_package_the_code_imports_is_declared_and_pinned() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime, dev = project["dependencies"], project["optional-dependencies"]["dev"]
    assert all("==" in requirement for requirement in [*runtime, *dev])
    distributions = packages_distributions()
    local = {*PACKAGES, "tests", "helpers", "conftest", "feedback_worker"}

    def undeclared(modules: set[str], declared: set[str]) -> set[str]:
        third_party = modules - set(sys.stdlib_module_names) - local
        return {module for module in third_party
                if not {d.lower().replace("_", "-") for d in distributions.get(module, [module])} & declared}

    assert not undeclared(_imported_modules(PACKAGES), _declared(runtime))
    assert not undeclared(_imported_modules(("tests",)), _declared([*runtime, *dev]))


def test_no_script_line_is_over_110_characters() -> None:
    """Python's are held by ruff (line-length 110); the pages' scripts by this test."""
    wide = [f"{path.relative_to(ROOT)}:{number}" for path in sources(".js")
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if len(line) > 110]
    assert not wide
