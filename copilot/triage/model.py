"""A learned first reading of a customer's message: intent, urgency, issue type and sentiment.

It learns from the labelled examples of `knowledge/triage-examples/*.yaml` (and the intents' exemplars in
`triage.yaml`): word and character n-grams of the folded text (so unaccented Vietnamese, shorthand and typos
land near their accented forms) plus sentence embeddings, one logistic regression per field; the issue type is
then read together with the intent and the sentiment (how the examples pair them). Its probabilities are the
triage confidence; `copilot triage-report` measures their calibration.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from copilot.cache import cached_embeddings, replace_cached
from copilot.errors import KnowledgeError
from copilot.retrieval.embedders import Embedder
from copilot.text import fold, folded_word_pairs, folded_words
from copilot.understand.needs import NeedModel
from copilot.yamlio import validated_files

Urgency = Literal["urgent", "high", "medium", "low"]
IssueType = Literal["complaint", "product_question", "technical_support", "idea_suggestion", "order_request"]
Sentiment = Literal["negative", "neutral", "positive"]
FIELDS = ("intent", "urgency", "issue_type", "sentiment")
ISSUE_PAIRED_WITH = ("intent", "sentiment")
EXAMPLES_DIR = "triage-examples"
MODEL_VERSION = "7"  # bump when a change to the model or its module path makes fitted models in a cache stale
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
    for path, loaded in validated_files(folder, ExampleFile):
        for number, example in enumerate(loaded.examples):
            if example.intent not in intents:
                known = ", ".join(sorted(intents))
                reason = f"unknown intent '{example.intent}'; the intents of triage.yaml are: {known}"
                raise KnowledgeError(path, reason, field=f"examples.{number}.intent")
        examples.extend(loaded.examples)
    return examples


@dataclass(frozen=True)
class Reading:
    """The model's answer for one field: the most likely label, its probability, and every label's. For the
    intent, `scope` is the closest need's similarity and `out_of_scope` says it is under the scope threshold:
    the message is none of the team's needs (`label` is still the most likely one)."""

    label: str
    probability: float
    probabilities: dict[str, float]
    scope: float | None = None
    out_of_scope: bool = False


class TriageModel:
    """One logistic regression per field over n-grams of the folded text and sentence embeddings; the intent
    is blended with a few-shot need model over the embeddings alone (`copilot.understand.needs`)."""

    DENSE_WEIGHT = 0.6
    STRENGTH = 30.0  # inverse regularisation (scikit-learn's C)
    CLASS_WEIGHT: str | None = None  # "balanced" over-reads the rarer levels
    # The n-gram regression's share of the intent blend when a median intent has at most FEW_SHOT examples
    # (the need model has the rest); above it the regression alone gives the intent's probabilities (the need
    # model still gives the scope). CLINC150 validation, 10 per intent: 0.779 alone, 0.887 blended; the
    # shipped examples (about 145 per intent) on triage.jsonl: 0.883 alone, 0.850 blended and far less
    # calibrated.
    NGRAM_SHARE = 1 / 3
    FEW_SHOT = 100

    def __init__(self, labelled: Sequence[tuple[str, dict[str, str]]], embedder: Embedder | None = None,
                 cache_dir: Path | None = None, scope_rejects: float | None = None,
                 names: Sequence[tuple[str, str]] = ()) -> None:
        """`labelled`: (text, {field: label}) pairs; a field missing from a pair is not learned from it.
        `cache_dir` keeps the examples' embeddings between starts (keyed by the model and the texts).
        `scope_rejects`: the share of held-out examples the scope threshold would reject (None: no threshold).
        `names`: (text, intent) pairs, the intents' names and descriptions, that only the need model
        learns."""
        texts = [text for text, _ in labelled]
        self.embedder = embedder
        self.cache_dir = cache_dir
        self.words, self.pairs, self.chars = _vectorizers()
        every = [*texts, *(text for text, _ in names)]
        vectors = self._embeddings(embedder, every) if embedder is not None else np.zeros((len(every), 0))
        features = sparse.hstack([
            self.words.fit_transform(texts), self.pairs.fit_transform(texts), self.chars.fit_transform(texts),
            sparse.csr_matrix((vectors[:len(texts)] * self.DENSE_WEIGHT).astype(np.float32)),
        ]).tocsr()
        rows = [i for i, (_, labels) in enumerate(labelled) if "intent" in labels]
        intents = [labelled[i][1]["intent"] for i in rows]
        extra = [(len(labelled) + i, intent) for i, (_, intent) in enumerate(names) if intent in set(intents)]

        def needs() -> NeedModel | None:
            """The few-shot need model: the intent examples and the names of the intents they teach."""
            if len(set(intents)) < 2 or not vectors.shape[1]:
                return None
            return NeedModel(vectors[rows + [i for i, _ in extra]], intents + [intent for _, intent in extra])

        self.models, self.needs = _fit_fields(features, labelled, self.STRENGTH, self.CLASS_WEIGHT, needs)
        # the need model's share of the intent blend (by the written examples per intent) and the
        # scope threshold
        per_intent = float(np.median(list(Counter(intents).values()))) if intents else 0.0
        self.ngram_share = self.NGRAM_SHARE if self.needs is not None and per_intent <= self.FEW_SHOT else 1.0
        self.scope_threshold: float | None = None
        if self.needs is not None and scope_rejects is not None:
            self.scope_threshold = self.needs.threshold(scope_rejects)
        self.issue_fit = _issue_fit(labelled, self.models)

    def __getstate__(self) -> dict[str, object]:
        """Pickled without the embedder (the process's own model is attached when loaded)."""
        return {**self.__dict__, "embedder": None}

    def _embeddings(self, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
        return cached_embeddings(embedder, texts, self.cache_dir)

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        if self.embedder is None:
            return np.zeros((len(texts), 0))
        if len(texts) == 1:
            return np.asarray(self.embedder.embed_query(texts[0]), dtype=np.float64)[None, :]
        return np.asarray(self.embedder.embed(list(texts)), dtype=np.float64)

    def _features(self, text: str, vectors: np.ndarray | None = None) -> sparse.csr_matrix:
        return self._batch_features([text], vectors)

    def _batch_features(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> sparse.csr_matrix:
        vectors = self._vectors(texts) if vectors is None else vectors
        return sparse.hstack([self.words.transform(texts), self.pairs.transform(texts),
                              self.chars.transform(texts),
                              sparse.csr_matrix((vectors * self.DENSE_WEIGHT).astype(np.float32))]).tocsr()

    def read(self, text: str) -> dict[str, Reading]:
        """The reading of every field the model learned."""
        return self.read_many([text])[0]

    def read_many(self, texts: Sequence[str]) -> list[dict[str, Reading]]:
        """The readings of many messages, embedded in one batch (an import of many conversations)."""
        if not texts:
            return []
        vectors = self._vectors(texts)
        features = self._batch_features(texts, vectors)
        fields = {name: ([str(label) for label in model.classes_], model.predict_proba(features))
                  for name, model in self.models.items()}
        intents = self.read_intents(texts, vectors, features) if "intent" in fields else None
        every = []
        for row in range(len(texts)):
            readings = {
                name: _reading(labels, probabilities[row]) for name, (labels, probabilities) in fields.items()
            }
            if intents is not None:
                readings["intent"] = intents[row]
            if "issue_type" in readings:
                readings["issue_type"] = self._issue_in_context(readings)
            every.append(readings)
        return every

    def read_intents(self, texts: Sequence[str], vectors: np.ndarray | None = None,
                     features: sparse.csr_matrix | None = None) -> list[Reading]:
        """The intent of many messages at once (embedded in one batch): the n-gram regression blended with the
        need model, with the scope score and verdict."""
        if "intent" not in self.models:
            raise ValueError("the model learned no intents")
        vectors = self._vectors(texts) if vectors is None else vectors
        features = self._batch_features(texts, vectors) if features is None else features
        model = self.models["intent"]
        labels = [str(label) for label in model.classes_]
        probabilities = model.predict_proba(features)
        if self.needs is None:
            return [_reading(labels, row) for row in probabilities]
        blended = probabilities if self.ngram_share == 1.0 else (
            self.ngram_share * probabilities + (1 - self.ngram_share) * self.needs.probabilities(vectors))
        scopes = self.needs.similarities(vectors).max(axis=1)
        threshold = self.scope_threshold
        return [_reading(labels, row, float(scope), threshold is not None and float(scope) < threshold)
                for row, scope in zip(blended, scopes, strict=True)]

    def _issue_in_context(self, readings: dict[str, Reading]) -> Reading:
        """The issue type read together with the intent and the tone: each issue type's probability times, per
        paired field, how often the examples give it to the labels that field may have (add-one smoothed),
        normalised. Words that lean to "order request" in a message read as a product question, or to
        "technical support" in a message read as warm thanks, decide only when they are much surer."""
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
    """For each field paired with the issue type and each of its labels: the share of that label's examples
    that carry each issue type, add-one smoothed (a label no example pairs with an issue type gives every type
    alike). Empty when the issue type or the paired field was not learned."""
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
        fit[field] = {str(name): _smoothed(seen[str(name)], issues) for name in models[field].classes_}
    return fit


def _smoothed(counts: Counter[str], issues: list[str]) -> dict[str, float]:
    """Each issue type's share of `counts`, add-one smoothed."""
    return {issue: (counts[issue] + 1) / (counts.total() + len(issues)) for issue in issues}


def _fit_fields(features: sparse.csr_matrix, labelled: Sequence[tuple[str, dict[str, str]]], strength: float,
                class_weight: str | None, needs: Callable[[], NeedModel | None],
                ) -> tuple[dict[str, LogisticRegression], NeedModel | None]:
    """One regression per field with at least two labels, and the need model, on two threads, the costliest
    first (the need model's dense products release the interpreter lock, so it runs beside a field's sparse
    ones; each fit is the same as alone)."""

    def fit(name: str) -> LogisticRegression | None:
        rows = [i for i, (_, labels) in enumerate(labelled) if name in labels]
        targets = [labelled[i][1][name] for i in rows]
        if len(set(targets)) < 2:
            return None
        model = LogisticRegression(C=strength, max_iter=4000, class_weight=class_weight)
        return model.fit(features[rows], targets)

    with threadpool_limits(1), ThreadPoolExecutor(max_workers=2) as pool:
        fields = {name: pool.submit(fit, name) for name in FIELDS[:1]}
        need_model = pool.submit(needs)
        fields.update({name: pool.submit(fit, name) for name in FIELDS[1:]})
        fitted = {name: future.result() for name, future in fields.items()}
        return {name: model for name, model in fitted.items() if model is not None}, need_model.result()


def _vectorizers() -> tuple[TfidfVectorizer, TfidfVectorizer, TfidfVectorizer]:
    """The n-gram views of the folded text: words, word pairs and characters. Single precision: the
    regressions' sparse products take half the time, the probabilities move by under 0.02 (10,000 examples,
    every label the same)."""
    words = TfidfVectorizer(analyzer=folded_words, ngram_range=(1, 1), sublinear_tf=True, dtype=np.float32)
    pairs = TfidfVectorizer(analyzer=folded_word_pairs, sublinear_tf=True, dtype=np.float32)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2,
                            preprocessor=fold, dtype=np.float32)
    return words, pairs, chars


def _reading(labels: list[str], probabilities: np.ndarray, scope: float | None = None,
             out_of_scope: bool = False) -> Reading:
    best = int(np.argmax(probabilities))
    every = {label: round(float(p), 4) for label, p in zip(labels, probabilities, strict=True)}
    return Reading(labels[best], float(probabilities[best]), every,
                   None if scope is None else round(scope, 4), out_of_scope)


def fitted_model(labelled: Sequence[tuple[str, dict[str, str]]], embedder: Embedder | None,
                 cache_dir: Path | None, scope_rejects: float | None = None,
                 names: Sequence[tuple[str, str]] = ()) -> TriageModel:
    """The triage model for these examples: loaded from `cache_dir` when one was fitted for the same examples,
    embedder and settings (a fraction of a second), else fitted and kept there."""
    if cache_dir is None:
        return TriageModel(labelled, embedder, None, scope_rejects, names)
    key = json.dumps([MODEL_VERSION, embedder.name if embedder else None, scope_rejects, list(labelled),
                      list(names)],
                     ensure_ascii=False, sort_keys=True)
    path = cache_dir / f"triage-model-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:24]}.pickle"
    if path.exists():
        try:
            with path.open("rb") as handle:
                model = pickle.load(handle)  # our own file, in the index folder
            if isinstance(model, TriageModel):
                model.embedder, model.cache_dir = embedder, cache_dir
                return model
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, ImportError) as exc:
            # ImportError: a model pickled by a build whose modules had other paths
            log.warning("unreadable triage model %s (%s): fitting it again", path, type(exc).__name__)
    model = TriageModel(labelled, embedder, cache_dir, scope_rejects, names)

    def write(partial: Path) -> None:
        with partial.open("wb") as handle:
            pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)

    replace_cached(cache_dir, "triage-model-*.pickle", path, write)
    return model
