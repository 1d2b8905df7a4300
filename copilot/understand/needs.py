"""A few-shot reading of the customer's need from the sentence embeddings of a team's examples.

With ten examples per need, n-grams see too few words; the sentence embeddings generalise. Two views of them
are kept: each need's centroid (cosine similarity, softmax at `TEMPERATURE`) and a logistic regression over
the embeddings alone. Their average is blended with the n-gram model by the triage model. The centroid
similarity of the closest need is also the scope score: a message far from every need is none of them. Its
threshold comes from the examples themselves: each example is scored against its need's centroid without it
(leave-one-out), and the threshold is the level that would reject a given share of those held-out examples.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

TEMPERATURE = 20.0  # softmax sharpness over centroid cosines (CLINC150 validation split, 10 per intent)
STRENGTH = 30.0  # scikit-learn's C for the regression over embeddings


class NeedModel:
    """Centroids and a logistic regression over L2-normalised example vectors, one row per example."""

    def __init__(self, vectors: np.ndarray, labels: Sequence[str]) -> None:
        self.classes = sorted(set(labels))
        if len(self.classes) < 2:
            raise ValueError("a need model needs examples of at least two needs")
        index = {name: i for i, name in enumerate(self.classes)}
        members = np.array([index[label] for label in labels])
        sums = np.zeros((len(self.classes), vectors.shape[1]))
        np.add.at(sums, members, vectors)
        self.centroids = _normalised(sums)
        self.held_out = _held_out_similarities(vectors, members, sums)
        with threadpool_limits(1):
            self.regression = LogisticRegression(C=STRENGTH, max_iter=2000).fit(vectors, members)

    def similarities(self, vectors: np.ndarray) -> np.ndarray:
        """Cosine similarity of each row to each need's centroid (rows: messages, columns: `classes`)."""
        return np.asarray(vectors @ self.centroids.T)

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """Each need's probability per message: the centroid softmax and the regression, averaged."""
        scaled = TEMPERATURE * self.similarities(vectors)
        scaled -= scaled.max(axis=1, keepdims=True)
        softmax = np.exp(scaled) / np.exp(scaled).sum(axis=1, keepdims=True)
        regression = np.zeros_like(softmax)
        regression[:, self.regression.classes_] = self.regression.predict_proba(vectors)
        return np.asarray((softmax + regression) / 2)

    def threshold(self, rejects: float) -> float:
        """The scope threshold that would call `rejects` of the held-out examples none of the needs."""
        if self.held_out.size == 0:
            return -1.0
        return float(np.quantile(self.held_out, rejects))


def _normalised(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.asarray(rows / np.where(norms == 0, 1.0, norms))


def _held_out_similarities(vectors: np.ndarray, members: np.ndarray, sums: np.ndarray) -> np.ndarray:
    """Each example's cosine to its need's centroid computed without it (needs with one example are
    skipped)."""
    counts = np.bincount(members, minlength=sums.shape[0])
    keep = counts[members] > 1
    without = _normalised(sums[members[keep]] - vectors[keep])
    return np.asarray(np.einsum("ij,ij->i", vectors[keep], without))
