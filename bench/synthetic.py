"""A help centre of any size, grown from the shipped knowledge base, and conversations of any length, grown
from the shipped draft cases, for measuring how cost grows. The bench writes no business text of its own:
every sentence comes from `knowledge/` or `evals/datasets/`.

Chunks: the shipped chunks first, then documents of `CHUNKS_PER_DOCUMENT` chunks, each chunk built on a
shipped one (same title, section, platforms, steps, languages, kind, tags) from some of its sentences plus
sentences of other chunks in the same language; a quarter of them folded (Vietnamese typed without accents, as
agents do). Vectors: the shipped chunk's real embedding plus Gaussian noise, unit-normalised (cosine about
0.85 to it), so the dense index has the clustered shape of real embeddings without encoding 100,000 texts; the
embedder's encode speed is measured separately.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

import numpy as np

from copilot.retrieval.chunking import Chunk
from copilot.text import fold, sentences
from copilot.understand.language import detect_language

CHUNKS_PER_DOCUMENT = 5
NOISE = 0.03
FOLDED_SHARE = 0.25


def _sentence_pools(base: Sequence[Chunk]) -> tuple[list[list[str]], dict[str, list[str]]]:
    per_chunk = [[s.text for s in sentences(chunk.text)] or [chunk.text] for chunk in base]
    pools: dict[str, list[str]] = {"en": [], "vi": []}
    for parts in per_chunk:
        for part in parts:
            pools[detect_language([part])].append(part)
    return per_chunk, pools


@dataclass(frozen=True)
class SyntheticKnowledge:
    """Chunks, and for each the row of the base chunk it grew from (its own row for the base chunks)."""

    chunks: list[Chunk]
    origins: list[int]
    real: int

    @classmethod
    def grow(cls, base: Sequence[Chunk], size: int, seed: int = 0) -> SyntheticKnowledge:
        """`size` chunks: the base chunks, then generated ones (see the module docstring)."""
        if not base:
            raise ValueError("a synthetic knowledge base grows from at least one real chunk")
        real = min(size, len(base))
        chunks, origins = list(base[:real]), list(range(real))
        rng = random.Random(seed)
        per_chunk, pools = _sentence_pools(base)
        for number in range(size - real):
            origin = rng.randrange(len(base))
            model, own = base[origin], per_chunk[origin]
            kept = sorted(rng.sample(range(len(own)), k=rng.randint(1, len(own))))
            pool = pools[detect_language([model.text])] or own
            text = " ".join([own[i] for i in kept] + rng.choices(pool, k=rng.randint(1, 3)))
            if rng.random() < FOLDED_SHARE:
                text = fold(text)
            document = f"synthetic-{number // CHUNKS_PER_DOCUMENT:06d}"
            chunks.append(Chunk(
                id=f"{document}::{number % CHUNKS_PER_DOCUMENT:03d}", doc_id=document, title=model.title,
                section=model.section, kind=model.kind, text=text, fingerprint="synthetic",
                source=f"{document}.md", platforms=model.platforms, steps=model.steps,
                languages=model.languages, tags=model.tags,
            ))
            origins.append(origin)
        return cls(chunks, origins, real)

    def vectors(self, base_vectors: np.ndarray, seed: int = 0) -> np.ndarray:
        """The real vector for base chunks; for generated ones, their base chunk's plus noise, normalised."""
        rng = np.random.default_rng(seed)
        vectors = base_vectors[self.origins].astype(np.float32)
        generated = len(self.chunks) - self.real
        noise = rng.normal(0.0, NOISE, (generated, vectors.shape[1])).astype(np.float32)
        vectors[self.real :] += noise
        vectors[self.real :] /= np.linalg.norm(vectors[self.real :], axis=1, keepdims=True)
        return vectors


def long_conversation(cases: Sequence[dict[str, Any]], length: int, seed: int = 0) -> dict[str, Any]:
    """A draft request of `length` messages, ending with the customer: one case's platform, customer and
    agent, with messages drawn from every case of that platform, agent and customer turns alternating."""
    if length < 1:
        raise ValueError("a conversation has at least one message")
    rng = random.Random(seed)
    request = deepcopy(cases[rng.randrange(len(cases))])
    same = [case for case in cases if case.get("platform") == request.get("platform")] or list(cases)
    by_role = {role: [m["text"] for case in same for m in case["messages"] if m["role"] == role]
               for role in ("customer", "agent")}
    roles = ["customer" if (length - position) % 2 == 1 else "agent" for position in range(length)]
    if not by_role["agent"]:
        roles = ["customer"] * length
    request["messages"] = [{"role": role, "text": rng.choice(by_role[role])} for role in roles]
    request["step"] = None
    return request
