"""Which answer unit, if any, answers what the customer needs: a classifier learned at start-up.

It learns from the team's answer examples (`answer-examples/*.yaml`: customer messages and the unit that
answers each) and from the units themselves (title, tags, when-to-use): word, word-pair and character n-grams
of the folded text, plus sentence embeddings, in one multinomial logistic regression. Examples labelled
`none` (messages no unit answers) are one more class. Its probability, restricted to the units that serve the
conversation's platform and to "none", is the confidence a draft answers with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from copilot.cache import cached_embeddings
from copilot.retrieval.embedders import Embedder
from copilot.text import fold, folded_word_pairs, folded_words
from copilot.understand.config import ANY, NO_UNIT
from copilot.understand.units import AnswerUnit

DENSE_WEIGHT = 0.7
# inverse regularisation (scikit-learn's C): chosen by cross-validation on the answer examples
STRENGTH = 300.0


@dataclass(frozen=True)
class Ranked:
    """The units that serve a conversation, most likely first, with their probabilities; with `none`, the
    probability that no unit answers, they sum to one."""

    units: list[tuple[AnswerUnit, float]] = field(default_factory=list)
    none: float = 0.0

    @property
    def best(self) -> tuple[AnswerUnit, float] | None:
        return self.units[0] if self.units else None

    def given(self, told: Mapping[str, str]) -> Ranked:
        """Without the units that hold under another value of a condition the conversation states (a unit
        right under any value stays), renormalised."""
        kept = [(unit, p) for unit, p in self.units
                if all(unit.when.get(name) in (None, ANY, value) for name, value in told.items())]
        if len(kept) == len(self.units) or not kept:
            return self
        total = sum(p for _, p in kept) + self.none or 1.0
        return Ranked([(unit, p / total) for unit, p in kept], self.none / total)


class TextFeatures:
    """Folded word, word-pair and character n-grams (fitted on the texts given) plus sentence embeddings: the
    features the selector and the facet reader learn from."""

    def __init__(self, embedder: Embedder | None, cache_dir: Path | None,
                 kind: str = "answer-vectors") -> None:
        """`kind`: the name of the cache file its texts' embeddings are kept in (one file per kind: two sets
        of texts under one kind would replace each other at every start)."""
        self.embedder = embedder
        self.cache_dir = cache_dir
        self.kind = kind
        self.words = TfidfVectorizer(analyzer=folded_words, sublinear_tf=True)
        self.pairs = TfidfVectorizer(analyzer=folded_word_pairs, sublinear_tf=True)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2,
                                     preprocessor=fold)

    def fit(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """Fit the n-grams on `texts` and return their features (embeddings kept in the cache folder)."""
        return sparse.hstack([self.words.fit_transform(texts), self.pairs.fit_transform(texts),
                              self.chars.fit_transform(texts), self._dense(texts)]).tocsr()

    def query(self, text: str) -> sparse.csr_matrix:
        """The features of one customer text (its embedding computed, not kept in the cache folder)."""
        if self.embedder is None:
            dense = sparse.csr_matrix((1, 0))
        else:
            vector = np.asarray(self.embedder.embed_query(text), dtype=np.float64)[None, :]
            dense = sparse.csr_matrix(vector * DENSE_WEIGHT)
        return sparse.hstack([self.words.transform([text]), self.pairs.transform([text]),
                              self.chars.transform([text]), dense]).tocsr()

    def _dense(self, texts: Sequence[str]) -> sparse.csr_matrix:
        if self.embedder is None:
            return sparse.csr_matrix((len(texts), 0))
        vectors = cached_embeddings(self.embedder, texts, self.cache_dir, kind=self.kind)
        return sparse.csr_matrix(vectors * DENSE_WEIGHT)


class AnswerSelector:
    """Ranks answer units for a customer's words; fitted once per knowledge base."""

    def __init__(self, units: Sequence[AnswerUnit], examples: Sequence[tuple[str, str]],
                 embedder: Embedder | None = None, cache_dir: Path | None = None) -> None:
        """`examples`: (customer text, unit id or `none`) pairs; each unit's own descriptions are added."""
        self.units = {unit.id: unit for unit in units}
        labelled = [*examples, *((text, unit.id) for unit in units for text in unit.descriptions)]
        self.embedder = embedder
        self.features = TextFeatures(embedder, cache_dir)
        self.model: LogisticRegression | None = None
        if len({unit for _, unit in labelled}) < 2:
            return
        features = self.features.fit([text for text, _ in labelled])
        with threadpool_limits(1):
            self.model = LogisticRegression(C=STRENGTH, max_iter=3000).fit(features, [u for _, u in labelled])
        self._classes = [str(label) for label in self.model.classes_]

    def rank(self, text: str, platform: str | None) -> Ranked:
        """The units serving `platform` (None: every unit), ranked by probability for `text`, renormalised
        with the probability that no unit answers."""
        if self.model is None or not text.strip():
            return Ranked()
        scores = self.model.predict_proba(self.features.query(text))[0]
        probabilities = dict(zip(self._classes, scores, strict=True))
        none = float(probabilities.pop(NO_UNIT, 0.0))
        served = [(self.units[label], float(p)) for label, p in probabilities.items()
                  if platform is None or self.units[label].serves(platform)]
        total = sum(p for _, p in served) + none or 1.0
        ranked = sorted(((unit, p / total) for unit, p in served), key=lambda pair: -pair[1])
        return Ranked(ranked, none / total)
