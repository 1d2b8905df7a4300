"""The knowledge index: builds and incrementally refreshes the dense and lexical indexes, and searches them.

An ingest never changes what searches see until it commits. Vectors are stored under ids that name their
document version, so a new version sits beside the old one; the lexical index is written to a new folder; then
one atomic rename of `manifest.json` switches searches to the new index, and only after that are the vectors
the manifest no longer names deleted. A failed or killed ingest leaves the old manifest serving; the next one
reuses the vectors it had already stored and deletes the rest.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from copilot.errors import IndexNotReadyError
from copilot.knowledge import KnowledgeBase
from copilot.retrieval.chunking import Chunk, MarkdownChunker
from copilot.retrieval.embedders import Embedder, SentenceTransformerEmbedder
from copilot.retrieval.files import fsync_tree, ingest_lock, write_durably
from copilot.retrieval.hybrid import HybridRetriever, Mode, SearchHit
from copilot.retrieval.lexical import BM25Index, best_positions
from copilot.retrieval.vector_store import (
    ChromaVectorStore,
    SearchFilter,
    VectorHit,
    VectorStore,
    chroma_client,
)
from copilot.settings import Settings

ProgressCallback = Callable[[int, int], None]
EMBED_BATCH = 512
EXACT_LIMIT = 20_000  # chunks searched exactly in memory (30 MB of vectors); above, the store's own index
MANIFEST = "manifest.json"


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


def _versioned(chunk: Chunk) -> Chunk:
    """The chunk under an id that names its document version, so new vectors never overwrite served ones."""
    return replace(chunk, id=f"{chunk.id}@{hashlib.sha256(chunk.fingerprint.encode()).hexdigest()[:12]}")



class SearchGate:
    """Lets searches run side by side, and lets an ingest switch indexes between searches, never during one,
    so no search reads the old index's vectors after the ingest has deleted them."""

    def __init__(self) -> None:
        self._state = threading.Condition()
        self._searching = 0
        self._switching = False

    @contextmanager
    def searching(self) -> Iterator[None]:
        with self._state:
            self._state.wait_for(lambda: not self._switching)
            self._searching += 1
        try:
            yield
        finally:
            with self._state:
                self._searching -= 1
                self._state.notify_all()

    @contextmanager
    def switching(self) -> Iterator[None]:
        with self._state:
            self._switching = True
            self._state.wait_for(lambda: self._searching == 0)
        try:
            yield
        finally:
            with self._state:
                self._switching = False
                self._state.notify_all()


class LiveVectors:
    """The vector store as one committed index sees it: vectors of other versions (an ingest in progress, or
    left by a killed one) are never returned, so a search finds what that index holds and nothing else."""

    def __init__(self, store: VectorStore, live: set[str]) -> None:
        self._store, self._live = store, live

    def query(
        self, vector: np.ndarray, k: int, where: SearchFilter | None = None,
        ids: Collection[str] | None = None,
    ) -> list[VectorHit]:
        if ids is None:  # one plain query, unless it meets vectors of another version
            hits = self._store.query(vector, k, where)
            if all(hit.chunk_id in self._live for hit in hits):
                return hits
        return self._store.query(vector, k, where, ids=self._live if ids is None else self._live & set(ids))

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        self._store.upsert(chunks, vectors)

    def delete(self, chunk_ids: Sequence[str]) -> None:
        self._store.delete(chunk_ids)

    def count(self) -> int:
        return len(self._live)

    def fingerprints(self) -> dict[str, str]:
        return {cid: fp for cid, fp in self._store.fingerprints().items() if cid in self._live}


class ExactVectors:
    """The vectors of one committed index held in memory and searched exactly: a matrix product over 10,000
    chunks takes well under a millisecond, against a few for Chroma's approximate index and its Python client
    (which also holds the interpreter lock that concurrent requests need). Read-only: a new ingest builds a
    new one. Used up to `EXACT_LIMIT` chunks; larger knowledge bases search the store."""

    def __init__(self, chunks: Sequence[Chunk], vectors: dict[str, np.ndarray]) -> None:
        self._chunks = list(chunks)
        self._matrix = np.stack([vectors[chunk.id] for chunk in self._chunks]) if self._chunks else \
            np.zeros((0, 0), dtype=np.float32)
        self._matrix.setflags(write=False)
        self._masks: dict[SearchFilter, np.ndarray] = {}

    @classmethod
    def of(cls, store: VectorStore, chunks: Sequence[Chunk]) -> ExactVectors | None:
        """A snapshot of `chunks`' vectors, or None when the store lacks some (another replica's ingest
        removed them): the store is then searched directly."""
        vectors = store.vectors([chunk.id for chunk in chunks])
        return cls(chunks, vectors) if len(vectors) == len(chunks) else None

    def query(
        self, vector: np.ndarray, k: int, where: SearchFilter | None = None,
        ids: Collection[str] | None = None,
    ) -> list[VectorHit]:
        if k <= 0 or not self._chunks:
            return []
        scores = self._matrix @ np.asarray(vector, dtype=np.float32)
        if where is None and ids is None:
            return [VectorHit(self._chunks[i].id, float(scores[i])) for i in best_positions(scores, k)]
        kept = np.ones(len(self._chunks), dtype=bool) if where is None else self._mask(where)
        if ids is not None:
            wanted = (chunk.id in ids for chunk in self._chunks)
            kept = kept & np.fromiter(wanted, dtype=bool, count=len(kept))
        positions = np.flatnonzero(kept)
        if not len(positions):
            return []
        return [VectorHit(self._chunks[positions[i]].id, float(scores[positions[i]]))
                for i in best_positions(scores[positions], min(k, len(positions)))]

    def _mask(self, where: SearchFilter) -> np.ndarray:
        """Which chunks `where` keeps, computed once per filter (a few platforms x steps x kinds)."""
        mask = self._masks.get(where)
        if mask is None:
            matches = (where.matches(chunk) for chunk in self._chunks)
            mask = np.fromiter(matches, dtype=bool, count=len(self._chunks))
            self._masks[where] = mask
        return mask

    def count(self) -> int:
        return len(self._chunks)


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
        self._serving = ""
        self._gate = SearchGate()
        self._loading = threading.Lock()

    @property
    def store(self) -> VectorStore:
        if self._store is None:
            client = chroma_client(self.settings.index_dir, self.settings.chroma_url)
            self._store = ChromaVectorStore(client, collection_name(self.embedder.name))
        return self._store

    @property
    def lexical_dir(self) -> Path:
        """The lexical index the committed manifest names."""
        manifest = self._manifest()
        return self.settings.index_dir / str(manifest["lexical"] if manifest else "lexical")

    def ingest(self, knowledge: KnowledgeBase, progress: ProgressCallback | None = None) -> IngestReport:
        """Embed what the store lacks, commit the new index in one rename, switch to it, then delete the
        vectors it no longer names. Ingests of one index folder wait for each other (threads and
        processes alike)."""
        with ingest_lock(self.settings.index_dir):
            started = time.perf_counter()
            chunks = [_versioned(chunk) for chunk in self.chunker.split_all(knowledge.documents)]
            previous = self._manifest(damaged_is_missing=True) or {}
            stored = self.store.fingerprints()
            to_embed = [chunk for chunk in chunks if stored.get(chunk.id) != chunk.fingerprint]
            self._embed_and_store(to_embed, progress)
            manifest = self._describe(knowledge, chunks)
            unchanged = {**previous, "lexical": ""} == {**manifest, "lexical": ""}
            if unchanged and (self.settings.index_dir / previous["lexical"]).is_dir():
                manifest = previous
            else:
                self._commit(BM25Index(chunks, knowledge.search_words), manifest)
            with self._gate.switching(), self._loading:
                if self._serving != manifest["lexical"]:
                    self._retriever = None
            live = {chunk.id for chunk in chunks}
            self.store.delete([cid for cid in stored if cid not in live])
            self._drop_uncommitted(manifest["lexical"])
            report = self._report(previous.get("documents", {}), manifest["documents"], len(chunks), to_embed)
            report.seconds = round(time.perf_counter() - started, 3)
            return report

    def _embed_and_store(self, chunks: Sequence[Chunk], progress: ProgressCallback | None) -> None:
        # Shortest first: each batch holds texts of similar length, so little padding and cores that finish
        # together (batches of mixed lengths made an ingest 1.3 times slower than one encode of the
        # same texts).
        chunks = sorted(chunks, key=lambda chunk: len(chunk.embedding_text))
        for start in range(0, len(chunks), EMBED_BATCH):
            batch = chunks[start : start + EMBED_BATCH]
            vectors = self.embedder.embed([chunk.embedding_text for chunk in batch])
            self.store.upsert(batch, np.asarray(vectors))
            if progress:
                progress(start + len(batch), len(chunks))

    def _describe(self, knowledge: KnowledgeBase, chunks: Sequence[Chunk]) -> dict[str, Any]:
        digest = hashlib.sha256("\n".join(f"{c.id} {c.fingerprint}" for c in chunks).encode()).hexdigest()
        # the lexical index is built again when the search words change, as when the chunks do
        words = hashlib.sha256(knowledge.search_words.model_dump_json().encode()).hexdigest()[:16]
        return {"embedder": self.embedder.name, "chunker": self.chunker.version, "chunks": len(chunks),
                "digest": digest, "search_words": words,
                "lexical": f"lexical-{digest[:12]}-{uuid.uuid4().hex[:8]}",
                "documents": {document.id: document.fingerprint for document in knowledge.documents}}

    def _manifest(self, damaged_is_missing: bool = False) -> dict[str, Any] | None:
        """The committed manifest; None before the first ingest (and, for an ingest about to replace it, when
        damaged)."""
        path = self.settings.index_dir / MANIFEST
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(manifest, dict) or not isinstance(manifest.get("lexical"), str):
                raise ValueError("no lexical index named")
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            if damaged_is_missing:
                return None
            raise IndexNotReadyError(f"{path}: unreadable ({exc}): run `copilot ingest` again") from exc
        return manifest

    def _commit(self, lexical: BM25Index, manifest: dict[str, Any]) -> None:
        """Write the lexical index to its own folder, then switch to it: the manifest renamed over the old."""
        folder = self.settings.index_dir / manifest["lexical"]
        staging = folder.with_name(f".staging-{folder.name}")
        lexical.save(staging)
        described = {k: v for k, v in manifest.items() if k != "documents"}
        (staging / "index.json").write_text(json.dumps(described, indent=2), encoding="utf-8")
        fsync_tree(staging)
        staging.rename(folder)
        write_durably(self.settings.index_dir / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))

    def _drop_uncommitted(self, current: str) -> None:
        """Remove lexical folders the manifest does not name (older versions, failed or killed ingests)."""
        for path in self.settings.index_dir.iterdir():
            is_lexical = path.name.startswith(("lexical", ".staging-lexical"))
            if path.name != current and is_lexical and path.is_dir():
                shutil.rmtree(path, ignore_errors=True)

    @staticmethod
    def _report(
        previous: dict[str, str], current: dict[str, str], chunks: int, embedded: list[Chunk]
    ) -> IngestReport:
        """What changed relative to the index that was serving before this ingest."""
        added = sorted(doc for doc in current if doc not in previous)
        updated = sorted(doc for doc in current if doc in previous and previous[doc] != current[doc])
        return IngestReport(
            documents=len(current),
            chunks=chunks,
            embedded_chunks=len(embedded),
            added=added,
            updated=updated,
            removed=sorted(doc for doc in previous if doc not in current),
            unchanged=len(current) - len(added) - len(updated),
        )

    def retriever(self) -> HybridRetriever:
        """The searcher over the last committed ingest; loaded once, reused until the next ingest commits."""
        with self._loading:
            if self._retriever is None:
                self._retriever = self._load_retriever()
            return self._retriever

    def _load_retriever(self, attempts: int = 3) -> HybridRetriever:
        manifest = self._manifest()
        if manifest is None:
            raise IndexNotReadyError(f"no search index in {self.settings.index_dir}: "
                                     "run `copilot ingest` first")
        if manifest.get("embedder") != self.embedder.name:
            raise IndexNotReadyError(
                f"the index was built with embedder '{manifest.get('embedder')}' but '{self.embedder.name}' "
                "is configured: run `copilot ingest` again"
            )
        folder = self.settings.index_dir / manifest["lexical"]
        try:
            lexical = BM25Index.load(folder)
        except FileNotFoundError as exc:
            # another process committed a newer index and removed this one: reread
            if attempts <= 1:
                raise IndexNotReadyError(f"{folder} is missing: run `copilot ingest` again") from exc
            return self._load_retriever(attempts - 1)
        self._serving = folder.name
        exact = ExactVectors.of(self.store, lexical.chunks) if len(lexical.chunks) <= EXACT_LIMIT else None
        vectors = exact or LiveVectors(self.store, {c.id for c in lexical.chunks})
        return HybridRetriever(self.embedder, vectors, lexical)

    def search(
        self,
        query: str,
        k: int = 5,
        where: SearchFilter | None = None,
        mode: Mode = "hybrid",
        per_document: int | None = None,
    ) -> list[SearchHit]:
        with self._gate.searching():
            return self.retriever().search(query, k=k, where=where, mode=mode, per_document=per_document)
