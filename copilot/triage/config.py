"""`knowledge/triage.yaml`, validated: the intents, the urgency rules, repeat contacts, sentiment cues,
routing, who goes senior, service levels and the bot's messages. Every decision triage takes comes from
here."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot.errors import KnowledgeError
from copilot.triage.model import IssueType, Urgency
from copilot.yamlio import Patterns, load_yaml_mapping, validate_model


class Intent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    issue_type: IssueType
    answerable: bool = False
    description: str = ""
    patterns: Patterns = ()
    exemplars: tuple[str, ...] = ()


class OutOfScope(BaseModel):
    """When a message is none of the intents: its closest intent's similarity is under the level that would
    reject `rejects` of the examples held out one at a time. It then takes `intent` and goes to a person."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rejects: float = Field(gt=0, lt=0.5)
    intent: str | None = None


class UrgencyRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    level: Urgency
    reason: str
    patterns: Patterns = Field(min_length=1)
    # Found earlier in the same sentence as the match ("if it arrives damaged", "nếu muốn hủy"), these
    # make it a question about what could happen, not a report of what did: the rule does not fire on that
    # match.
    not_after: Patterns = ()
    route: str | None = None
    handoff: bool = False


class Routing(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default: str
    by_issue_type: dict[str, str] = Field(default_factory=dict)
    # the team of an issue type on a marketplace platform (platforms.yaml), before `by_issue_type`
    marketplace_by_issue_type: dict[str, str] = Field(default_factory=dict)
    by_intent: dict[str, str] = Field(default_factory=dict)
    vip_problem: str | None = None
    escalate: dict[str, str] = Field(default_factory=dict)


class Senior(BaseModel):
    """Who goes to the senior level: a customer of one of `tiers` with a problem (an issue of one of
    `problems`, upset, or more than a plain question), raised to high and routed to `routing.vip_problem`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tiers: tuple[str, ...] = ()
    problems: tuple[IssueType, ...] = ()


class TriageConfig(BaseModel):
    """`knowledge/triage.yaml`, validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    answer_step: str
    auto_reply_threshold: float = Field(ge=0, le=1)
    # the answer unit's probability the bot needs to send it alone (no agent reads it first); None: the
    # drafts' threshold of answers.yaml
    answer_threshold: float | None = Field(default=None, ge=0, le=1)
    bot: dict[str, str] = Field(default_factory=dict)
    intents: dict[str, Intent] = Field(min_length=1)
    out_of_scope: OutOfScope | None = None
    urgency_rules: tuple[UrgencyRule, ...] = ()
    repeat_contact: Patterns = ()
    sentiment: dict[Literal["negative", "positive"], Patterns] = Field(default_factory=dict)
    routing: Routing
    senior: Senior = Field(default_factory=Senior)
    feedback_issue_types: tuple[IssueType, ...] = Field(
        default=(),
        description="Ideas and praise: low, unless the message is high or urgent "
        "(then the next likely type).",
    )
    sla_minutes: dict[str, dict[Urgency, int]]
    sla_channel: dict[str, str] = Field(default_factory=dict)
    holding_message: dict[str, str]
    thanks_message: dict[str, str] = Field(default_factory=dict)
    wait_words: dict[str, dict[str, str]]

    @classmethod
    def load(cls, path: Path) -> TriageConfig:
        config = validate_model(cls, load_yaml_mapping(path), path)
        scope = config.out_of_scope
        if scope is not None and scope.intent is not None and scope.intent not in config.intents:
            raise KnowledgeError(path, f"unknown intent '{scope.intent}'; the intents are: "
                                 f"{', '.join(config.intents)}", field="out_of_scope.intent")
        return config

    @property
    def fallback_intent(self) -> str:
        """The intent of a message that is none of the team's needs: `out_of_scope.intent`, else `other` when
        the table has it, else the first intent."""
        scope = self.out_of_scope.intent if self.out_of_scope is not None else None
        return scope or ("other" if "other" in self.intents else next(iter(self.intents)))

    def examples(self) -> list[tuple[str, dict[str, str]]]:
        """Each intent's exemplars, as examples of that intent alone."""
        return [(text, {"intent": name})
                for name, intent in self.intents.items() for text in intent.exemplars]

    def names(self) -> list[tuple[str, str]]:
        """Each intent's name (in words) and description, with the intent: what the need model also learns."""
        return [(text, name) for name, intent in self.intents.items()
                for text in (name.replace("_", " "), intent.description) if text.strip()]
