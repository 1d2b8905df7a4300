"""Which of a unit's replies the customer's words ask for: its main reply or one of its facets (the reply
sections that answer one question, "## Reply (English): how to verify the sender domain").

Learned from the answer examples that name a facet (`facet:` in `answer-examples/*.yaml`), each facet's own
question too, against the unit's other examples (its main reply): one small logistic regression per unit over
the selector's features. A unit with no example naming a facet is read by the embeddings instead
(`Understander.facet`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

from scipy import sparse
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from copilot.understand.units import AnswerUnit

MAIN = ""  # the label of the unit's main reply
STRENGTH = 30.0  # scikit-learn's C: a few dozen examples per unit, many features

Features = Callable[[Sequence[str]], sparse.csr_matrix]
QueryFeatures = Callable[[str], sparse.csr_matrix]


class FacetReader:
    """One regression per unit whose examples name at least one of its facets."""

    def __init__(self, units: Mapping[str, AnswerUnit], examples: Sequence[tuple[str, str, str | None]],
                 features: Features, query: QueryFeatures) -> None:
        """`examples`: (customer text, unit id, facet question or None for the main reply); `features` of
        the examples and of one customer text (`query`), the selector's."""
        self.query = query
        by_unit: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for text, unit_id, facet in examples:
            if unit_id in units:
                by_unit[unit_id].append((text, facet or MAIN))
        self.models: dict[str, LogisticRegression] = {}
        for unit_id, labelled in by_unit.items():
            labels = {label for _, label in labelled}
            if MAIN not in labels or len(labels) < 2:
                continue
            labelled += [(question, question) for question in sorted(units[unit_id].facet_questions)]
            rows = features([text for text, _ in labelled])
            with threadpool_limits(1):
                model = LogisticRegression(C=STRENGTH, max_iter=2000)
                self.models[unit_id] = model.fit(rows, [label for _, label in labelled])

    def knows(self, unit_id: str) -> bool:
        return unit_id in self.models

    def read(self, unit: AnswerUnit, language: str, text: str) -> tuple[str, str] | None:
        """(question, reply) of the facet of `unit` in `language` that `text` most likely asks about; None
        when its main reply is likelier than each of them (or the unit has no such facet)."""
        choices = dict(unit.facets.get(language, ()))
        model = self.models.get(unit.id)
        if model is None or not choices:
            return None
        probabilities = zip(model.classes_, model.predict_proba(self.query(text))[0], strict=True)
        kept = {str(label): float(p) for label, p in probabilities if label == MAIN or label in choices}
        best = max(kept, key=lambda label: kept[label]) if kept else MAIN
        return None if best == MAIN else (best, choices[best])
