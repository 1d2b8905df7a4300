"""`knowledge/answers.yaml`: how drafts answer (threshold, conditions and their questions, needs' questions,
how to address a customer), validated; the answer examples the selector learns from."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from copilot.errors import KnowledgeError
from copilot.yamlio import load_yaml_mapping, validate_model, validated_files

ANSWERS_FILE = "answers.yaml"
EXAMPLES_DIR = "answer-examples"
UNKNOWN_NEED = "_unknown"
# `answer: none` in an answer example: a message no unit answers (a near miss, a vague opener, a request only
# the team can check). The selector learns it as one more class: its mass is the "not sure" it holds back on.
NO_UNIT = "none"
FACET_EXAMPLES_DIR = "facet-examples"
# `facet: main` in a facet example: the message asks what the unit's main reply answers, none of its facets
MAIN_REPLY = "main"

# `when: {order_state: any}`: the unit's reply is right whatever the condition's value (it explains each
# case), so it answers when the conversation does not tell the value and the units for each value are the
# likely ones.
ANY = "any"


class Condition(BaseModel):
    """A fact of the conversation that tells close answers apart, and the question that finds it out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    values: tuple[str, ...] = Field(min_length=2)
    ask: dict[str, str] = Field(min_length=1)


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    generic: str = Field(min_length=1)
    forms: tuple[str, ...] = ()


class FlowActs(BaseModel):
    """Which steps of a flow open a conversation, show empathy, ask, answer, hold back (say what the agent
    will check) and report back after a check. A flow named in `answers.yaml` gets replies composed of these
    acts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    open: str
    empathy: str | None = None
    ask: str
    answer: str
    hold: str
    report: str | None = None


class AskFirst(BaseModel):
    """When a sure answer's unit asks its details first: at the asking step, when the conversation states
    `when` for `condition` (a declared condition read from `condition-examples/`: "details: missing")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    condition: str
    when: str


class AnswersConfig(BaseModel):
    """The answering vocabulary of a knowledge base; an empty one (no file) never answers from a unit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float = Field(default=0.5, ge=0, le=1)
    recent_turns: int = Field(default=3, ge=1, le=20)
    told_threshold: float = Field(
        default=0.6, ge=0, le=1,
        description="The probability above which a sentence of the conversation is read as stating a "
        "condition's value (`condition-examples/`).",
    )
    conditions: dict[str, Condition] = Field(default_factory=dict)
    ask_first: AskFirst | None = None
    questions: dict[str, dict[str, str]] = Field(default_factory=dict)
    address: Address | None = None
    flows: dict[str, FlowActs] = Field(default_factory=dict)
    tone: str = Field(
        default="", description="The team's voice in every language: how its replies sound ('Voice: ...' in "
        "an LLM's system prompt); none without it.",
    )
    voice: dict[str, str] = Field(
        default_factory=dict,
        description="Per language, how an LLM is told to write it (diacritics, how to call the customer and "
        "oneself): a note after its name.",
    )

    @model_validator(mode="after")
    def _ask_first_declared(self) -> AnswersConfig:
        rule = self.ask_first
        condition = self.conditions.get(rule.condition) if rule else None
        if rule is not None and (condition is None or rule.when not in condition.values):
            declared = ", ".join(f"{name} ({', '.join(c.values)})" for name, c in self.conditions.items())
            raise ValueError(f"ask_first: '{rule.condition}: {rule.when}' is not a declared condition and "
                             f"value; declared: {declared or 'none'}")
        return self

    @classmethod
    def load(cls, root: Path) -> AnswersConfig:
        path = root / ANSWERS_FILE
        return validate_model(cls, load_yaml_mapping(path), path) if path.exists() else cls()

    def question(self, need: str | None, language: str) -> str:
        """The targeted question for a need (or for an unclear one), in `language` or English."""
        asked = self.questions.get(need or UNKNOWN_NEED) or self.questions.get(UNKNOWN_NEED) or {}
        return asked.get(language) or asked.get("en", "")


class AnswerExample(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1, max_length=4000)
    answer: str


class FacetExample(BaseModel):
    """A customer message and which reply of its unit answers it: one of the unit's facets (the question after
    the colon of a reply heading) or `main` (MAIN_REPLY), its main reply."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1, max_length=4000)
    answer: str
    facet: str = Field(min_length=1)


class FacetExampleFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    examples: tuple[FacetExample, ...] = Field(min_length=1)


class AnswerExampleFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    examples: tuple[AnswerExample, ...] = Field(min_length=1)


def load_answer_examples(root: Path, units: Collection[str]) -> list[AnswerExample]:
    """Every example of `answer-examples/*.yaml`, each naming a document that is an answer unit, or `none`
    (`NO_UNIT`) for a message no unit answers."""
    folder = root / EXAMPLES_DIR
    if NO_UNIT in units:
        raise KnowledgeError(folder, f"a document is named '{NO_UNIT}', the word answer examples use for a "
                             "message no unit answers: rename the document", field="answer")
    examples: list[AnswerExample] = []
    for path, loaded in validated_files(folder, AnswerExampleFile):
        for number, example in enumerate(loaded.examples):
            if example.answer not in units and example.answer != NO_UNIT:
                raise KnowledgeError(path, f"'{example.answer}' is not an answer unit (a document with "
                                     f"`answers:` in its front matter), nor '{NO_UNIT}' (no unit answers it)",
                                     field=f"examples.{number}.answer")
        examples.extend(loaded.examples)
    return examples


def load_facet_examples(root: Path, units: Mapping[str, Collection[str]]) -> list[FacetExample]:
    """Every example of `facet-examples/*.yaml`, each naming an answer unit with facets and one of its facets
    or `main` (`units`: each unit's facet questions, in every language)."""
    folder = root / FACET_EXAMPLES_DIR
    examples: list[FacetExample] = []
    for path, loaded in validated_files(folder, FacetExampleFile):
        for number, example in enumerate(loaded.examples):
            facets = units.get(example.answer)
            if not facets:
                reason = ("is not an answer unit" if facets is None
                          else "has no facets (reply sections that name a question)")
                raise KnowledgeError(path, f"'{example.answer}' {reason}", field=f"examples.{number}.answer")
            if example.facet not in (MAIN_REPLY, *facets):
                raise KnowledgeError(path, f"'{example.facet}' is not a facet of {example.answer} (its reply "
                                     f"sections' questions: {'; '.join(sorted(facets))}; or {MAIN_REPLY})",
                                     field=f"examples.{number}.facet")
        examples.extend(loaded.examples)
    return examples


def check_units_vocabulary(
    config: AnswersConfig,
    units: Iterable[tuple[Path, Mapping[str, str], Collection[str]]],
    intents: Collection[str],
) -> None:
    """Each unit's needs must be intents (when the knowledge base has any), and its conditions and their
    values declared in answers.yaml; an error names the document and the field."""
    for path, when, needs in units:
        unknown = [need for need in needs if intents and need not in intents]
        if unknown:
            known = ", ".join(sorted(intents))
            reason = f"unknown need(s) {', '.join(unknown)}; the intents of triage.yaml are: {known}"
            raise KnowledgeError(path, reason, field="answers")
        for name, value in when.items():
            condition = config.conditions.get(name)
            if condition is None:
                raise KnowledgeError(path, f"unknown condition '{name}'; answers.yaml declares: "
                                     f"{', '.join(sorted(config.conditions)) or 'none'}", field="when")
            if value not in condition.values and value != ANY:
                values = ", ".join(condition.values)
                raise KnowledgeError(path, f"'{value}' is not a value of '{name}' ({values}, "
                                     f"or {ANY} for a reply right under every value)", field=f"when.{name}")
