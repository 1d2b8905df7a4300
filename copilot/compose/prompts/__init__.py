"""Prompt templates live here as text files; `render` fills their `$placeholders` strictly."""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template


@cache
def template(name: str) -> Template:
    return Template(resources.files(__package__).joinpath(f"{name}.txt").read_text(encoding="utf-8"))


def render(name: str, **values: str) -> str:
    """The prompt file `name`.txt with every `$placeholder` filled; a missing value is a KeyError."""
    return template(name).substitute(values)


def exists(name: str) -> bool:
    return resources.files(__package__).joinpath(f"{name}.txt").is_file()
