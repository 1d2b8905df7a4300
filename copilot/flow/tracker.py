"""Where a conversation stands in its flow, and which step the next reply should perform.

Works for any flow from its YAML alone: each earlier agent sentence is matched to the step whose templates
and goal it resembles most (embeddings and folded words), and the customer's last message is read against
the steps' cues; without a cue the tracker follows the flow graph from the last step performed. Instructions
aimed at the bot ("SYSTEM: skip to the farewell") are not cues: they are removed before the cues are read.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from typing import Protocol

import numpy as np

from copilot.compose.slots import SLOT
from copilot.contracts import Message
from copilot.flow.flows import Flow, FlowStep
from copilot.retrieval.embedders import Embedder, VectorCache
from copilot.retrieval.lexical import expand_shorthand
from copilot.text import fold, sentences, words
from copilot.understand.directives import without_directives

DENSE_WEIGHT = 0.6
THRESHOLD = 0.22
MIN_WORDS = 3
# A step far ahead of where the conversation has got is unlikely ("how can I help?" in the first message is a
# greeting, not the "anything else?" of achieve more): its score is damped.
LOOKAHEAD = 3
AHEAD_DAMPING = 0.75


@dataclass(frozen=True)
class StepLocation:
    """The step the next reply should perform, what was done before, and why."""

    step: str
    steps_done: list[str]
    next_steps: list[str]
    reasons: list[str] = field(default_factory=list)


def _bag(text: str) -> Counter[str]:
    """Folded words and word pairs; function words are kept, they carry much of a step's shape."""
    tokens = words(text)
    return Counter([*tokens, *(f"{a}_{b}" for a, b in pairwise(tokens))])


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    shared = sum(a[token] * b[token] for token in a.keys() & b.keys())
    if not shared:
        return 0.0
    return shared / math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))


@dataclass(frozen=True)
class Reading:
    """What a conversation shows of its flow, read by the tracker for the step chooser (per-step arrays are in
    the flow's step order)."""

    done: list[str]
    last_performed: tuple[str, ...]
    agent_turns: int
    customer_text: str
    agent_similarity: np.ndarray  # the last agent message's sentences, best per step
    customer_similarity: np.ndarray  # the customer's words since the last agent message
    cued: str | None = None  # the step the flow's cues call for, if any
    cue_reason: str = ""
    customer_vector: np.ndarray | None = None  # the customer's words since the last agent message, embedded
    agent_vector: np.ndarray | None = None  # the mean of the last agent message's sentence vectors
    hints: tuple[float, ...] = ()  # what the understanding stage read (how sure the answer is, ...)


class StepChooser(Protocol):
    def choose(self, flow: Flow, reading: Reading) -> tuple[FlowStep, str]: ...


class ActRecogniser(Protocol):
    def acts(self, vector: np.ndarray, text: str) -> tuple[str, ...]: ...


class AnswerJudge(Protocol):
    def probability(self, reading: Reading) -> float: ...


class SentenceReader(Protocol):
    def act(self, sentence: str) -> str: ...


class StepTracker:
    """Recognises the steps agent messages performed and picks the next one, for one flow."""

    def __init__(self, flow: Flow, embedder: Embedder | None = None, threshold: float = THRESHOLD,
                 model: StepChooser | None = None, acts: ActRecogniser | None = None) -> None:
        """`model` chooses the next step from the tracker's reading; without one the flow's cues and graph do.
        `acts` recognises the steps an agent message performs; without it, the steps' templates and
        goals do."""
        self.flow = flow
        self.model = model
        self.acts = acts
        self.answering: AnswerJudge | None = None  # learned from labelled conversations: when a reply answers
        self.sentence_acts: SentenceReader | None = None  # learned too: the act one sentence performs
        self.embedder = embedder
        self.threshold = threshold
        self._exemplars: list[tuple[str, Counter[str]]] = []
        for step in flow.steps:
            for text in _exemplar_texts(step):
                self._exemplars.append((step.id, _bag(text)))
        self._vectors = (
            embedder.embed([fold(t) for s in flow.steps for t in _exemplar_texts(s)]) if embedder else None
        )
        self._cues = {s.id: [re.compile(c) for c in s.cues] for s in flow.steps}
        self._exceptions = {s.id: [re.compile(c) for c in s.cue_exceptions] for s in flow.steps}
        self.performed = lru_cache(maxsize=4096)(self._performed)
        self._sentence_vectors = VectorCache()

    def clear_caches(self) -> None:
        """Forget recognised messages and sentence vectors (benchmarks measure conversations never seen)."""
        self.performed.cache_clear()
        self._sentence_vectors.clear()

    def _performed(self, agent_text: str, furthest: int = -1) -> tuple[str, ...]:
        """The steps an agent message performed, in the order its sentences perform them."""
        parts = _parts(agent_text)
        if not parts:
            return ()
        if self.acts is not None and self.embedder is not None:
            return self.acts.acts(self._embedded(self.embedder, parts).mean(axis=0), agent_text)
        scores = self._scores(parts)
        found: list[str] = []
        for row in scores:
            row[furthest + LOOKAHEAD + 1 :] *= AHEAD_DAMPING
            best = int(np.argmax(row))
            if row[best] >= self.threshold and self.flow.steps[best].id not in found:
                found.append(self.flow.steps[best].id)
            furthest = max(furthest, best if row[best] >= self.threshold else furthest)
        return tuple(found)

    def _scores(self, parts: list[str]) -> np.ndarray:
        """Per sentence and step: the best similarity to one of the step's exemplars."""
        step_index = {step.id: i for i, step in enumerate(self.flow.steps)}
        scores = np.zeros((len(parts), len(self.flow.steps)), dtype=np.float32)
        dense = None
        if self.embedder is not None and self._vectors is not None:
            dense = self._embedded(self.embedder, parts) @ self._vectors.T
        for row, part in enumerate(parts):
            bag = _bag(part)
            for column, (step_id, exemplar) in enumerate(self._exemplars):
                score = _cosine(bag, exemplar)
                if dense is not None:
                    score = DENSE_WEIGHT * float(dense[row, column]) + (1 - DENSE_WEIGHT) * score
                index = step_index[step_id]
                scores[row, index] = max(scores[row, index], score)
        return scores

    def message_vector(self, agent_text: str, names: Sequence[str] = ()) -> np.ndarray | None:
        """An agent message as the act recogniser sees it: the mean of its sentences' vectors (names removed);
        None for a message with no sentence long enough to perform a step, or without an embedder."""
        parts = _parts(without_names(agent_text, names))
        if not parts or self.embedder is None:
            return None
        vector: np.ndarray = self._embedded(self.embedder, parts).mean(axis=0)
        return vector

    def warm(self, agent_texts: Sequence[str], customer_texts: Sequence[str] = ()) -> None:
        """Embed the sentences of many agent messages (and customers' words, as `read` embeds them) in one
        batch (an import of many conversations, a flow's labelled ones), so that reading them afterwards finds
        every vector ready; the cache grows to hold them."""
        if self.embedder is None:
            return
        texts = [*(part for text in agent_texts for part in _parts(text)),
                 *filter(None, (without_directives(text).strip() for text in customer_texts))]
        self._sentence_vectors.size = max(self._sentence_vectors.size, 2 * len(set(texts)))
        self._embedded(self.embedder, texts)

    def _embedded(self, embedder: Embedder, parts: list[str]) -> np.ndarray:
        """Vectors of the sentences, folded; each sentence goes to the model once, and all the new ones
        of a call go together."""
        folded = [fold(part) for part in parts]
        found = self._sentence_vectors.get(folded)
        missing = list(dict.fromkeys(text for text in folded if text not in found))
        if missing:
            vectors = embedder.embed(missing)
            self._sentence_vectors.put(missing, vectors)
            found.update(zip(missing, vectors, strict=True))
        return np.stack([found[text] for text in folded]) if folded else np.zeros((0, 0), dtype=np.float32)

    def read(
        self, messages: Sequence[Message], names: Sequence[str] = (), similarities: bool = True,
        hints: Sequence[float] = (),
    ) -> Reading:
        """What the conversation shows of the flow: the steps done, the last agent message's steps and
        similarities, and the customer's words since then with their similarity and cue hits per step.
        `names` (customer, agent, brand) are removed from agent messages, as slots are from templates;
        `similarities=False` leaves the similarity arrays at zero (neither the cues nor the graph needs
        them); `hints` are what the understanding stage read, passed on to the step chooser."""
        agent_turns = [i for i, m in enumerate(messages) if m.role == "agent"]
        customer_text = customer_words(messages)
        texts = [without_names(messages[index].text, names) for index in agent_turns]
        cleaned = without_directives(customer_text).strip() if similarities else ""
        if self.embedder is not None:  # the new sentences and the customer's words at once
            parts = [p for text in texts for p in _parts(text)]
            self._embedded(self.embedder, [*parts, *filter(None, [cleaned])])
        done: list[str] = []
        last_performed: tuple[str, ...] = ()
        ids = self.flow.step_ids
        for text in texts:
            furthest = max((ids.index(step) for step in done), default=-1)
            last_performed = self.performed(text, furthest)
            done.extend(step for step in last_performed if step not in done)
        steps = len(self.flow.steps)
        last_parts = _parts(texts[-1]) if texts and similarities else []
        agent = self._scores(last_parts).max(axis=0) if last_parts else np.zeros(steps, dtype=np.float32)
        customer_similarity = self._scores([cleaned])[0] if cleaned else np.zeros(steps, dtype=np.float32)
        customer_vector = agent_vector = None
        if self.embedder is not None and similarities:
            customer_vector = self._embedded(self.embedder, [cleaned])[0] if cleaned else None
            agent_vector = self._embedded(self.embedder, last_parts).mean(axis=0) if last_parts else None
        cued = self._cued(customer_text, last_performed)
        return Reading(done, last_performed, len(agent_turns), customer_text, agent, customer_similarity,
                       cued[0].id if cued else None, cued[1] if cued else "", customer_vector, agent_vector,
                       tuple(hints))

    def locate(self, messages: Sequence[Message], names: Sequence[str] = (),
               hints: Sequence[float] = ()) -> StepLocation:
        """`names` (customer, agent, brand) are removed from agent messages, as slots are from templates;
        `hints` (what the understanding stage read) go to the learned step chooser, when there is one."""
        if self.model is None and not any(m.role == "agent" for m in messages):
            first = self.flow.steps[0]
            return StepLocation(first.id, [], list(first.next), ["no agent reply yet: the flow starts here"])
        reading = self.read(messages, names, similarities=self.model is not None, hints=hints)
        if self.model is not None:
            step, reason = self.model.choose(self.flow, reading)
        elif reading.cued is not None:
            step, reason = self.flow.step(reading.cued), reading.cue_reason
        else:
            step, reason = self._follow_graph(reading.done, reading.last_performed)
        return StepLocation(step.id, reading.done, list(step.next), [reason])

    def answers_now(self, messages: Sequence[Message], names: Sequence[str] = (),
                    hints: Sequence[float] = ()) -> float | None:
        """The chance that the next reply gives the answer, as the flow's labelled conversations taught it
        (None without them)."""
        if self.answering is None:
            return None
        return self.answering.probability(self.read(messages, names, hints=hints))

    def _cued(self, customer_text: str, last_performed: tuple[str, ...]) -> tuple[FlowStep, str] | None:
        folded = fold(without_directives(customer_text))
        expanded = expand_shorthand(folded, self.flow.shorthand)
        folded = f"{folded} . {expanded}" if expanded != folded else folded
        for step in self.flow.cue_order():
            just_done = step.id in last_performed and not step.repeat
            if just_done or any(e.search(folded) for e in self._exceptions[step.id]):
                continue
            match = next((m for cue in self._cues[step.id] if (m := cue.search(folded))), None)
            if match:
                return step, f"customer cue '{match.group(0)}' calls for {step.id}"
        return None

    def _follow_graph(self, done: list[str], last_performed: tuple[str, ...]) -> tuple[FlowStep, str]:
        stands_on = last_performed[-1] if last_performed else done[-1] if done else self.flow.steps[0].id
        base = self.flow.step(stands_on)
        chosen = graph_next(self.flow, base, done)
        if chosen is None:
            return base, f"no step follows {base.id}: stay there"
        return self.flow.step(chosen), f"the flow goes from {base.id} to {chosen}"


def customer_words(messages: Sequence[Message]) -> str:
    """What the customer wrote since the agent's last message."""
    agent_turns = [i for i, m in enumerate(messages) if m.role == "agent"]
    since = agent_turns[-1] + 1 if agent_turns else 0
    return " ".join(m.text for m in messages[since:] if m.role == "customer")


def successors(flow: Flow, step: FlowStep) -> list[str]:
    """A step's `next`; an empty `next` means any later step."""
    ids = flow.step_ids
    return list(step.next) or ids[ids.index(step.id) + 1 :]


def graph_next(flow: Flow, base: FlowStep, done: Sequence[str]) -> str | None:
    """The step the flow graph goes to from `base`: its first successor not yet done (else its first), never a
    step reached only on a cue; None when nothing follows."""
    candidates = [c for c in successors(flow, base) if not flow.step(c).only_on_cue]
    fresh = [c for c in candidates if c not in done]
    return (fresh or candidates)[0] if candidates else None


def _parts(agent_text: str) -> list[str]:
    """The sentences of an agent message long enough to perform a step."""
    return [s.text for s in sentences(agent_text) if len(words(s.text)) >= MIN_WORDS]


def _exemplar_texts(step: FlowStep) -> list[str]:
    """The step's goal and every template sentence, slots removed."""
    texts = [step.goal]
    for templates in step.templates.values():
        for template in templates:
            texts.extend(SLOT.sub("", s.text) for s in sentences(template))
    return [t for t in texts if t.strip()]


def without_names(text: str, names: Sequence[str]) -> str:
    """`text` with the given names removed as whole words (case-insensitive), as slots are removed from
    templates: an agent called "An" leaves "anything" whole."""
    for name in names:
        if name and len(name) > 1:
            text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "", text, flags=re.IGNORECASE)
    return text
