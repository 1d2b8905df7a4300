"""Which of a unit's replies the customer's words ask for: its main reply or one of its facets (the reply
sections that answer one question, "## Reply (English): how to verify the sender domain").

Learned from the team's facet examples (`facet-examples/*.yaml`: a customer message, its unit and which reply
answers it, a facet's question or `main`), each facet's own question too: one small logistic regression per
unit over the same kind of features as the selector's (n-grams fitted on these texts, sentence embeddings). A
unit with no facet example is read by the embeddings instead (`Understander.facet`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from copilot.understand.config import MAIN_REPLY
from copilot.understand.selector import TextFeatures
from copilot.understand.units import AnswerUnit

MAIN = MAIN_REPLY  # the label of the unit's main reply
STRENGTH = 30.0  # scikit-learn's C: a few dozen examples per unit, many features



class FacetReader:
    """One regression per unit whose examples name at least one of its facets."""

    def __init__(self, units: Mapping[str, AnswerUnit], examples: Sequence[tuple[str, str, str]],
                 features: TextFeatures) -> None:
        """`examples`: (customer text, unit id, facet question or `main`); `features`, not fitted yet."""
        self.features = features
        by_unit: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for text, unit_id, facet in examples:
            if unit_id in units:
                by_unit[unit_id].append((text, facet))
        self.models: dict[str, LogisticRegression] = {}
        taught = {unit_id: [*labelled, *((question, question) for question in
                                        sorted(units[unit_id].facet_questions))]
                  for unit_id, labelled in by_unit.items()
                  if MAIN in (labels := {label for _, label in labelled}) and len(labels) > 1}
        if not taught:
            return
        texts = [text for labelled in taught.values() for text, _ in labelled]
        rows, at = features.fit(texts), 0
        for unit_id, labelled in taught.items():
            unit_rows, at = rows[at: at + len(labelled)], at + len(labelled)
            with threadpool_limits(1):
                model = LogisticRegression(C=STRENGTH, max_iter=2000)
                self.models[unit_id] = model.fit(unit_rows, [label for _, label in labelled])

    def knows(self, unit_id: str) -> bool:
        return unit_id in self.models

    def read(self, unit: AnswerUnit, language: str, text: str) -> tuple[str, str] | None:
        """(question, reply) of the facet of `unit` in `language` that `text` most likely asks about; None
        when its main reply is likelier than each of them (or the unit has no such facet)."""
        choices = dict(unit.facets.get(language, ()))
        model = self.models.get(unit.id)
        if model is None or not choices:
            return None
        probabilities = zip(model.classes_, model.predict_proba(self.features.query(text))[0], strict=True)
        kept = {str(label): float(p) for label, p in probabilities if label == MAIN or label in choices}
        best = max(kept, key=lambda label: kept[label])  # every model knows MAIN: it is taught only with it
        return None if best == MAIN else (best, choices[best])
