"""Files kept in the index folder between starts (fitted models, example vectors): written whole or not at
all."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from copilot.retrieval.embedders import Embedder

log = logging.getLogger(__name__)


def replace_cached(folder: Path, pattern: str, path: Path, write: Callable[[Path], None]) -> None:
    """Write `path` through a partial file and drop the older files of `pattern`; a folder that cannot be
    written costs the cache, not the answer."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob(pattern):
            old.unlink(missing_ok=True)
        partial = path.with_name(path.name + ".partial")
        write(partial)
        partial.replace(path)
    except OSError as exc:
        log.warning("cannot cache %s in %s: %s", path.name, folder, exc)


def cached_embeddings(embedder: Embedder, texts: Sequence[str], cache_dir: Path | None,
                      kind: str = "example-vectors") -> np.ndarray:
    """The texts' embeddings, kept in `cache_dir` (one file per `kind`, keyed by the embedder and the
    texts)."""
    if cache_dir is None:
        return np.asarray(embedder.embed(list(texts)), dtype=np.float64)
    digest = hashlib.sha256("\n".join([embedder.name, *texts]).encode("utf-8")).hexdigest()[:24]
    path = cache_dir / f"{kind}-{digest}.npy"
    if path.exists():
        try:
            cached = np.load(path)
            if cached.shape[0] == len(texts):
                return np.asarray(cached, dtype=np.float64)
        except (OSError, ValueError):
            log.warning("unreadable cache %s: embedding the texts again", path)
    vectors = np.asarray(embedder.embed(list(texts)), dtype=np.float64)

    def write(partial: Path) -> None:
        with partial.open("wb") as handle:
            np.save(handle, vectors)

    replace_cached(cache_dir, f"{kind}-*.npy", path, write)
    return vectors
