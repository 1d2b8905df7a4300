"""A learned first reading of a customer's message: intent, urgency, issue type and sentiment.

It learns from the labelled examples of `knowledge/triage-examples/*.yaml` (and the intents' exemplars in
`triage.yaml`): word and character n-grams of the folded text (so unaccented Vietnamese, shorthand and typos
land near their accented forms) plus sentence embeddings, one logistic regression per field; the issue type is
then read together with the intent and the sentiment (how the examples pair them). Its probabilities are the
triage confidence; `copilot triage-report` measures their calibration.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from copilot.errors import KnowledgeError
from copilot.retrieval.embedders import Embedder
from copilot.text import fold
from copilot.yamlio import load_yaml_mapping, validate_model

Urgency = Literal["urgent", "high", "medium", "low"]
IssueType = Literal["complaint", "product_question", "technical_support", "idea_suggestion", "order_request"]
Sentiment = Literal["negative", "neutral", "positive"]
FIELDS = ("intent", "urgency", "issue_type", "sentiment")
ISSUE_PAIRED_WITH = ("intent", "sentiment")
EXAMPLES_DIR = "triage-examples"
log = logging.getLogger(__name__)


class TriageExample(BaseModel):
    """One labelled customer message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1, max_length=4000)
    intent: str
    issue_type: IssueType
    urgency: Urgency
    sentiment: Sentiment


class ExampleFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    examples: tuple[TriageExample, ...] = Field(min_length=1)


def load_examples(folder: Path, intents: Collection[str]) -> list[TriageExample]:
    """Every example file of `folder` (none is fine), each example's intent checked against `intents`."""
    examples: list[TriageExample] = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        loaded = validate_model(ExampleFile, load_yaml_mapping(path), path)
        for number, example in enumerate(loaded.examples):
            if example.intent not in intents:
                raise KnowledgeError(path, f"unknown intent '{example.intent}'; the intents of triage.yaml are: "
                                     f"{', '.join(sorted(intents))}", field=f"examples.{number}.intent")
        examples.extend(loaded.examples)
    return examples


@dataclass(frozen=True)
class Reading:
    """The model's answer for one field: the most likely label, its probability, and every label's."""

    label: str
    probability: float
    probabilities: dict[str, float]


def _words(text: str) -> list[str]:
    return fold(text).split()


def _word_pairs(text: str) -> list[str]:
    words = _words(text)
    return [f"{a} {b}" for a, b in pairwise(words)]


class TriageModel:
    """One logistic regression per field over n-grams of the folded text and sentence embeddings."""

    DENSE_WEIGHT = 0.6
    STRENGTH = 30.0  # inverse regularisation (scikit-learn's C)
    CLASS_WEIGHT: str | None = None  # "balanced" over-reads the rarer levels

    def __init__(self, labelled: Sequence[tuple[str, dict[str, str]]], embedder: Embedder | None = None,
                 cache_dir: Path | None = None) -> None:
        """`labelled`: (text, {field: label}) pairs; a field missing from a pair is not learned from it.
        `cache_dir` keeps the examples' embeddings between starts (keyed by the model and the texts)."""
        texts = [text for text, _ in labelled]
        self.embedder = embedder
        self.cache_dir = cache_dir
        self.words = TfidfVectorizer(analyzer=_words, ngram_range=(1, 1), sublinear_tf=True)
        self.pairs = TfidfVectorizer(analyzer=_word_pairs, sublinear_tf=True)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2,
                                     preprocessor=fold)
        features = sparse.hstack([
            self.words.fit_transform(texts), self.pairs.fit_transform(texts), self.chars.fit_transform(texts),
            self._dense(texts),
        ]).tocsr()
        self.models: dict[str, LogisticRegression] = {}
        for name in FIELDS:
            rows = [i for i, (_, labels) in enumerate(labelled) if name in labels]
            targets = [labelled[i][1][name] for i in rows]
            if len(set(targets)) < 2:
                continue
            model = LogisticRegression(C=self.STRENGTH, max_iter=4000, class_weight=self.CLASS_WEIGHT)
            with threadpool_limits(1):  # a few hundred rows: more threads only contend with the server's own
                self.models[name] = model.fit(features[rows], targets)
        self.issue_fit = _issue_fit(labelled, self.models)

    def _dense(self, texts: Sequence[str]) -> sparse.csr_matrix:
        if self.embedder is None:
            return sparse.csr_matrix((len(texts), 0))
        return sparse.csr_matrix(self._embeddings(self.embedder, texts) * self.DENSE_WEIGHT)

    def _embeddings(self, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
        if self.cache_dir is None:
            return np.asarray(embedder.embed(list(texts)), dtype=np.float64)
        digest = hashlib.sha256("\n".join([embedder.name, *texts]).encode("utf-8")).hexdigest()[:24]
        path = self.cache_dir / f"example-vectors-{digest}.npy"
        if path.exists():
            try:
                cached = np.load(path)
                if cached.shape[0] == len(texts):
                    return np.asarray(cached, dtype=np.float64)
            except (OSError, ValueError):
                log.warning("unreadable cache %s: embedding the triage examples again", path)
        vectors = np.asarray(embedder.embed(list(texts)), dtype=np.float64)
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            for old in self.cache_dir.glob("example-vectors-*.npy"):
                old.unlink(missing_ok=True)
            partial = path.with_suffix(".partial.npy")
            np.save(partial, vectors)
            partial.replace(path)
        except OSError as exc:
            log.warning("cannot cache the triage example vectors in %s: %s", self.cache_dir, exc)
        return vectors

    def _features(self, text: str) -> sparse.csr_matrix:
        dense = (sparse.csr_matrix(np.asarray(self.embedder.embed_query(text), dtype=np.float64)[None, :]
                                   * self.DENSE_WEIGHT) if self.embedder is not None else sparse.csr_matrix((1, 0)))
        return sparse.hstack([self.words.transform([text]), self.pairs.transform([text]),
                              self.chars.transform([text]), dense]).tocsr()

    def read(self, text: str) -> dict[str, Reading]:
        """The reading of every field the model learned."""
        features = self._features(text)
        readings = {}
        for name, model in self.models.items():
            probabilities = model.predict_proba(features)[0]
            best = int(np.argmax(probabilities))
            labels = [str(label) for label in model.classes_]
            every = {label: round(float(p), 4) for label, p in zip(labels, probabilities, strict=True)}
            readings[name] = Reading(labels[best], float(probabilities[best]), every)
        if "issue_type" in readings:
            readings["issue_type"] = self._issue_in_context(readings)
        return readings

    def _issue_in_context(self, readings: dict[str, Reading]) -> Reading:
        """The issue type read together with the intent and the tone: each issue type's probability times, per
        paired field, how often the examples give it to the labels that field may have (add-one smoothed),
        normalised. Words that lean to "order request" in a message read as a product question, or to "technical
        support" in a message read as warm thanks, decide only when they are much surer."""
        issue = readings["issue_type"]
        joint = dict(issue.probabilities)
        for field, fit in self.issue_fit.items():
            if field in readings:
                for label in joint:
                    joint[label] *= sum(probability * fit[name][label]
                                        for name, probability in readings[field].probabilities.items())
        total = sum(joint.values()) or 1.0
        every = {label: round(value / total, 4) for label, value in joint.items()}
        best = max(every, key=lambda label: every[label])
        return Reading(best, every[best], every)


def _issue_fit(labelled: Sequence[tuple[str, dict[str, str]]],
               models: dict[str, LogisticRegression]) -> dict[str, dict[str, dict[str, float]]]:
    """For each field paired with the issue type and each of its labels: the share of that label's examples that
    carry each issue type, add-one smoothed (a label no example pairs with an issue type gives every type alike).
    Empty when the issue type or the paired field was not learned."""
    if "issue_type" not in models:
        return {}
    issues = [str(label) for label in models["issue_type"].classes_]
    fit: dict[str, dict[str, dict[str, float]]] = {}
    for field in ISSUE_PAIRED_WITH:
        if field not in models:
            continue
        seen: dict[str, Counter[str]] = defaultdict(Counter)
        for _, labels in labelled:
            if field in labels and "issue_type" in labels:
                seen[labels[field]][labels["issue_type"]] += 1
        fit[field] = {str(name): {issue: (seen[str(name)][issue] + 1) / (seen[str(name)].total() + len(issues))
                                  for issue in issues} for name in models[field].classes_}
    return fit
