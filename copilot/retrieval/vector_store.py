"""Dense vector storage behind one small interface: Chroma (embedded or server) and an in-memory double."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import numpy as np

from copilot.errors import CopilotError
from copilot.retrieval.chunking import Chunk

ANY = "_any"
_BATCH = 1000


@dataclass(frozen=True)
class SearchFilter:
    """Restricts a search. A document without platforms (or steps) applies to every platform (or step)."""

    platform: str | None = None
    kind: str | None = None
    step: str | None = None
    language: str | None = None

    def matches(self, chunk: Chunk) -> bool:
        return (
            _open_match(self.platform, chunk.platforms)
            and _open_match(self.step, chunk.steps)
            and (self.kind is None or chunk.kind == self.kind)
            and (self.language is None or self.language in chunk.languages)
        )


def _open_match(wanted: str | None, values: tuple[str, ...]) -> bool:
    return wanted is None or not values or wanted in values


@dataclass(frozen=True)
class VectorHit:
    chunk_id: str
    score: float


class NearestVectors(Protocol):
    """What a search needs of a vector index: the nearest chunks."""

    def query(
        self, vector: np.ndarray, k: int, where: SearchFilter | None = None,
        ids: Collection[str] | None = None,
    ) -> list[VectorHit]: ...


class VectorStore(Protocol):
    """Keeps chunk vectors with their filterable metadata and finds the nearest ones."""

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None: ...

    def delete(self, chunk_ids: Sequence[str]) -> None: ...

    def query(
        self, vector: np.ndarray, k: int, where: SearchFilter | None = None,
        ids: Collection[str] | None = None,
    ) -> list[VectorHit]:
        """The `k` nearest chunks matching `where`, among `ids` only when given."""
        ...

    def count(self) -> int: ...

    def fingerprints(self) -> dict[str, str]:
        """Chunk id -> fingerprint of the document version it was embedded from."""
        ...

    def vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of `chunk_ids` (ids the store does not hold are left out)."""
        ...


def chunk_metadata(chunk: Chunk) -> dict[str, str | bool]:
    """Flat metadata (Chroma takes scalars): one boolean flag per platform, step and language."""
    metadata: dict[str, str | bool] = {
        "doc_id": chunk.doc_id, "fingerprint": chunk.fingerprint, "kind": chunk.kind,
    }
    for prefix, values in (("pf_", chunk.platforms), ("st_", chunk.steps), ("lang_", chunk.languages)):
        for value in values or (ANY,):
            metadata[prefix + value] = True
    return metadata


def chroma_where(where: SearchFilter | None) -> dict[str, Any] | None:
    """Translate a SearchFilter into a Chroma `where` clause."""
    if where is None:
        return None
    clauses: list[dict[str, Any]] = []
    for prefix, value in (("pf_", where.platform), ("st_", where.step)):
        if value is not None:
            clauses.append({"$or": [{prefix + value: True}, {prefix + ANY: True}]})
    if where.language is not None:
        clauses.append({"lang_" + where.language: True})
    if where.kind is not None:
        clauses.append({"kind": where.kind})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class ChromaVectorStore:
    """Chroma collection with cosine distance; embeddings are always passed in, never computed by Chroma."""

    def __init__(self, client: Any, collection: str) -> None:
        self._collection = client.get_or_create_collection(
            collection, embedding_function=None, metadata={"hnsw:space": "cosine"}
        )

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        for start in range(0, len(chunks), _BATCH):
            batch = chunks[start : start + _BATCH]
            self._collection.upsert(
                ids=[chunk.id for chunk in batch],
                embeddings=vectors[start : start + _BATCH].tolist(),
                metadatas=[chunk_metadata(chunk) for chunk in batch],
            )

    def delete(self, chunk_ids: Sequence[str]) -> None:
        for start in range(0, len(chunk_ids), _BATCH):
            self._collection.delete(ids=list(chunk_ids[start : start + _BATCH]))

    def query(
        self, vector: np.ndarray, k: int, where: SearchFilter | None = None,
        ids: Collection[str] | None = None,
    ) -> list[VectorHit]:
        """Chroma returns at most what it holds (nothing when empty): no count first, which costs a round trip
        to a Chroma server on every search."""
        if k <= 0 or (ids is not None and not ids):
            return []
        result = self._collection.query(
            query_embeddings=[vector.tolist()], n_results=k if ids is None else min(k, len(ids)),
            where=chroma_where(where), ids=None if ids is None else list(ids), include=["distances"],
        )
        ids, distances = result["ids"][0], result["distances"][0]
        return [VectorHit(chunk_id, 1.0 - float(distance))
                for chunk_id, distance in zip(ids, distances, strict=True)]

    def count(self) -> int:
        return int(self._collection.count())

    def vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(chunk_ids), _BATCH * 5):
            page = self._collection.get(ids=list(chunk_ids[start : start + _BATCH * 5]),
                                        include=["embeddings"])
            for chunk_id, vector in zip(page["ids"], page["embeddings"], strict=True):
                found[chunk_id] = np.asarray(vector, dtype=np.float32)
        return found

    def fingerprints(self) -> dict[str, str]:
        found: dict[str, str] = {}
        total = self.count()
        for offset in range(0, total, _BATCH * 5):
            page = self._collection.get(include=["metadatas"], limit=_BATCH * 5, offset=offset)
            for chunk_id, metadata in zip(page["ids"], page["metadatas"], strict=True):
                found[chunk_id] = str(metadata.get("fingerprint", ""))
        return found


def chroma_client(index_dir: Path, url: str = "") -> Any:
    """An embedded Chroma under `index_dir`, or an HTTP client for the server at `url`."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if not url:
        (index_dir / "chroma").mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=chroma_settings)
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise CopilotError(f"COPILOT_CHROMA_URL must look like http://host:port, got {url!r}")
    port = parsed.port or (443 if parsed.scheme == "https" else 8000)
    try:
        return chromadb.HttpClient(
            host=parsed.hostname, port=port, ssl=parsed.scheme == "https", settings=chroma_settings
        )
    except Exception as exc:
        raise CopilotError(f"cannot reach the Chroma server at {url}: {exc}") from exc


class InMemoryVectorStore:
    """Exact cosine search over a NumPy matrix: the VectorStore test double (`__test__ = False`)."""

    __test__ = False

    def __init__(self) -> None:
        self._chunks: dict[str, Chunk] = {}
        self._vectors: dict[str, np.ndarray] = {}

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        for chunk, vector in zip(chunks, vectors, strict=True):
            self._chunks[chunk.id] = chunk
            self._vectors[chunk.id] = np.asarray(vector, dtype=np.float32)

    def delete(self, chunk_ids: Sequence[str]) -> None:
        for chunk_id in chunk_ids:
            self._chunks.pop(chunk_id, None)
            self._vectors.pop(chunk_id, None)

    def query(
        self, vector: np.ndarray, k: int, where: SearchFilter | None = None,
        ids: Collection[str] | None = None,
    ) -> list[VectorHit]:
        found = [cid for cid, chunk in self._chunks.items()
                 if (where is None or where.matches(chunk)) and (ids is None or cid in ids)]
        if not found or k <= 0:
            return []
        scores = np.stack([self._vectors[cid] for cid in found]) @ vector
        order = np.argsort(-scores)[:k]
        return [VectorHit(found[i], float(scores[i])) for i in order]

    def count(self) -> int:
        return len(self._chunks)

    def fingerprints(self) -> dict[str, str]:
        return {cid: chunk.fingerprint for cid, chunk in self._chunks.items()}

    def vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        return {cid: self._vectors[cid] for cid in chunk_ids if cid in self._vectors}
