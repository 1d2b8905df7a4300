"""What a conversation already tells about a declared condition ("the order is already with the carrier",
"only one of the three mugs is cracked"), so a draft answers for it instead of asking again.

Each message of the conversation, the customer's and the agent's, is read sentence by sentence by one
classifier per condition, learned from `condition-examples/*.yaml`: sentences labelled with the value they
state, or `none` (questions about it, other topics). Word, word-pair and character n-grams of the folded text
(unaccented Vietnamese and shorthand land near their accented forms), one logistic regression. The latest
sentence that states a value with at least `sure` probability gives it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from copilot.contracts import Message
from copilot.errors import KnowledgeError
from copilot.text import fold, folded_word_pairs, folded_words, sentences
from copilot.understand.directives import without_directives
from copilot.yamlio import validated_files

EXAMPLES_DIR = "condition-examples"
NONE = "none"  # the label of a sentence that states no value of the condition
STRENGTH = 10.0  # scikit-learn's C


class ConditionExample(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1, max_length=1000)
    value: str


class ConditionExampleFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    condition: str
    examples: tuple[ConditionExample, ...] = Field(min_length=1)


def load_condition_examples(
    root: Path, conditions: Mapping[str, Sequence[str]]
) -> dict[str, list[tuple[str, str]]]:
    """Per declared condition, its (sentence, value) examples; a file naming an undeclared condition or value
    is named with the field."""
    folder = root / EXAMPLES_DIR
    found: dict[str, list[tuple[str, str]]] = {}
    for path, loaded in validated_files(folder, ConditionExampleFile):
        if loaded.condition not in conditions:
            raise KnowledgeError(path, f"unknown condition '{loaded.condition}'; answers.yaml declares: "
                                 f"{', '.join(sorted(conditions)) or 'none'}", field="condition")
        allowed = {*conditions[loaded.condition], NONE}
        for number, example in enumerate(loaded.examples):
            if example.value not in allowed:
                raise KnowledgeError(path, f"'{example.value}' is not a value of '{loaded.condition}' "
                                     f"({', '.join(sorted(allowed))})", field=f"examples.{number}.value")
        found.setdefault(loaded.condition, []).extend((e.text, e.value) for e in loaded.examples)
    return found


@dataclass(frozen=True)
class Told:
    """A value of a condition the conversation states, how sure the reader is, and the sentence that says
    it."""

    value: str
    probability: float
    sentence: str


class _ConditionModel:
    def __init__(self, examples: Sequence[tuple[str, str]]) -> None:
        texts = [text for text, _ in examples]
        self.vectorizers = [
            TfidfVectorizer(analyzer=folded_words, sublinear_tf=True),
            TfidfVectorizer(analyzer=folded_word_pairs, sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, preprocessor=fold),
        ]
        features = sparse.hstack([v.fit_transform(texts) for v in self.vectorizers]).tocsr()
        with threadpool_limits(1):
            self.model = LogisticRegression(C=STRENGTH, max_iter=3000).fit(features, [v for _, v in examples])
        self.labels = [str(label) for label in self.model.classes_]
        self.values = [i for i, label in enumerate(self.labels) if label != NONE]  # columns of stated values

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        features = sparse.hstack([v.transform(texts) for v in self.vectorizers]).tocsr()
        return np.asarray(self.model.predict_proba(features))


def _learnable(rows: Sequence[tuple[str, str]]) -> bool:
    """At least two labels, one of them a stated value."""
    labels = {value for _, value in rows}
    return len(labels) >= 2 and bool(labels - {NONE})


class ConditionReader:
    """Reads the declared conditions a conversation states; fitted once per knowledge base (well under a
    second for a few hundred examples)."""

    def __init__(self, examples: Mapping[str, Sequence[tuple[str, str]]], sure: float) -> None:
        self.sure = sure
        self.models = {name: _ConditionModel(rows) for name, rows in examples.items() if _learnable(rows)}

    def read(self, messages: Sequence[Message]) -> dict[str, Told]:
        """Each condition whose value a sentence of the conversation states surely; the latest such
        sentence."""
        said = [piece.text for message in messages for piece in sentences(without_directives(message.text))]
        if not said or not self.models:
            return {}
        told: dict[str, Told] = {}
        for name, model in self.models.items():
            rows = model.probabilities(said)
            for sentence, row in zip(reversed(said), rows[::-1], strict=True):
                best = max(model.values, key=lambda i: row[i])
                if row[best] >= self.sure:
                    told[name] = Told(model.labels[best], round(float(row[best]), 3), sentence)
                    break
        return told
