"""Splitting documents into retrievable chunks: by Markdown heading first, then by size."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from copilot.retrieval.documents import KnowledgeDocument

CHUNKER_VERSION = "md-headings-v3"
_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3")]


@dataclass(frozen=True)
class Chunk:
    """A passage of one document, with the metadata retrieval filters on and cites."""

    id: str
    doc_id: str
    title: str
    section: str
    kind: str
    text: str
    fingerprint: str
    source: str
    platforms: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    tags: tuple[str, ...] = field(default=())

    @property
    def search_text(self) -> str:
        """What the lexical index sees: title and section give a short passage context, tags synonyms."""
        return f"{self.title}\n{self.section}\n{' '.join(self.tags)}\n{self.text}"

    @property
    def embedding_text(self) -> str:
        """What gets embedded: like `search_text` without the tags (a keyword list blurs an embedding)."""
        return f"{self.title}\n{self.section}\n{self.text}"


class MarkdownChunker:
    """Cuts a document at its headings, then splits long sections to at most `max_chars` characters."""

    def __init__(self, max_chars: int = 1000, overlap: int = 100) -> None:
        self.version = f"{CHUNKER_VERSION}-{max_chars}-{overlap}"
        self._by_heading = MarkdownHeaderTextSplitter(headers_to_split_on=_HEADERS, strip_headers=True)
        self._by_size = RecursiveCharacterTextSplitter(chunk_size=max_chars, chunk_overlap=overlap)

    def split(self, document: KnowledgeDocument) -> list[Chunk]:
        meta = document.meta
        chunks = []
        for position, (section, text) in enumerate(self._passages(document)):
            chunks.append(
                Chunk(
                    id=f"{meta.id}::{position:03d}",
                    doc_id=meta.id,
                    title=meta.title,
                    section=section,
                    kind=meta.kind,
                    text=text,
                    fingerprint=f"{document.fingerprint}:{self.version}",
                    source=str(document.path),
                    platforms=meta.platforms,
                    steps=meta.steps,
                    languages=meta.language,
                    tags=meta.tags,
                )
            )
        return chunks

    def split_all(self, documents: Iterable[KnowledgeDocument]) -> list[Chunk]:
        return [chunk for document in documents for chunk in self.split(document)]

    def _passages(self, document: KnowledgeDocument) -> Iterator[tuple[str, str]]:
        for part in self._by_heading.split_text(document.body):
            headers = part.metadata
            section = " > ".join(headers[key] for key in ("h2", "h3") if key in headers)
            section = section or headers.get("h1") or document.meta.title
            for text in self._by_size.split_text(part.page_content):
                if text.strip():
                    yield section, text.strip()
