"""Rule packs: guardrail rules as data in `knowledge/rules/*.yaml`, validated and compiled on load."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot.errors import KnowledgeError
from copilot.guardrails.models import CheckContext, Severity
from copilot.yamlio import Patterns, load_yaml_mapping, validate_model

RuleType = Literal["forbidden", "required"]
Repair = Literal["regenerate", "append_template", "fill_slots", "drop_sentence"]


class Scope(BaseModel):
    """Where a rule applies. `platforms`: all, marketplace or a list; `steps`: all, review_ask or a list."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    platforms: Literal["all", "marketplace"] | tuple[str, ...] = "all"
    steps: Literal["all", "review_ask"] | tuple[str, ...] = "all"

    def applies(self, context: CheckContext) -> bool:
        if self.platforms == "marketplace" and not context.marketplace:
            return False
        if isinstance(self.platforms, tuple) and context.platform not in self.platforms:
            return False
        if self.steps == "review_ask":
            return context.review_ask_required
        return not (isinstance(self.steps, tuple) and context.step not in self.steps)


class Exemplars(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    violating: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()


class RuleSpec(BaseModel):
    """One rule of a pack. Patterns are regular expressions matched per sentence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: RuleType
    severity: Severity = "block"
    scope: Scope = Scope()
    match: Literal["folded", "raw"] = Field(
        default="folded",
        description="folded: lower case without diacritics (so 'huy' matches 'hủy'); raw: as typed",
    )
    patterns: Patterns = Field(min_length=1)
    unless: Patterns = Field(default=(), description="A match here in the same sentence clears the rule.")
    always: Patterns = Field(default=(), description="Fires even when an `unless` exception matches.")
    unless_said: bool = Field(
        default=False,
        description="Checks only a draft whose conversation is known; a match of a pattern is allowed when "
                    "the same pattern matches one of the conversation's messages (what was already said or "
                    "shown, such as an action reported done, may be said again).")
    message: dict[str, str] = Field(min_length=1, description="What to tell the agent, per language.")
    repair: Repair = "regenerate"
    exemplars: Exemplars = Exemplars()

    def message_for(self, language: str) -> str:
        return self.message.get(language) or self.message.get("en") or next(iter(self.message.values()))


class RulePack(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    rules: tuple[RuleSpec, ...] = Field(min_length=1)


def load_rule_specs(rules_dir: Path, platforms: set[str], steps: set[str]) -> list[RuleSpec]:
    """All rules of every pack in `rules_dir`; ids unique, platforms and steps known."""
    specs: list[RuleSpec] = []
    origin: dict[str, Path] = {}
    for path in sorted([*rules_dir.glob("*.yaml"), *rules_dir.glob("*.yml")]):
        pack = validate_model(RulePack, load_yaml_mapping(path), path)
        for number, spec in enumerate(pack.rules):
            field = f"rules.{number}"
            if spec.id in origin:
                defined = f"rule '{spec.id}' is already defined in {origin[spec.id]}"
                raise KnowledgeError(path, defined, f"{field}.id")
            _check_scope(spec.scope, platforms, steps, path, field)
            origin[spec.id] = path
            specs.append(spec)
    return specs


def _check_scope(scope: Scope, platforms: set[str], steps: set[str], path: Path, field: str) -> None:
    for name, values, known in (("platforms", scope.platforms, platforms), ("steps", scope.steps, steps)):
        if isinstance(values, tuple):
            unknown = sorted(set(values) - known)
            if unknown:
                raise KnowledgeError(path, f"unknown {name}: {', '.join(unknown)}", f"{field}.scope.{name}")
