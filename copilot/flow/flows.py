"""Support flows as data: a flow is an ordered graph of steps loaded from `knowledge/flows/<id>.yaml`."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from copilot.contracts import Message
from copilot.errors import KnowledgeError
from copilot.yamlio import Patterns, load_yaml_mapping, validate_model

IDENTIFIER = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class FlowStep(BaseModel):
    """One step of a flow: what the agent's message at this step should achieve, with example replies."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Step identifier, e.g. `greeting`.")
    title: str = Field(min_length=1)
    goal: str = Field(min_length=1, description="What a message at this step does; used to recognise it.")
    next: tuple[str, ...] = Field(default=(), description="Steps that may follow; empty = any.")
    templates: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="Example replies per language."
    )
    review_ask: bool = Field(default=False, description="Drafts for this step must ask for a review.")
    knowledge: bool = Field(
        default=False, description="Drafts at this step are grounded in retrieved passages."
    )
    cues: Patterns = Field(
        default=(),
        description="Regular expressions on the customer's last message (folded) that call for this step.",
    )
    cue_exceptions: Patterns = Field(
        default=(),
        description="If one of these matches the customer's message, this step's cues are ignored.",
    )
    only_on_cue: bool = Field(default=False, description="Chosen only when one of its cues matches.")
    repeat: bool = Field(
        default=True, description="False: a cue does not pick this step right after the agent performed it."
    )
    prompt: str = Field(
        default="generic", pattern=r"^[a-z_]+$",
        description="Prompt family in copilot/compose/prompts (step_<prompt>.txt).",
    )

    @field_validator("id")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not IDENTIFIER.match(value):
            raise ValueError("must be lower-case letters, digits, '_' or '-' (e.g. set_expectation)")
        return value

    @field_validator("next", "cues", "cue_exceptions", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return () if value is None else value



class Flow(BaseModel):
    """A whole flow; `steps` keeps the order in which a conversation normally walks through them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str = Field(min_length=1)
    description: str = ""
    steps: tuple[FlowStep, ...] = Field(min_length=1)
    cue_priority: tuple[str, ...] = Field(
        default=(), description="Order in which steps' cues are tried; default: the steps in reverse order."
    )
    keep_cues: bool = Field(
        default=False,
        description="With labelled conversations, the cues and the graph still choose the step; the "
                    "conversations teach only whether a reply answers at that moment.",
    )
    # the chat shorthand of the knowledge folder the flow was loaded from, not a field of the flow's file
    _shorthand: dict[str, tuple[str, ...]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _consistent_graph(self) -> Flow:
        ids = [step.id for step in self.steps]
        duplicates = sorted({step_id for step_id in ids if ids.count(step_id) > 1})
        if duplicates:
            raise ValueError(f"duplicate step ids: {', '.join(duplicates)}")
        for step in self.steps:
            unknown = [target for target in step.next if target not in ids]
            if unknown:
                raise ValueError(f"step '{step.id}' lists unknown next steps: {', '.join(unknown)}")
        unknown = [step_id for step_id in self.cue_priority if step_id not in ids]
        if unknown:
            raise ValueError(f"cue_priority lists unknown steps: {', '.join(unknown)}")
        return self

    @property
    def shorthand(self) -> Mapping[str, tuple[str, ...]]:
        """Chat shorthand and the words it stands for ("ko" -> "khong"), written out before the cues read a
        customer message: the `search:` abbreviations of the folder's `language.yaml`; none for a flow loaded
        on its own."""
        return self._shorthand

    def cue_order(self) -> list[FlowStep]:
        """Steps in the order their customer cues are tried."""
        order = list(self.cue_priority) or [step.id for step in reversed(self.steps)]
        rest = [step.id for step in reversed(self.steps) if step.id not in order]
        return [self.step(step_id) for step_id in [*order, *rest] if self.step(step_id).cues]

    @property
    def step_ids(self) -> list[str]:
        return [step.id for step in self.steps]

    def step(self, step_id: str) -> FlowStep:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)


def load_flow(path: Path) -> Flow:
    """Load and validate one flow file; its `id` must equal the file name."""
    flow = validate_model(Flow, load_yaml_mapping(path), path)
    if flow.id != path.stem:
        raise KnowledgeError(path, f"flow id '{flow.id}' must equal the file name '{path.stem}'", field="id")
    return flow


def load_flows(
    flows_dir: Path, shorthand: Mapping[str, tuple[str, ...]] | None = None
) -> dict[str, Flow]:
    """Every `*.yaml`/`*.yml` flow of `flows_dir`, by id, reading its cues with the knowledge folder's
    `shorthand`."""
    files = sorted([*flows_dir.glob("*.yaml"), *flows_dir.glob("*.yml")])
    flows = {flow.id: flow for flow in map(load_flow, files)}
    for flow in flows.values():
        flow._shorthand = dict(shorthand or {})
    return flows


EXAMPLES_SUFFIX = ".examples.jsonl"


class LabelledMoment(BaseModel):
    """One labelled moment of a flow's conversation: the messages so far and the step the agent performed next
    (the `input.messages` and `expected.step` of a draft case, or a labelled agent message of a transcript);
    `names` are the customer's, the agent's and the brand's, removed from agent messages as slots are;
    `platform` is where the conversation took place, when the example says; `acts` are the steps the agent's
    next message performed, in order, when the example says."""

    model_config = ConfigDict(frozen=True)

    messages: tuple[Message, ...]
    step: str
    names: tuple[str, ...] = ()
    platform: str | None = None
    acts: tuple[str, ...] = ()


class LabelledTurn(BaseModel):
    """One agent message of a labelled transcript and the steps it performs, in order (its `acts`)."""

    model_config = ConfigDict(frozen=True)

    text: str
    acts: tuple[str, ...]
    names: tuple[str, ...] = ()


class FlowExamples(BaseModel):
    """A flow's labelled conversations: the moments (what the agent did next) and, from labelled transcripts,
    the agent messages with the steps they perform."""

    model_config = ConfigDict(frozen=True)

    moments: tuple[LabelledMoment, ...] = ()
    turns: tuple[LabelledTurn, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.moments)


class _TranscriptMessage(Message):
    step: str | None = None
    acts: tuple[str, ...] = ()


class _Transcript(BaseModel):
    messages: tuple[_TranscriptMessage, ...] = Field(min_length=1)
    platform: str | None = None
    customer: dict[str, str | None] = Field(default_factory=dict)
    agent: dict[str, str | None] = Field(default_factory=dict)


def _names(*people: Mapping[str, object]) -> tuple[str, ...]:
    found = [person.get(key) for person in people for key in ("name", "brand")]
    return tuple(name.strip() for name in found if isinstance(name, str) and name.strip())


def _check_step(step: str, flow: Flow, where: str, field: str) -> None:
    if step not in flow.step_ids:
        raise KnowledgeError(where, f"unknown step '{step}' for flow '{flow.id}'; "
                             f"known: {', '.join(flow.step_ids)}", field=field)


def _from_case(case: dict[str, Any], where: str, flow: Flow) -> LabelledMoment:
    try:
        fields = {"messages": case["input"]["messages"], "step": case["expected"]["step"],
                  "names": _names(case["input"].get("customer") or {}, case["input"].get("agent") or {}),
                  "platform": case["input"].get("platform"), "acts": case["expected"].get("acts") or ()}
    except (KeyError, TypeError, AttributeError) as exc:
        raise KnowledgeError(where, "a labelled moment needs input.messages and expected.step (the draft "
                             "case format), or a transcript's messages with a step on agent "
                             "messages") from exc
    moment = validate_model(LabelledMoment, fields, where, prefix="input")
    _check_step(moment.step, flow, where, "expected.step")
    for act in moment.acts:
        _check_step(act, flow, where, "expected.acts")
    return moment


def _from_transcript(
    data: dict[str, Any], where: str, flow: Flow
) -> tuple[list[LabelledMoment], list[LabelledTurn]]:
    """Every labelled agent message of a transcript: the moment before it, and its text with its acts."""
    transcript = validate_model(_Transcript, data, where)
    names = _names(transcript.customer, transcript.agent)
    moments, turns = [], []
    for position, message in enumerate(transcript.messages):
        if message.role != "agent" or message.step is None:
            continue
        _check_step(message.step, flow, where, f"messages[{position}].step")
        for act in message.acts:
            _check_step(act, flow, where, f"messages[{position}].acts")
        before = tuple(Message(role=m.role, text=m.text, at=m.at) for m in transcript.messages[:position])
        acts = message.acts or (message.step,)
        if before:
            moments.append(LabelledMoment(messages=before, step=message.step, names=names,
                                          platform=transcript.platform, acts=acts))
        turns.append(LabelledTurn(text=message.text, acts=acts, names=names))
    return moments, turns


def load_examples(path: Path, flow: Flow) -> FlowExamples:
    """A flow's labelled conversations (`flows/<id>.examples.jsonl`): one draft case a line (`input.messages`
    and `expected.step`), or one transcript (`messages`, each agent message with its `step` and `acts`); a
    line that is neither, or names a step the flow does not have, is named with its number."""
    moments: list[LabelledMoment] = []
    turns: list[LabelledTurn] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise KnowledgeError(path, f"cannot be read ({exc.strerror})") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise KnowledgeError(where, f"not valid JSON ({exc.msg} at column {exc.colno})") from exc
        if isinstance(data, dict) and "messages" in data and "input" not in data:
            found, said = _from_transcript(data, where, flow)
            moments.extend(found)
            turns.extend(said)
        else:
            moments.append(_from_case(data, where, flow))
    return FlowExamples(moments=tuple(moments), turns=tuple(turns))


def load_flow_examples(flows_dir: Path, flows: dict[str, Flow]) -> dict[str, FlowExamples]:
    """The labelled conversations kept next to the flows, by flow id; a file for no flow is an error."""
    examples = {}
    for path in sorted(flows_dir.glob(f"*{EXAMPLES_SUFFIX}")):
        flow_id = path.name.removesuffix(EXAMPLES_SUFFIX)
        if flow_id not in flows:
            raise KnowledgeError(path, f"no flow '{flow_id}' for these examples; "
                                 f"flows: {', '.join(sorted(flows))}")
        examples[flow_id] = load_examples(path, flows[flow_id])
    return examples
