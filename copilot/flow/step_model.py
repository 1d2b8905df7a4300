"""The learned step chooser: which step of a flow the next reply performs, from what the tracker read of the
conversation and from the team's labelled conversations of that flow.

Every candidate step is described by features that never name a step, so one set of weights serves every flow:
where the candidate lies in the graph from the step the agent just performed (next, two steps on, done
before), how much the last agent message and the customer's words since then resemble its goal and templates,
what the customer did (said nothing yet, gave a short answer to a question, asked one), whether the flow's
cues call for it, and, from the flow's labelled conversations (`Examples`): how often the step was taken at
the most similar moments (the customer's words and the agent's last message, embedded) and after the same
step. A conditional logit scores the candidates; the best is chosen. The weights are fitted on star-dev's six
domains and shipped (`step_model.json`, rebuilt by `copilot step-train`); the examples are the team's
(`flows/<id>.examples.jsonl`).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from copilot.flow.flows import Flow, FlowStep
from copilot.flow.tracker import Reading, graph_next, successors
from copilot.text import words

GRAPH_FEATURES = (
    "same", "next", "two_on", "further_on", "unreachable", "graph_choice", "next_share", "done",
    "done_earlier", "in_last_message", "agent_similarity", "agent_best", "agent_gap", "customer_similarity",
    "customer_best", "customer_gap", "silent_x_same", "silent_x_next", "answered_x_next", "answered_x_same",
    "question_x_customer_similarity", "question_x_asks", "asks", "cued", "other_cued", "no_repeat_x_same",
    "only_on_cue", "no_agent_x_first",
)
EXAMPLE_FEATURES = ("example_share", "example_gap", "example_best", "transition_log", "transition_best")
FEATURES = GRAPH_FEATURES + EXAMPLE_FEATURES
SHORT_ANSWER = 4  # words: a reply this short answers the agent's question rather than raising something new
NEIGHBOURS = 30  # labelled moments that vote for the step taken at a moment like this one
TEMPERATURE = 0.05  # of the neighbours' votes (cosine similarity / temperature, softmax)
AGENT_WEIGHT = 0.7  # of the agent's last message against the customer's words in the moment's vector
SMOOTHING = 0.1  # added to every step's count after a step, for the transition feature
START = "<start>"  # the base step of a moment before any agent message
PACKAGED = Path(__file__).with_name("step_model.json")


@dataclass(frozen=True)
class _Graph:
    """A flow's shape, computed once: step order, hop distances, which steps ask a question."""

    index: dict[str, int]
    distance: np.ndarray  # hops from row step to column step; -1 when unreachable
    successors: np.ndarray  # 1 where the column step is a `next` of the row step
    asks: np.ndarray  # 1 for a step that asks the customer a question
    no_repeat: np.ndarray
    only_on_cue: np.ndarray


def _graph(flow: Flow) -> _Graph:
    ids = flow.step_ids
    index = {step_id: i for i, step_id in enumerate(ids)}
    size = len(ids)
    distance = np.full((size, size), -1, dtype=np.int32)
    for start in range(size):
        distance[start, start] = 0
        queue = deque([start])
        while queue:
            at = queue.popleft()
            for target in map(index.__getitem__, successors(flow, flow.steps[at])):
                if distance[start, target] < 0:
                    distance[start, target] = distance[start, at] + 1
                    queue.append(target)
    follows = np.zeros((size, size), dtype=np.float32)
    for row, step in enumerate(flow.steps):
        follows[row, [index[c] for c in successors(flow, step)]] = 1.0
    flags = [(float(_asks(step)), float(not step.repeat), float(step.only_on_cue)) for step in flow.steps]
    asks, no_repeat, only_on_cue = (np.array(column, dtype=np.float32) for column in zip(*flags, strict=True))
    return _Graph(index, distance, follows, asks, no_repeat, only_on_cue)


def _mask(graph: _Graph, step_ids: Sequence[str], size: int) -> np.ndarray:
    mask = np.zeros(size, dtype=np.float32)
    mask[[graph.index[step_id] for step_id in step_ids]] = 1.0
    return mask


def _asks(step: FlowStep) -> bool:
    texts = [step.goal, *(t for templates in step.templates.values() for t in templates)]
    return sum("?" in text for text in texts) * 2 >= len(texts)


def base_step(reading: Reading) -> str | None:
    """The step the conversation stands on: the last one the agent performed, else the last one done."""
    if reading.last_performed:
        return reading.last_performed[-1]
    return reading.done[-1] if reading.done else None


def graph_choice(flow: Flow, reading: Reading) -> str:
    """The step the flow graph alone picks: the first not-yet-done `next` of the base step."""
    base_id = base_step(reading)
    if base_id is None:
        return flow.steps[0].id
    return graph_next(flow, flow.step(base_id), reading.done) or base_id


def moment_vector(reading: Reading) -> np.ndarray | None:
    """A moment of a conversation as one unit vector: the customer's words and the agent's last message."""
    parts: list[np.ndarray | None] = []
    for vector, weight in ((reading.customer_vector, 1.0), (reading.agent_vector, AGENT_WEIGHT)):
        if vector is None:
            parts.append(None)
            continue
        norm = float(np.linalg.norm(vector))
        parts.append(weight * vector / norm if norm else vector)
    if all(p is None for p in parts):
        return None
    size = next(len(p) for p in parts if p is not None)
    joined = np.concatenate([p if p is not None else np.zeros(size, dtype=np.float32) for p in parts])
    norm = float(np.linalg.norm(joined))
    return (joined / norm).astype(np.float32) if norm else None


@dataclass
class Examples:
    """A flow's labelled moments: each moment's vector and the step taken, and the steps taken after each base
    step. Built from the tracker's readings of labelled conversations."""

    size: int  # steps in the flow
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    taken: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    transitions: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))

    @classmethod
    def build(cls, flow: Flow, moments: Sequence[tuple[Reading, str]]) -> Examples:
        """`moments`: (reading, the step taken next) for every labelled moment."""
        examples = cls(len(flow.steps))
        index = {step_id: i for i, step_id in enumerate(flow.step_ids)}
        vectors, taken = [], []
        for reading, step_id in moments:
            examples.transitions[base_step(reading) or START][index[step_id]] += 1
            vector = moment_vector(reading)
            if vector is not None:
                vectors.append(vector)
                taken.append(index[step_id])
        if vectors:
            examples.vectors = np.stack(vectors)
            examples.taken = np.array(taken, dtype=np.int32)
        return examples

    def __len__(self) -> int:
        return len(self.taken)

    def votes(self, reading: Reading) -> np.ndarray:
        """Per step, the share of the weighted votes of the most similar labelled moments."""
        vector = moment_vector(reading)
        share = np.zeros(self.size, dtype=np.float32)
        if vector is None or not len(self):
            return share
        # not BLAS: its spinning threads slow the encoder
        similarity = np.einsum("ij,j->i", self.vectors, vector)
        count = min(NEIGHBOURS, len(similarity))
        top = np.argpartition(-similarity, count - 1)[:count]
        weight = np.exp((similarity[top] - similarity[top].max()) / TEMPERATURE)
        np.add.at(share, self.taken[top], weight / weight.sum())
        return share

    def transition(self, reading: Reading) -> np.ndarray | None:
        """Per step, the smoothed share of the labelled moments on the same base step that took it; None
        without such moments."""
        counts = self.transitions.get(base_step(reading) or START, Counter())
        total = sum(counts.values())
        if total == 0:
            return None
        shares = np.full(self.size, SMOOTHING, dtype=np.float32)
        for step, count in counts.items():
            shares[step] += count
        return shares / (total + SMOOTHING * self.size)


def features(flow: Flow, reading: Reading, examples: Examples | None = None,
             graph: _Graph | None = None) -> np.ndarray:
    """One row per step of the flow (in order), one column per name in FEATURES."""
    graph = graph or _graph(flow)
    size = len(flow.steps)
    base_id = base_step(reading)
    b = graph.index[base_id] if base_id else -1
    said = words(reading.customer_text)
    silent = float(not said)
    answered = float(bool(said) and len(said) <= SHORT_ANSWER and b >= 0 and bool(graph.asks[b]))
    question = float("?" in reading.customer_text)
    agent = reading.agent_similarity.astype(np.float32)
    customer = reading.customer_similarity.astype(np.float32)
    hops = graph.distance[b] if b >= 0 else np.full(size, -1)
    same = (np.arange(size) == b).astype(np.float32)
    is_next = graph.successors[b] if b >= 0 else np.zeros(size, dtype=np.float32)
    done = _mask(graph, reading.done, size)
    cued = _mask(graph, [reading.cued] if reading.cued else [], size)
    rows = np.zeros((size, len(FEATURES)), dtype=np.float32)
    columns = (
        same, is_next, hops == 2, hops >= 3, (hops < 0) & (b >= 0),
        _mask(graph, [graph_choice(flow, reading)], size), is_next / max(is_next.sum(), 1), done,
        done * (1 - same), _mask(graph, reading.last_performed, size),
        agent, (agent >= agent.max()) & (agent.max() > 0), agent - agent.max(),
        customer, (customer >= customer.max()) & (customer.max() > 0), customer - customer.max(),
        silent * same, silent * is_next, answered * is_next, answered * same, question * customer,
        question * graph.asks, graph.asks, cued, np.full(size, float(reading.cued is not None)) - cued,
        graph.no_repeat * same, graph.only_on_cue, (np.arange(size) == 0) & (reading.agent_turns == 0),
    )
    for column, values in enumerate(columns):
        rows[:, column] = values
    if examples is not None and len(examples.transitions):
        _fill_example_columns(rows, examples, reading)
    return rows


def _fill_example_columns(rows: np.ndarray, examples: Examples, reading: Reading) -> None:
    """The columns after GRAPH_FEATURES: the labelled moments' votes, and the transitions they took from the
    same base step (left at zero when there are none)."""
    first = len(GRAPH_FEATURES)
    votes = examples.votes(reading)
    rows[:, first] = votes
    rows[:, first + 1] = votes - votes.max()
    rows[:, first + 2] = (votes >= votes.max()) & (votes.max() > 0)
    shares = examples.transition(reading)
    if shares is not None:
        rows[:, first + 3] = np.log(shares)
        rows[:, first + 4] = shares >= shares.max()


class StepModel:
    """Fitted weights over FEATURES (saved as JSON); `chooser` binds them to one flow's examples."""

    def __init__(self, weights: Sequence[float], names: Sequence[str] = FEATURES) -> None:
        if tuple(names) != FEATURES:
            raise ValueError("the step model was fitted with other features: run `copilot step-train`")
        self.weights = np.asarray(weights, dtype=np.float32)

    def scores(self, flow: Flow, reading: Reading, examples: Examples | None = None,
               graph: _Graph | None = None) -> np.ndarray:
        return features(flow, reading, examples, graph) @ self.weights

    def chooser(self, flow: Flow, examples: Examples | None) -> FlowChooser:
        return FlowChooser(self, flow, examples)

    def save(self, path: Path) -> None:
        data = {"features": list(FEATURES), "weights": [round(float(w), 6) for w in self.weights]}
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = PACKAGED) -> StepModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["weights"], data["features"])


class FlowChooser:
    """The step model for one flow and its labelled examples (the tracker's `model`)."""

    def __init__(self, model: StepModel, flow: Flow, examples: Examples | None) -> None:
        self.model = model
        self.examples = examples
        self._graph = _graph(flow)

    def choose(self, flow: Flow, reading: Reading) -> tuple[FlowStep, str]:
        scores = self.model.scores(flow, reading, self.examples, self._graph)
        best = int(np.argmax(scores))
        chances = np.exp(scores - scores.max())
        share = float(chances[best] / chances.sum())
        return flow.steps[best], f"the step model picks {flow.steps[best].id} ({share:.0%} of the weight)"


@dataclass(frozen=True)
class Example:
    """One labelled moment of a conversation: the candidates' features and the index of the step taken."""

    rows: np.ndarray
    chosen: int
    weight: float = 1.0


def fit(examples: Sequence[Example], strength: float = 1.0) -> StepModel:
    """A conditional logit over each example's candidates (softmax of their scores, the taken step as the
    label), with an L2 penalty of `1 / strength`; deterministic (L-BFGS from zero weights)."""
    from scipy.optimize import minimize

    if not examples:
        raise ValueError("no labelled examples to fit the step model on")
    stacked = np.vstack([e.rows for e in examples]).astype(np.float64)
    starts = np.cumsum([0, *(len(e.rows) for e in examples)])
    chosen = starts[:-1] + np.array([e.chosen for e in examples])
    weight = np.array([e.weight for e in examples], dtype=np.float64)
    total = weight.sum()
    group = np.repeat(np.arange(len(examples)), [len(e.rows) for e in examples])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        scores = stacked @ w
        peak = np.maximum.reduceat(scores, starts[:-1])
        shifted = np.exp(scores - peak[group])
        norm = np.add.reduceat(shifted, starts[:-1])
        share = shifted / norm[group]
        nll = (weight * (np.log(norm) + peak - scores[chosen])).sum() / total
        grad = (stacked.T @ (share * weight[group]) - stacked[chosen].T @ weight) / total
        return nll + (w @ w) / (2 * strength * total), grad + w / (strength * total)

    result = minimize(loss, np.zeros(stacked.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return StepModel(result.x)
