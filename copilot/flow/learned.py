"""What a flow's labelled conversations teach its tracker, when it has enough of them.

- `ActModel`: which steps an agent message performs, learned from the agent messages of labelled transcripts
  (each with its `acts`): one logistic regression per step over the message's sentence embedding and its
  folded character n-grams. It replaces matching the message against the steps' templates, which misses most
  of what agents actually write ("Open the popup, go to Display rules..." performs troubleshoot in no
  template's words).
- `MomentModel`: which step the next reply performs, learned from the labelled moments (a multinomial logistic
  regression over what the tracker read: the customer's words since the last agent message and that message,
  embedded and as character n-grams; the step just performed, the steps done, the flow's cue, the similarities
  to each step's goal and templates, turn position). Its classes are the flow's own steps, so it serves the
  flow it was fitted on; the step model of `step_model.py` is what carries to flows with few examples.

Both are small (a few thousand weights), fitted in a few seconds on two cores, and deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from copilot.flow.flows import Flow, FlowExamples, FlowStep
from copilot.flow.step_model import base_step
from copilot.flow.tracker import Reading, StepTracker, without_names
from copilot.text import fold, words

MIN_TURNS = 150  # labelled agent messages before the act model replaces template matching
MIN_MOMENTS = 300  # labelled moments before the moment model chooses the next step (star-dev: it loses to
# the shared step model at 20 conversations, about 130 moments, and wins from 100, about 600)
PRESENT = 0.5  # an act whose probability reaches this is performed; the likeliest one always is
SHORT_ANSWER = 4  # words
LONG_MESSAGE = 25  # words
TURN_BUCKETS = 5  # agent messages so far: 0, 1, 2, 3, 4 or more
AGENT_WEIGHT = 0.7  # of the agent's last message against the customer's words


def _ngrams() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2, sublinear_tf=True,
                           max_features=20000, dtype=np.float32)


def _regression(strength: float, balanced: bool) -> LogisticRegression:
    return LogisticRegression(C=strength, max_iter=3000, class_weight="balanced" if balanced else None)


class ActModel:
    """The steps an agent message performs, in the flow's order."""

    def __init__(self, flow: Flow, vectors: np.ndarray, texts: Sequence[str], acts: Sequence[Sequence[str]],
                 strength: float = 1.0) -> None:
        if len(texts) != len(acts) or len(vectors) != len(texts):
            raise ValueError("every labelled agent message needs its vector, its text and its acts")
        self.steps = flow.step_ids
        self._ngrams = _ngrams().fit([fold(t) for t in texts])
        features = self._features(vectors, texts)
        self._models: dict[int, LogisticRegression] = {}
        self._always: set[int] = set()
        for index, step_id in enumerate(self.steps):
            labels = np.array([step_id in performed for performed in acts], dtype=np.int32)
            if labels.all():
                self._always.add(index)
            elif labels.any():
                self._models[index] = _regression(strength, balanced=False).fit(features, labels)

    def _features(self, vectors: np.ndarray, texts: Sequence[str]) -> sparse.csr_matrix:
        grams = self._ngrams.transform([fold(t) for t in texts])
        return sparse.hstack([sparse.csr_matrix(vectors.astype(np.float32)), grams]).tocsr()

    def probabilities(self, vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """Per message (rows) and step (columns, the flow's order): the chance the message performs it."""
        chances = np.zeros((len(texts), len(self.steps)), dtype=np.float32)
        if not len(texts):
            return chances
        features = self._features(vectors, texts)
        for index, model in self._models.items():
            chances[:, index] = model.predict_proba(features)[:, 1]
        for index in self._always:
            chances[:, index] = 1.0
        return chances

    def acts(self, vector: np.ndarray, text: str) -> tuple[str, ...]:
        chances = self.probabilities(vector[None, :], [text])[0]
        chosen = {int(np.argmax(chances)), *np.flatnonzero(chances >= PRESENT).tolist()}
        return tuple(self.steps[i] for i in sorted(chosen))


class MomentModel:
    """The next step at a moment, from the tracker's reading of it (the tracker's `model`)."""

    def __init__(self, flow: Flow, moments: Sequence[tuple[Reading, str]], strength: float = 1.0) -> None:
        if not moments:
            raise ValueError("no labelled moments to fit the moment model on")
        self.steps = flow.step_ids
        self._index = {step_id: i for i, step_id in enumerate(self.steps)}
        readings = [reading for reading, _ in moments]
        vectors = [v for r in readings for v in (r.customer_vector, r.agent_vector) if v is not None]
        self._dimension = len(vectors[0]) if vectors else 0
        self._ngrams = _ngrams().fit([fold(r.customer_text) for r in readings])
        labels = [self._index[step] for _, step in moments]
        self._model = _regression(strength, balanced=True).fit(self._features(readings), labels)

    def _row(self, reading: Reading) -> np.ndarray:
        size = len(self.steps)
        customer, agent = reading.customer_vector, reading.agent_vector
        zeros = np.zeros(self._dimension, dtype=np.float32)
        base = np.zeros(size + 1, dtype=np.float32)
        last = base_step(reading)
        base[self._index[last] if last else size] = 1.0
        cued = np.zeros(size + 1, dtype=np.float32)
        cued[self._index[reading.cued] if reading.cued else size] = 1.0
        turns = np.zeros(TURN_BUCKETS, dtype=np.float32)
        turns[min(reading.agent_turns, TURN_BUCKETS - 1)] = 1.0
        said = words(reading.customer_text)
        flags = np.array([not said, "?" in reading.customer_text, 0 < len(said) <= SHORT_ANSWER,
                          len(said) > LONG_MESSAGE, "!" in reading.customer_text], dtype=np.float32)
        return np.concatenate([
            customer if customer is not None else zeros, AGENT_WEIGHT * agent if agent is not None else zeros,
            reading.agent_similarity, reading.customer_similarity, base,
            self._mask(reading.done), self._mask(reading.last_performed), cued, turns, flags,
        ]).astype(np.float32)

    def _mask(self, steps: Sequence[str]) -> np.ndarray:
        mask = np.zeros(len(self.steps), dtype=np.float32)
        mask[[self._index[s] for s in steps]] = 1.0
        return mask

    def _features(self, readings: Sequence[Reading]) -> sparse.csr_matrix:
        dense = np.stack([self._row(r) for r in readings])
        grams = self._ngrams.transform([fold(r.customer_text) for r in readings])
        return sparse.hstack([sparse.csr_matrix(dense), grams]).tocsr()

    def probabilities(self, reading: Reading) -> np.ndarray:
        """Per step of the flow (its order): the chance the next reply performs it."""
        chances = np.zeros(len(self.steps), dtype=np.float32)
        chances[self._model.classes_] = self._model.predict_proba(self._features([reading]))[0]
        return chances

    def choose(self, flow: Flow, reading: Reading) -> tuple[FlowStep, str]:
        chances = self.probabilities(reading)
        best = int(np.argmax(chances))
        return flow.steps[best], (f"learned from the flow's labelled conversations: {self.steps[best]} "
                                  f"({chances[best]:.0%})")


def teach(tracker: StepTracker, examples: FlowExamples) -> StepTracker:
    """Give the tracker what its flow's labelled conversations teach: the act model once there are `MIN_TURNS`
    labelled agent messages, the moment model (fitted on moments read with those acts) once there are
    `MIN_MOMENTS` labelled moments. Returns the tracker."""
    read = [(turn, tracker.message_vector(turn.text, turn.names)) for turn in examples.turns]
    turns = [(turn, vector) for turn, vector in read if vector is not None]
    if len(turns) >= MIN_TURNS:
        vectors = np.stack([vector for _, vector in turns])
        texts = [without_names(turn.text, turn.names) for turn, _ in turns]
        tracker.acts = ActModel(tracker.flow, vectors, texts, [turn.acts for turn, _ in turns])
        tracker.performed.cache_clear()
    if len(examples.moments) >= MIN_MOMENTS:
        readings = [(tracker.read(list(m.messages), m.names), m.step) for m in examples.moments]
        tracker.model = MomentModel(tracker.flow, readings)
    return tracker
