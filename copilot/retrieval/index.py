"""The knowledge index: builds and incrementally refreshes the dense and lexical indexes, and searches them."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from copilot.errors import IndexNotReadyError
from copilot.knowledge import KnowledgeBase
from copilot.retrieval.chunking import Chunk, MarkdownChunker
from copilot.retrieval.embedders import Embedder, SentenceTransformerEmbedder
from copilot.retrieval.hybrid import HybridRetriever, Mode, SearchHit
from copilot.retrieval.lexical import BM25Index
from copilot.retrieval.vector_store import ChromaVectorStore, SearchFilter, VectorStore, chroma_client
from copilot.settings import Settings

ProgressCallback = Callable[[int, int], None]
EMBED_BATCH = 128


@dataclass
class IngestReport:
    """What one ingest did, for the CLI and the reindex endpoint."""

    documents: int = 0
    chunks: int = 0
    embedded_chunks: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def collection_name(embedder_name: str) -> str:
    """A Chroma-safe collection name (3-512 chars of [a-zA-Z0-9._-]) per embedding model."""
    slug = re.sub(r"[^a-zA-Z0-9._-]+", "-", embedder_name).strip("-._")[-48:] or "model"
    return f"knowledge_{slug}"


def _doc_of(chunk_id: str) -> str:
    return chunk_id.split("::", 1)[0]


class KnowledgeIndex:
    """Dense vectors in a VectorStore plus a BM25 index on disk, kept in step with the knowledge folder."""

    def __init__(
        self, settings: Settings, embedder: Embedder | None = None, store: VectorStore | None = None
    ) -> None:
        self.settings = settings
        self.embedder = embedder or SentenceTransformerEmbedder(settings.embedding_model)
        self._store = store
        self.chunker = MarkdownChunker()
        self._retriever: HybridRetriever | None = None

    @property
    def store(self) -> VectorStore:
        if self._store is None:
            client = chroma_client(self.settings.index_dir, self.settings.chroma_url)
            self._store = ChromaVectorStore(client, collection_name(self.embedder.name))
        return self._store

    @property
    def lexical_dir(self) -> Path:
        return self.settings.index_dir / "lexical"

    def ingest(self, knowledge: KnowledgeBase, progress: ProgressCallback | None = None) -> IngestReport:
        """Embed only new or changed documents, drop removed ones, rebuild the lexical index."""
        started = time.perf_counter()
        chunks = self.chunker.split_all(knowledge.documents)
        stored = self.store.fingerprints()
        current = {chunk.id: chunk for chunk in chunks}
        stale = [cid for cid in stored if cid not in current]
        to_embed = [chunk for chunk in chunks if stored.get(chunk.id) != chunk.fingerprint]
        self.store.delete(stale)
        self._embed_and_store(to_embed, progress)
        if stale or to_embed or not self._lexical_matches(chunks):
            self._save_lexical(BM25Index(chunks))
        report = self._report(knowledge, chunks, stored, to_embed)
        report.seconds = round(time.perf_counter() - started, 3)
        if stale or to_embed:
            self._retriever = None
        return report

    def _embed_and_store(self, chunks: Sequence[Chunk], progress: ProgressCallback | None) -> None:
        for start in range(0, len(chunks), EMBED_BATCH):
            batch = chunks[start : start + EMBED_BATCH]
            vectors = self.embedder.embed([chunk.embedding_text for chunk in batch])
            self.store.upsert(batch, np.asarray(vectors))
            if progress:
                progress(start + len(batch), len(chunks))

    def _lexical_info(self, chunks: Sequence[Chunk]) -> dict[str, object]:
        digest = hashlib.sha256("\n".join(f"{c.id} {c.fingerprint}" for c in chunks).encode()).hexdigest()
        return {"embedder": self.embedder.name, "chunker": self.chunker.version, "chunks": len(chunks),
                "digest": digest}

    def _lexical_matches(self, chunks: Sequence[Chunk]) -> bool:
        """The lexical index on disk was built from these very chunks (nothing changed since): keep it."""
        info_path = self.lexical_dir / "index.json"
        if not info_path.exists():
            return False
        return bool(json.loads(info_path.read_text(encoding="utf-8")) == self._lexical_info(chunks))

    def _save_lexical(self, lexical: BM25Index) -> None:
        """Write the new lexical index beside the old one, then swap, so readers never see half of it."""
        staging = self.settings.index_dir / "lexical.staging"
        shutil.rmtree(staging, ignore_errors=True)
        lexical.save(staging)
        info = self._lexical_info(lexical.chunks)
        (staging / "index.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
        previous = self.settings.index_dir / "lexical.previous"
        shutil.rmtree(previous, ignore_errors=True)
        if self.lexical_dir.exists():
            self.lexical_dir.rename(previous)
        staging.rename(self.lexical_dir)
        shutil.rmtree(previous, ignore_errors=True)

    def _report(
        self, knowledge: KnowledgeBase, chunks: list[Chunk], stored: dict[str, str], embedded: list[Chunk]
    ) -> IngestReport:
        stored_docs = {_doc_of(cid) for cid in stored}
        changed_docs = sorted({chunk.doc_id for chunk in embedded})
        current_docs = {document.id for document in knowledge.documents}
        return IngestReport(
            documents=len(knowledge.documents),
            chunks=len(chunks),
            embedded_chunks=len(embedded),
            added=[doc for doc in changed_docs if doc not in stored_docs],
            updated=[doc for doc in changed_docs if doc in stored_docs],
            removed=sorted(stored_docs - current_docs),
            unchanged=len(current_docs) - len(changed_docs),
        )

    def retriever(self) -> HybridRetriever:
        """The searcher over the last ingest; loaded once and reused."""
        if self._retriever is None:
            info_path = self.lexical_dir / "index.json"
            if not info_path.exists():
                raise IndexNotReadyError(
                    f"no search index in {self.settings.index_dir}: run `copilot ingest` first"
                )
            info = json.loads(info_path.read_text(encoding="utf-8"))
            if info.get("embedder") != self.embedder.name:
                raise IndexNotReadyError(
                    f"the index was built with embedder '{info.get('embedder')}' but '{self.embedder.name}' "
                    "is configured: run `copilot ingest` again"
                )
            self._retriever = HybridRetriever(self.embedder, self.store, BM25Index.load(self.lexical_dir))
        return self._retriever

    def search(
        self,
        query: str,
        k: int = 5,
        where: SearchFilter | None = None,
        mode: Mode = "hybrid",
        per_document: int | None = None,
    ) -> list[SearchHit]:
        return self.retriever().search(query, k=k, where=where, mode=mode, per_document=per_document)
