"""The words of the review page, in English and Vietnamese (`labels.yaml`, read once; the business words come
from knowledge/)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import TypeAdapter

LABELS_FILE = Path(__file__).with_name("labels.yaml")


def load_labels(path: Path = LABELS_FILE) -> dict[str, dict[str, str]]:
    """Each language's labels by key; every value a string (a YAML `no` or `12` would not be)."""
    table = yaml.safe_load(path.read_text(encoding="utf-8"))
    return TypeAdapter(dict[str, dict[str, str]]).validate_python(table, strict=True)


LABELS: dict[str, dict[str, str]] = load_labels()
