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
- `AnswerMoments`: whether the next reply gives the answer (performs the flow's answering step among its
  acts), from the same reading, as one binary logistic regression. A flow that keeps its cues (`keep_cues`)
  learns only this one (and the next): the cues choose the step, the conversations say when a sure answer is
  sent there.
- `SentenceActs`: the act one sentence performs, from the sentences of the single-act agent messages, so
  that a reply whose answer opens with an apology is not given a second one.

All are small (a few thousand weights), fitted in a few seconds on two cores, and deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Self

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from copilot.flow.flows import Flow, FlowExamples, FlowStep, LabelledMoment, LabelledTurn
from copilot.flow.step_model import base_step
from copilot.flow.tracker import Reading, StepTracker, customer_words, without_names
from copilot.text import fold, sentences, words

MIN_TURNS = 150  # labelled agent messages before the act model replaces template matching
MIN_MOMENTS = 300  # labelled moments where the customer spoke, before the moment model chooses the next step
# (star-dev, 2026-12-07: about even with the shared step model at 20 conversations, 0.529 against 0.518, and
# clearly ahead from 100, 0.618 against 0.562)
PRESENT = 0.5  # an act whose probability reaches this is performed; the likeliest one always is
SHORT_ANSWER = 4  # words
LONG_MESSAGE = 25  # words
TURN_BUCKETS = 5  # agent messages so far: 0, 1, 2, 3, 4 or more
AGENT_WEIGHT = 0.7  # of the agent's last message against the customer's words
# scikit-learn's C of the answer-now regression (5-fold over the live-chat transcripts, grouped by
# conversation: AUC 0.80 at 0.3 and at 1.0; the cue-tracked step alone tells answering moments 0.74 of the
# time)
ANSWER_STRENGTH = 0.3
# the sentence act model's C (grouped 5-fold: AUC 0.969 at 1, 0.973 at 3, 0.974 at 10)
SENTENCE_STRENGTH = 3.0


def _ngrams() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2, sublinear_tf=True,
                           max_features=20000, dtype=np.float32)


def _regression(strength: float, balanced: bool) -> LogisticRegression:
    return LogisticRegression(C=strength, max_iter=3000, class_weight="balanced" if balanced else None)


State = dict[str, np.ndarray]


def _ngrams_state(ngrams: TfidfVectorizer, prefix: str) -> State:
    terms = sorted(ngrams.vocabulary_, key=ngrams.vocabulary_.__getitem__)
    return {f"{prefix}terms": np.array(terms, dtype=str), f"{prefix}idf": ngrams.idf_.astype(np.float64)}


def _ngrams_from(state: State, prefix: str) -> TfidfVectorizer:
    terms = [str(term) for term in state[f"{prefix}terms"]]
    ngrams = _ngrams().set_params(vocabulary={term: i for i, term in enumerate(terms)})
    ngrams.idf_ = state[f"{prefix}idf"]
    return ngrams


def _regression_state(model: LogisticRegression, prefix: str) -> State:
    return {f"{prefix}coef": model.coef_, f"{prefix}intercept": model.intercept_,
            f"{prefix}classes": model.classes_}


def _regression_from(state: State, prefix: str) -> LogisticRegression:
    model = LogisticRegression()
    model.coef_, model.intercept_ = state[f"{prefix}coef"], state[f"{prefix}intercept"]
    model.classes_ = state[f"{prefix}classes"]
    return model


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

    def state(self) -> State:
        """The fitted model as arrays (`from_state` rebuilds it exactly)."""
        state = {"steps": np.array(self.steps, dtype=str), "always": np.array(sorted(self._always)),
                 "fitted": np.array(sorted(self._models)), **_ngrams_state(self._ngrams, "ngrams/")}
        for index, model in self._models.items():
            state.update(_regression_state(model, f"step{index}/"))
        return state

    @classmethod
    def from_state(cls, state: State) -> ActModel:
        model = cls.__new__(cls)
        model.steps = [str(step) for step in state["steps"]]
        model._ngrams = _ngrams_from(state, "ngrams/")
        model._always = {int(i) for i in state["always"]}
        model._models = {int(i): _regression_from(state, f"step{int(i)}/") for i in state["fitted"]}
        return model

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


class SentenceActs:
    """The act one sentence performs, learned from the sentences of the labelled agent messages that perform a
    single act (each sentence labelled with it): a multinomial logistic regression over folded character
    n-grams. It tells whether an answer unit's reply already opens with an act the plan would add (an apology
    where the plan adds empathy). 5-fold over the live-chat transcripts, grouped by conversation: empathy
    read from other acts with AUC 0.97."""

    def __init__(self, turns: Sequence[LabelledTurn], strength: float = SENTENCE_STRENGTH) -> None:
        labelled = [(fold(sentence.text), turn.acts[0]) for turn in turns if len(turn.acts) == 1
                    for sentence in sentences(without_names(turn.text, turn.names))]
        if len({act for _, act in labelled}) < 2:
            raise ValueError("the sentence act model needs sentences of at least two acts")
        self._ngrams = _ngrams().fit([text for text, _ in labelled])
        features = self._ngrams.transform([text for text, _ in labelled])
        self._model = _regression(strength, balanced=False).fit(features, [act for _, act in labelled])

    def act(self, sentence: str) -> str:
        """The likeliest act of the sentence."""
        features = self._ngrams.transform([fold(sentence)])
        return str(self._model.predict(features)[0])

    def state(self) -> State:
        return {**_ngrams_state(self._ngrams, "ngrams/"), **_regression_state(self._model, "model/")}

    @classmethod
    def from_state(cls, state: State) -> SentenceActs:
        model = cls.__new__(cls)
        model._ngrams = _ngrams_from(state, "ngrams/")
        model._model = _regression_from(state, "model/")
        return model


class MomentModel:
    """The next step at a moment, from the tracker's reading of it (the tracker's `model`)."""

    def __init__(self, flow: Flow, moments: Sequence[tuple[Reading, str]], strength: float = 1.0) -> None:
        if not moments:
            raise ValueError("no labelled moments to fit the moment model on")
        readings = [reading for reading, _ in moments]
        self._prepare(flow, readings)
        labels = [self._index[step] for _, step in moments]
        self._model = _regression(strength, balanced=False).fit(self._features(readings), labels)

    def _prepare(self, flow: Flow, readings: Sequence[Reading]) -> None:
        """The flow's steps, the feature sizes and the customer n-grams, from the readings the model is fitted
        on."""
        self.steps = flow.step_ids
        self._index = {step_id: i for i, step_id in enumerate(self.steps)}
        vectors = [v for r in readings for v in (r.customer_vector, r.agent_vector) if v is not None]
        self._dimension = len(vectors[0]) if vectors else 0
        self._hints = max(len(r.hints) for r in readings)
        self._ngrams = _ngrams().fit([fold(r.customer_text) for r in readings])

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
            _sized(reading.hints, self._hints),
        ]).astype(np.float32)

    def state(self) -> State:
        """The fitted model as arrays (`from_state` rebuilds it exactly)."""
        return {"steps": np.array(self.steps, dtype=str), "sizes": np.array([self._dimension, self._hints]),
                **_ngrams_state(self._ngrams, "ngrams/"), **_regression_state(self._model, "model/")}

    @classmethod
    def from_state(cls, state: State) -> Self:
        model = cls.__new__(cls)
        model.steps = [str(step) for step in state["steps"]]
        model._index = {step_id: i for i, step_id in enumerate(model.steps)}
        model._dimension, model._hints = (int(size) for size in state["sizes"])
        model._ngrams = _ngrams_from(state, "ngrams/")
        model._model = _regression_from(state, "model/")
        return model

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


class AnswerMoments(MomentModel):
    """Whether the next reply gives the answer, from the tracker's reading of the moment (the features of the
    moment model, the understanding's hints among them: how sure the answer is, whether it was sent)."""

    def __init__(self, flow: Flow, moments: Sequence[tuple[Reading, bool]],
                 strength: float | None = None) -> None:
        if len({answers for _, answers in moments}) < 2:
            raise ValueError("the answer-now model needs moments that answer and moments that do not")
        readings = [reading for reading, _ in moments]
        self._prepare(flow, readings)
        labels = [int(answers) for _, answers in moments]
        regression = _regression(strength or ANSWER_STRENGTH, balanced=False)
        self._model = regression.fit(self._features(readings), labels)

    def probability(self, reading: Reading) -> float:
        """The chance that the next reply gives the answer."""
        chances = self._model.predict_proba(self._features([reading]))[0]
        return float(chances[list(self._model.classes_).index(1)])


def _sized(values: Sequence[float], size: int) -> np.ndarray:
    """`values` as `size` numbers: cut, or padded with zeros (a reading without hints has none)."""
    row = np.zeros(size, dtype=np.float32)
    row[: min(size, len(values))] = values[:size]
    return row


def teach(tracker: StepTracker, examples: FlowExamples,
          hints: Callable[[LabelledMoment], Sequence[float]] | None = None,
          answer_step: str | None = None) -> StepTracker:
    """Give the tracker what its flow's labelled conversations teach: the act model once there are `MIN_TURNS`
    labelled agent messages, the moment model (fitted on moments read with those acts) once there are
    `MIN_MOMENTS` labelled moments where the customer had spoken since the agent's last message (a draft
    answers the customer; an agent's second message in a row taught it the wrong priors), and, when the flow
    has an `answer_step`, the answer-now model from as many of those moments with their acts. A flow that
    keeps its cues gets only the last, and the sentence act model (from `MIN_TURNS` single-act messages).
    `hints` gives a moment what the understanding stage reads in it, as the drafts give it at run time.
    Returns the tracker."""
    flow = tracker.flow
    answered = [m for m in examples.moments if m.messages[-1].role == "customer"]
    with_acts = [m for m in answered if m.acts]
    learns_acts = not flow.keep_cues and len(examples.turns) >= MIN_TURNS
    learns_steps = not flow.keep_cues and len(answered) >= MIN_MOMENTS
    learns_answers = answer_step is not None and len(with_acts) >= MIN_MOMENTS \
        and len({answer_step in m.acts for m in with_acts}) == 2
    single = [turn for turn in examples.turns if len(turn.acts) == 1]
    if len(single) >= MIN_TURNS and len({turn.acts[0] for turn in single}) > 1:  # one act teaches nothing
        tracker.sentence_acts = SentenceActs(single)
    if not (learns_acts or learns_steps or learns_answers):
        return tracker
    tracker.warm([without_names(turn.text, turn.names) for turn in examples.turns],
                 [customer_words(m.messages) for m in answered])
    if learns_acts:
        _teach_acts(tracker, examples)
    # the moments the models learn from (with_acts is within answered), each read once
    to_read = answered if learns_steps else with_acts if learns_answers else []
    readings = {id(m): tracker.read(list(m.messages), m.names, hints=hints(m) if hints else ())
                for m in to_read}
    if learns_steps:
        tracker.model = MomentModel(flow, [(readings[id(m)], m.step) for m in answered])
    if learns_answers:
        tracker.answering = AnswerMoments(flow, [(readings[id(m)], answer_step in m.acts) for m in with_acts])
    return tracker


def _teach_acts(tracker: StepTracker, examples: FlowExamples) -> None:
    """The act model, from the labelled agent messages the tracker can embed (when `MIN_TURNS` of them)."""
    read = [(turn, tracker.message_vector(turn.text, turn.names)) for turn in examples.turns]
    turns = [(turn, vector) for turn, vector in read if vector is not None]
    if len(turns) >= MIN_TURNS:
        vectors = np.stack([vector for _, vector in turns])
        texts = [without_names(turn.text, turn.names) for turn, _ in turns]
        tracker.acts = ActModel(tracker.flow, vectors, texts, [turn.acts for turn, _ in turns])
        tracker.performed.cache_clear()
