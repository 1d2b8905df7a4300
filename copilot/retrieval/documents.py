"""Knowledge documents: Markdown files with YAML front matter, validated on load."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from copilot.errors import KnowledgeError
from copilot.yamlio import parse_yaml, read_text, validate_model

DOCUMENT_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{1,127}$")
LANGUAGES = ("en", "vi")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


def _as_tuple(value: object) -> object:
    """Accept a single string where a list is expected (`platforms: shopee`)."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else value


class FrontMatter(BaseModel):
    """The metadata block of a document, as the contract defines it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str = Field(min_length=1)
    kind: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    platforms: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    language: tuple[str, ...] = LANGUAGES
    tags: tuple[str, ...] = ()
    answers: tuple[str, ...] = Field(default=(), description="The needs (triage intents) its reply answers.")
    when: dict[str, str] = Field(default_factory=dict, description="Conditions its reply holds under.")
    owner: str | None = None
    updated: str | None = None

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not DOCUMENT_ID.match(value):
            raise ValueError("must be 2-128 lower-case letters, digits, '.', '_' or '-' "
                             "(e.g. shopee-cancel-policy)")
        return value

    @field_validator("platforms", "steps", "language", "tags", "answers", mode="before")
    @classmethod
    def _listify(cls, value: object) -> object:
        return _as_tuple(value)

    @field_validator("updated", mode="before")
    @classmethod
    def _date_as_text(cls, value: object) -> object:
        return None if value is None else str(value)


@dataclass(frozen=True)
class KnowledgeDocument:
    """A loaded document: its metadata, Markdown body, source path and a content fingerprint."""

    meta: FrontMatter
    body: str
    path: Path
    fingerprint: str

    @property
    def id(self) -> str:
        return self.meta.id


def parse_document(text: str, path: Path) -> KnowledgeDocument:
    """Split front matter from body and validate the metadata; errors name the file and field."""
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if not match:
        raise KnowledgeError(path, "missing YAML front matter: the file must start with a '---' block")
    data = parse_yaml(match.group(1), path)
    if not isinstance(data, dict):
        raise KnowledgeError(path, "the front matter must be a YAML mapping (id, title, kind, ...)")
    meta = validate_model(FrontMatter, data, path)
    body = text.lstrip("\ufeff")[match.end() :].strip()
    if not body:
        raise KnowledgeError(path, "the document has front matter but no text")
    fingerprint = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    return KnowledgeDocument(meta=meta, body=body, path=path, fingerprint=fingerprint)


def check_vocabulary(
    document: KnowledgeDocument, platforms: Iterable[str], steps: Iterable[str]
) -> None:
    """Reject platforms, steps and languages that the knowledge base does not define."""
    known = {"platforms": set(platforms), "steps": set(steps), "language": set(LANGUAGES)}
    for field, allowed in known.items():
        values: tuple[str, ...] = getattr(document.meta, field)
        unknown = [value for value in values if value not in allowed]
        if unknown:
            raise KnowledgeError(
                document.path,
                f"unknown value(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(allowed))}",
                field=field,
            )


def load_documents(paths: Iterable[Path]) -> list[KnowledgeDocument]:
    """Parse every Markdown file; duplicate ids are an error naming both files."""
    documents: list[KnowledgeDocument] = []
    seen: dict[str, Path] = {}
    for path in paths:
        document = parse_document(read_text(path), path)
        if document.id in seen:
            raise KnowledgeError(path, f"id '{document.id}' is already used by {seen[document.id]}",
                                 field="id")
        seen[document.id] = path
        documents.append(document)
    return documents
