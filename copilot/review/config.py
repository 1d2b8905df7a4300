"""`knowledge/review.yaml`: the team's targets, hours, reasons and promises that the weekly review applies."""

from __future__ import annotations

import re
from datetime import time
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from copilot.errors import KnowledgeError
from copilot.text import fold
from copilot.yamlio import Patterns, load_yaml_mapping, validate_model

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FILE = "review.yaml"


class Hours(BaseModel):
    """When a channel is staffed: the clock of its service levels runs only then."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: tuple[Day, ...] = Field(min_length=1)
    open: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    close: str = Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")
    always_for: tuple[str, ...] = ()

    def minutes(self) -> tuple[int, int]:
        """Opening and closing as minutes after midnight."""
        start, end = (int(part[:2]) * 60 + int(part[3:]) for part in (self.open, self.close))
        if end <= start:
            raise ValueError(f"closes ({self.close}) before it opens ({self.open})")
        return start, end

    def opening(self) -> time:
        return time(int(self.open[:2]), int(self.open[3:]))


class Promises(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    patterns: Patterns = Field(min_length=1)
    seconds: dict[str, int] = Field(min_length=1)


class Ratings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    positive: int = Field(ge=1, le=5)
    negative: int = Field(ge=1, le=5)


class QAWeights(BaseModel):
    """How QA scores a conversation out of 100: points for the flow's steps covered (in proportion), for the
    steps in the flow's order, for the review ask at the end, and for clean messages (less `per_blocking` for
    each blocking rule broken)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: float = Field(default=50, ge=0)
    order: float = Field(default=20, ge=0)
    review_ask: float = Field(default=15, ge=0)
    clean: float = Field(default=15, ge=0)
    per_blocking: float = Field(default=5, ge=0)

    @model_validator(mode="after")
    def _out_of_100(self) -> QAWeights:
        total = self.steps + self.order + self.review_ask + self.clean
        if abs(total - 100) > 1e-9:
            raise ValueError(
                f"steps, order, review_ask and clean must add up to 100 (they add up to {total:g})"
            )
        return self

    @classmethod
    def of(cls, knowledge_dir: Path) -> QAWeights:
        """The `qa` weights of the knowledge folder's review.yaml; the defaults when it has none."""
        path = knowledge_dir / FILE
        if not path.exists():
            return cls()
        raw = load_yaml_mapping(path).get("qa")
        return cls() if raw is None else validate_model(cls, raw, path)


class Gaps(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    heavy_edit: float = Field(gt=0, le=1)
    similar: float = Field(gt=0, le=1)
    limit: int = Field(ge=10, le=100_000)


class ReviewConfig(BaseModel):
    """What the weekly review counts, validated; loaded from the knowledge folder, never written in code."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str
    target: float = Field(gt=0, le=1)
    targets: dict[str, float] = Field(default_factory=dict)
    business_hours: dict[str, Hours]
    automatic_authors: tuple[str, ...] = ()
    order_intents: tuple[str, ...] = ()
    complaint_issue_types: tuple[str, ...] = ()  # the issue types counted as complaints
    reasons: dict[str, Patterns] = Field(default_factory=dict)
    promises: Promises
    ratings: Ratings
    knowledge_gaps: Gaps
    qa: QAWeights = Field(default_factory=QAWeights)
    page_size: int = Field(default=50, ge=5, le=500)
    titles: dict[str, dict[str, str]] = Field(default_factory=dict)

    def title(self, key: str | None, language: str) -> str:
        """How a reason or intent is shown: its title in the language, else its name in words."""
        if not key:
            return "—"
        return self.titles.get(key, {}).get(language) or key.replace("_", " ")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone '{value}' (use a name like Asia/Ho_Chi_Minh)") from exc
        return value

    @field_validator("business_hours")
    @classmethod
    def _with_default(cls, value: dict[str, Hours]) -> dict[str, Hours]:
        if "default" not in value:
            raise ValueError("needs a `default` entry (the hours of every channel not listed)")
        for hours in value.values():
            hours.minutes()
        return value

    @classmethod
    def load(cls, knowledge_dir: Path) -> ReviewConfig:
        path = knowledge_dir / FILE
        if not path.exists():
            raise KnowledgeError(
                path, "missing: the weekly review reads its targets, hours and reasons from it"
            )
        return validate_model(cls, load_yaml_mapping(path), path)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def hours(self, platform: str) -> Hours:
        return self.business_hours.get(platform, self.business_hours["default"])

    def target_of(self, platform: str | None) -> float:
        return self.targets.get(platform, self.target) if platform else self.target

    def automatic(self, author: str | None) -> bool:
        return author is not None and author.strip().lower() in {a.lower() for a in self.automatic_authors}

    @cached_property
    def _reasons(self) -> list[tuple[str, list[re.Pattern[str]]]]:
        return [(name, [re.compile(p) for p in patterns]) for name, patterns in self.reasons.items()]

    def reason(self, text: str) -> str:
        """Why the customer returns, exchanges or cancels: the first reason whose pattern matches."""
        folded = fold(text)
        return next((name for name, patterns in self._reasons if any(p.search(folded) for p in patterns)),
                    "unstated")

    @cached_property
    def _promises(self) -> list[re.Pattern[str]]:
        return [re.compile(p) for p in self.promises.patterns]

    def promised_seconds(self, text: str) -> int | None:
        """The time an agent message promises ("about 2-3 minutes": 180 s), or None."""
        folded = fold(text)
        for pattern in self._promises:
            match = pattern.search(folded)
            if match and match.groupdict().get("n") and match.groupdict().get("unit"):
                unit = match.group("unit")
                key = max((k for k in self.promises.seconds if unit.startswith(k)), key=len, default=None)
                if key is not None:
                    return int(match.group("n")) * self.promises.seconds[key]
        return None
