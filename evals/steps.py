"""The step model's training and its leave-one-domain-out report on star-dev.

star-dev (`evals/datasets/star-dev/`: six domains of STAR, MIT, converted to the contract's formats) is read
once by each flow's tracker (every moment embedded; a few minutes on two cores). The report trains the weights
on five domains and tests on the sixth: half of its conversations are the test, the other half supply the
team's labelled conversations (0, 20, 100, 500 of them: the learning curve). Baselines on the same test
moments: the most frequent step of the task, following the flow graph, graph else BM25 on the customer's last
words.
"""

from __future__ import annotations

import gzip
import json
import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from copilot.contracts import Message
from copilot.flow.flows import Flow, load_flows
from copilot.flow.learned import MomentModel
from copilot.flow.step_model import Example, Examples, StepModel, _Graph, _graph, features, fit, graph_choice
from copilot.flow.tracker import Reading, StepTracker, _exemplar_texts
from copilot.retrieval.embedders import Embedder
from copilot.text import words

STAR_DEV = Path(__file__).parent / "datasets" / "star-dev"
POOL_SIZES = (0, 20, 100, 300)  # labelled conversations a training flow lends its examples from, in turn
CURVE = (0, 20, 100, 500)
SEED = 15


@dataclass(frozen=True)
class Moment:
    """One labelled moment read by its flow's tracker."""

    flow: str
    domain: str
    conversation: str
    reading: Reading
    step: str
    happy: bool


@dataclass
class Corpus:
    flows: dict[str, Flow]
    moments: list[Moment] = field(default_factory=list)
    _graphs: dict[str, _Graph] = field(default_factory=dict)

    def graph(self, flow_id: str) -> _Graph:
        """The flow's shape for the step model's features, computed once."""
        if flow_id not in self._graphs:
            self._graphs[flow_id] = _graph(self.flows[flow_id])
        return self._graphs[flow_id]

    def domains(self) -> list[str]:
        return sorted({m.domain for m in self.moments})

    def conversations(self, domain: str) -> list[str]:
        return sorted({m.conversation for m in self.moments if m.domain == domain})


@dataclass(frozen=True)
class StarCase:
    """One wizard turn of star-dev: the messages before it and the step it performed."""

    flow: str
    task: str
    conversation: str
    messages: list[Message]
    step: str
    happy: bool


def star_cases(folder: Path = STAR_DEV, limit: int | None = None) -> tuple[dict[str, Flow], list[StarCase]]:
    """star-dev's flows and every wizard turn (`limit` conversations per task, for tests)."""
    flows = load_flows(folder / "flows")
    cases: list[StarCase] = []
    kept: dict[str, set[str]] = defaultdict(set)
    with gzip.open(folder / "star-dev.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            case = json.loads(line)
            task, conversation = case["meta"]["task"], case["id"].rsplit("-", 1)[0]
            if limit is not None and conversation not in kept[task]:
                if len(kept[task]) >= limit:
                    continue
                kept[task].add(conversation)
            messages = [Message(role=m["role"], text=m["text"]) for m in case["input"]["messages"]]
            cases.append(
                StarCase(
                    case["input"]["flow"],
                    task,
                    conversation,
                    messages,
                    case["expected"]["step"],
                    bool(case["meta"]["happy"]),
                )
            )
    return flows, cases


def read_star(embedder: Embedder, folder: Path = STAR_DEV, limit: int | None = None,
              progress: Callable[[str], None] = lambda _: None) -> Corpus:
    """Every wizard turn of star-dev as a moment, read by its flow's tracker."""
    flows, cases = star_cases(folder, limit)
    trackers = {flow_id: StepTracker(flow, embedder) for flow_id, flow in flows.items()}
    corpus = Corpus(flows)
    for number, case in enumerate(cases, start=1):
        reading = trackers[case.flow].read(case.messages)
        corpus.moments.append(
            Moment(case.flow, case.task.split("_")[0], case.conversation, reading, case.step, case.happy)
        )
        if number % 2000 == 0:
            progress(f"read {number} of {len(cases)} star-dev moments")
    return corpus


def _examples(corpus: Corpus, conversations: set[str]) -> dict[str, Examples]:
    by_flow: dict[str, list[tuple[Reading, str]]] = defaultdict(list)
    for m in corpus.moments:
        if m.conversation in conversations:
            by_flow[m.flow].append((m.reading, m.step))
    return {flow_id: Examples.build(corpus.flows[flow_id], rows) for flow_id, rows in by_flow.items()}


def _example(corpus: Corpus, moment: Moment, examples: Examples | None, weight: float = 1.0) -> Example:
    flow = corpus.flows[moment.flow]
    rows = features(flow, moment.reading, examples, corpus.graph(moment.flow))
    return Example(rows, flow.step_ids.index(moment.step), weight)


def train(corpus: Corpus, domains: Iterable[str], seed: int = SEED) -> StepModel:
    """Weights fitted on the domains' moments: for each pool size in turn, that many of a domain's
    conversations are its labelled examples (at most half) and the model learns to choose on the other
    conversations."""
    chosen = set(domains)
    rows: list[Example] = []
    for domain in sorted(chosen):
        conversations = corpus.conversations(domain)
        for size in POOL_SIZES:
            shuffled = conversations[:]
            random.Random(f"{seed}-{domain}-{size}").shuffle(shuffled)
            pool = set(shuffled[: min(size, len(shuffled) // 2)])
            examples = _examples(corpus, pool)
            rows.extend(_example(corpus, m, examples.get(m.flow), 1 / len(POOL_SIZES))
                        for m in corpus.moments if m.domain == domain and m.conversation not in pool)
    return fit(rows)


def _bm25(flow: Flow, text: str) -> str | None:
    """The step whose goal and templates best match `text` by BM25 (None when nothing matches)."""
    documents = [[w for t in _exemplar_texts(step) for w in words(t)] for step in flow.steps]
    query = words(text)
    if not query:
        return None
    frequency = Counter(w for d in documents for w in set(d))
    average = sum(map(len, documents)) / len(documents)
    best, best_score = None, 0.0
    for step, document in zip(flow.steps, documents, strict=True):
        counts = Counter(document)
        score = 0.0
        for w in query:
            if counts[w]:
                idf = math.log(1 + (len(documents) - frequency[w] + 0.5) / (frequency[w] + 0.5))
                score += idf * counts[w] * 2.2 / (counts[w] + 1.2 * (0.25 + 0.75 * len(document) / average))
        if score > best_score:
            best, best_score = step.id, score
    return best


@dataclass
class Tally:
    right: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.right += ok
        self.total += 1

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 0.0


Table = dict[str, dict[str, Tally]]


def report(corpus: Corpus, curve: Sequence[int] = CURVE, seed: int = SEED,
           progress: Callable[[str], None] = lambda _: None) -> Table:
    """Per test domain (and "all"), accuracy of each method: the baselines and the learned model with n
    labelled conversations of the test domain; "happy"/"unhappy" splits for the graph and the largest n."""
    table: Table = defaultdict(lambda: defaultdict(Tally))
    for domain in corpus.domains():
        progress(f"training without {domain}")
        model = train(corpus, [d for d in corpus.domains() if d != domain], seed)
        moments, labelled = _test_split(corpus, domain, seed)
        for row in (domain, "all"):
            table[row]["labelled half"].total += len(labelled)
        _baselines(corpus, moments, set(labelled), table, domain)
        _learning_curve(corpus, model, moments, labelled, curve, table, domain, progress)
    return table


def _test_split(corpus: Corpus, domain: str, seed: int) -> tuple[list[Moment], list[str]]:
    """The test domain's conversations shuffled: every other one is the test (its moments returned), the
    rest are the labelled half the team's examples are lent from."""
    conversations = corpus.conversations(domain)
    random.Random(f"{seed}-test-{domain}").shuffle(conversations)
    test, labelled = set(conversations[::2]), [c for i, c in enumerate(conversations) if i % 2]
    return [m for m in corpus.moments if m.conversation in test], labelled


def _tally(table: Table, domain: str, name: str, ok: bool) -> None:
    """One answer of `name`, counted for the test domain and for "all"."""
    for row in (domain, "all"):
        table[row][name].add(ok)


def _baselines(corpus: Corpus, moments: Sequence[Moment], lent: set[str], table: Table, domain: str) -> None:
    """The methods that learn nothing: the task's most frequent step in the lent conversations, following
    the flow graph, and the graph else BM25 on the customer's last words."""
    majority = {task: Counter(m.step for m in corpus.moments
                              if m.flow == task and m.conversation in lent).most_common(1)
                for task in {m.flow for m in moments}}
    for m in moments:
        flow = corpus.flows[m.flow]
        graph = graph_choice(flow, m.reading)
        base = m.reading.last_performed or m.reading.done
        lexical = graph if base else _bm25(flow, m.reading.customer_text) or graph
        results = {
            "majority step of the task": bool(majority[m.flow]) and majority[m.flow][0][0] == m.step,
            "graph": graph == m.step,
            "graph else BM25": lexical == m.step,
        }
        for name, ok in results.items():
            _tally(table, domain, name, ok)
        _tally(table, domain, f"graph, {'happy' if m.happy else 'unhappy'}", results["graph"])


def _learning_curve(corpus: Corpus, model: StepModel, moments: Sequence[Moment], labelled: Sequence[str],
                    curve: Sequence[int], table: Table, domain: str,
                    progress: Callable[[str], None]) -> None:
    """The learned model with the first n labelled conversations of the test domain as its examples, for
    each n of `curve`; the flow's own model beside it for each n above zero."""
    for size in curve:
        pool = set(labelled[:size])
        examples = _examples(corpus, pool) if size else {}
        name = f"learned, {size} labelled" if size < max(curve) else f"learned, up to {size} labelled"
        for m in moments:
            flow = corpus.flows[m.flow]
            scores = model.scores(flow, m.reading, examples.get(m.flow), corpus.graph(m.flow))
            ok = flow.steps[int(scores.argmax())].id == m.step
            _tally(table, domain, name, ok)
            if size == max(curve):
                _tally(table, domain, f"learned up to {size}, {'happy' if m.happy else 'unhappy'}", ok)
        progress(f"{domain}: {name} {table[domain][name].accuracy:.3f}")
        if size:
            _own_models(corpus, pool, moments, table, domain, name.replace("learned", "flow's own model"))


def _own_models(corpus: Corpus, pool: set[str], moments: Sequence[Moment], table: Table, domain: str,
                name: str) -> None:
    """The flow's own moment model (`copilot/flow/learned.py`), fitted on the lent conversations of each task
    with at least two steps taken in them; a task without one counts as wrong."""
    by_flow: dict[str, list[tuple[Reading, str]]] = defaultdict(list)
    for m in corpus.moments:
        if m.conversation in pool:
            by_flow[m.flow].append((m.reading, m.step))
    models = {flow_id: MomentModel(corpus.flows[flow_id], rows) for flow_id, rows in by_flow.items()
              if len({step for _, step in rows}) >= 2}
    for m in moments:
        model = models.get(m.flow)
        ok = model is not None and model.steps[int(model.probabilities(m.reading).argmax())] == m.step
        _tally(table, domain, name, ok)


def markdown(table: Table) -> str:
    """The report as a Markdown table: methods as rows, domains as columns (accuracy, moments under 'all')."""
    domains = [d for d in table if d != "all"] + ["all"]
    methods = [method for method in table["all"] if method != "labelled half"]
    lines = ["| method | " + " | ".join(domains) + " |", "| --- |" + " --- |" * len(domains)]
    for method in methods:
        cells = [f"{table[d][method].accuracy:.3f}" if table[d][method].total else "" for d in domains]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    lines.append("| moments tested | " + " | ".join(str(table[d]["graph"].total) for d in domains) + " |")
    lines.append("| conversations in the labelled half | "
                 + " | ".join(str(table[d]["labelled half"].total) for d in domains) + " |")
    return "\n".join(lines)
