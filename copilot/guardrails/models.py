"""What a guardrail check takes and returns, shaped as the public contract says."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["block", "warn"]


class Violation(BaseModel):
    """One broken rule: which, how serious, what to tell the agent, and where in the text."""

    model_config = ConfigDict(frozen=True)

    rule: str
    severity: Severity
    message: str
    span: tuple[int, int] = Field(description="Start and end offsets of the offending text.")


class CheckResult(BaseModel):
    """`allowed` is false exactly when some violation has severity `block`."""

    allowed: bool
    violations: list[Violation] = Field(default_factory=list)

    @classmethod
    def of(cls, violations: list[Violation]) -> CheckResult:
        ordered = sorted(violations, key=lambda v: (v.span[0], v.rule))
        return cls(allowed=not any(v.severity == "block" for v in ordered), violations=ordered)

    def rules(self) -> list[str]:
        return sorted({violation.rule for violation in self.violations})


class CheckContext(BaseModel):
    """Where the text will be sent: platform, flow and step decide which rules apply."""

    model_config = ConfigDict(frozen=True)

    platform: str = "livechat"
    flow: str = "livechat"
    step: str | None = None
    language: str = "en"
    review_ask_required: bool = False
    marketplace: bool = False
    said: tuple[str, ...] | None = None  # the conversation's messages before a draft; None: not a draft
