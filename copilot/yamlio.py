"""Reading YAML files of the knowledge folder with errors that name the file and the problem."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, ValidationError

from copilot.errors import KnowledgeError

# libyaml's safe loader when PyYAML was built with it: five times faster on the thousand triage examples.
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

M = TypeVar("M", bound=BaseModel)


def _valid_patterns(patterns: tuple[str, ...]) -> tuple[str, ...]:
    for number, pattern in enumerate(patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"pattern {number} is not a valid regular expression: {exc}") from exc
    return patterns


Patterns = Annotated[tuple[str, ...], AfterValidator(_valid_patterns)]
"""A list of regular expressions from a knowledge file, each checked to compile."""


def read_text(path: Path) -> str:
    """The UTF-8 text of `path`, or a KnowledgeError saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise KnowledgeError(path, f"not valid UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise KnowledgeError(path, f"cannot be read ({exc.strerror})") from exc


def parse_yaml(text: str, path: Path) -> Any:
    """Parse YAML `text` read from `path`; syntax errors name the line."""
    try:
        return yaml.load(text, Loader=_SAFE_LOADER)  # a safe loader, the C one when built
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise KnowledgeError(path, f"invalid YAML{where}: {problem}") from exc


def load_yaml_mapping(path: Path) -> dict[str, Any]:
    """A YAML file whose top level must be a mapping."""
    data = parse_yaml(read_text(path), path)
    if not isinstance(data, dict):
        raise KnowledgeError(path, "the file must hold a YAML mapping (key: value pairs) at the top level")
    return data


def validate_model(model: type[M], data: Any, path: Path | str, prefix: str = "") -> M:
    """Build `model` from `data`, turning the first validation problem into a KnowledgeError with its
    field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        if prefix:
            field = f"{prefix}.{field}" if field else prefix
        raise KnowledgeError(path, _describe(first), field=field) from exc


def validated_files(folder: Path, model: type[M]) -> Iterator[tuple[Path, M]]:
    """Each `*.yaml` file of `folder` in name order (none when the folder is missing), built as `model`;
    the first problem is a KnowledgeError naming the file and the field."""
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        yield path, validate_model(model, load_yaml_mapping(path), path)


def _describe(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field (check its spelling)"
    if error["type"] == "missing":
        return "required field is missing"
    return str(error["msg"])
