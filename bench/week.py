"""A synthetic week of support conversations with time, for the weekly review's sample and its benchmark.

Marketplace chats (Shopee, Lazada, TikTok Shop, in Vietnamese) and live chat for app merchants (in English),
several agents, a fixed seed: some conversations are never answered, some answered late, some promise a time
and update later, some forget the review ask or break a marketplace rule, some ask what the knowledge base
does not answer. Agents reply with saved messages (as the team's routine says), so their sentences repeat;
customers' messages carry order codes and vary.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
PLATFORMS = (("shopee", 0.42), ("lazada", 0.18), ("tiktok", 0.15), ("livechat", 0.25))
AGENTS = {"livechat": ("minh", "linh", "an"), "shopee": ("hoa", "tuan", "mai", "minh"),
          "lazada": ("tuan", "mai"), "tiktok": ("hoa", "linh")}
CUSTOMERS = ("Lan", "Hùng", "Trang", "Nam", "Vy", "Phúc", "Thảo", "Quân", "Ngọc", "Bảo", "Anna",
             "Tom", "Priya", "Marco", "Sofia", "Kenji")

PHRASES = Path(__file__).with_name("week.yaml")


@dataclass(frozen=True)
class WeekShape:
    """How often each kind of trouble happens (shares of the conversations)."""

    unanswered: float = 0.04
    slow: float = 0.10
    broken_promise: float = 0.08
    open_promise: float = 0.02
    no_review_ask: float = 0.15
    violation: float = 0.03
    gap: float = 0.07
    rated: float = 0.55
    off_hours: float = 0.08


@lru_cache(maxsize=1)
def phrases() -> dict[str, dict[str, dict[str, Any]]]:
    """What customers ask per intent and what agents answer per step, per language (`week.yaml`)."""
    loaded: dict[str, dict[str, dict[str, Any]]] = yaml.safe_load(PHRASES.read_text(encoding="utf-8"))
    return loaded


def synthetic_week(
    count: int, end: date, seed: int = 17, shape: WeekShape | None = None
) -> Iterator[dict[str, Any]]:
    """`count` conversations started over the 7 days ending on `end` (Vietnam time), as import lines."""
    rng = random.Random(seed)
    shape = shape or WeekShape()
    first = datetime.combine(end - timedelta(days=6), datetime.min.time(), ZONE)
    for number in range(count):
        platform = rng.choices([p for p, _ in PLATFORMS], [w for _, w in PLATFORMS])[0]
        yield _conversation(rng, shape, platform, first, number)


def _start(rng: random.Random, shape: WeekShape, first: datetime) -> datetime:
    day = first + timedelta(days=rng.randrange(7))
    if rng.random() < shape.off_hours:
        return day + timedelta(hours=rng.choice([6, 7, 18, 20, 22]), minutes=rng.randrange(60))
    return day + timedelta(hours=8, minutes=rng.randrange(9 * 60))


def _conversation(rng: random.Random, shape: WeekShape, platform: str, first: datetime,
                  number: int) -> dict[str, Any]:
    """One conversation on `platform` as an import line: never answered, left on an open promise, or answered
    through the flow to the farewell (slow, late on its promise, breaking a rule or without the review ask,
    as `shape` says)."""
    vietnamese = platform != "livechat"
    language = "vi" if vietnamese else "en"
    asks: dict[str, list[str]] = phrases()["asks"][language]
    intent = "gap" if rng.random() < shape.gap else rng.choice([i for i in asks if i != "gap"])
    customer, agent = rng.choice(CUSTOMERS), rng.choice(AGENTS[platform])
    code = f"{rng.randrange(10**9, 10**10):X}"
    talk = _Talk(rng, phrases()["replies"][language], customer, agent, _start(rng, shape, first))
    talk.customer_says(rng.choice(asks[intent]).format(code=code))
    record: dict[str, Any] = {"id": f"{platform}-{talk.at:%Y%m%d}-{number:06d}", "platform": platform,
                              "customer": {"name": customer}, "agent": {"name": agent.title()}}
    if rng.random() < shape.unanswered:
        if rng.random() < 0.5:
            talk.wait(minutes=rng.randrange(5, 50))
            talk.customer_says(rng.choice(talk.replies["chaser"]))
        return {**record, "messages": talk.messages, "status": "open"}
    order = f"mã đơn {code}" if vietnamese else f"store {code}.myshopify.com"
    promise = _greet_and_promise(talk, shape, intent, order)
    kind = rng.random()
    if kind < shape.open_promise:
        return {**record, "messages": talk.messages, "status": "open"}
    late = kind < shape.open_promise + shape.broken_promise
    _solve_and_close(talk, shape, intent, _minutes_promised(promise), late)
    record.update(messages=talk.messages, status="resolved", resolved_at=talk.at.isoformat())
    if vietnamese and rng.random() < shape.rated:
        record["rating"] = rng.choice([1, 2, 3, 4]) if late else _rating_on_time(rng)
    return record


@dataclass
class _Talk:
    """A conversation being written: its messages so far and the time of the last one."""

    rng: random.Random
    replies: dict[str, Any]
    customer: str
    agent: str
    at: datetime
    messages: list[dict[str, Any]] = field(default_factory=list)

    def wait(self, **duration: float) -> None:
        self.at += timedelta(**duration)

    def saved_reply(self, step: str) -> str:
        """One of the agents' saved messages for `step`, the names filled in."""
        text = str(self.rng.choice(self.replies[step]))
        return text.format(customer=self.customer, agent=self.agent.title())

    def customer_says(self, text: str) -> None:
        self.messages.append(_say("customer", text, self.at))

    def agent_says(self, text: str) -> None:
        self.messages.append(_say("agent", text, self.at, self.agent))


def _greet_and_promise(talk: _Talk, shape: WeekShape, intent: str, order: str) -> str:
    """The agent's greeting (sometimes slow), empathy when the trouble calls for it, the probing question, the
    customer's `order`, then the agent's promise of a time, which is returned."""
    rng = talk.rng
    talk.wait(minutes=rng.uniform(150, 600) if rng.random() < shape.slow else rng.lognormvariate(1.4, 0.7))
    talk.agent_says(talk.saved_reply("greeting"))
    if intent in ("return_refund", "shipping_delay", "app_bug") or rng.random() < 0.2:
        talk.wait(seconds=rng.randrange(20, 90))
        talk.agent_says(talk.saved_reply("empathy"))
    talk.wait(seconds=rng.randrange(30, 120))
    talk.agent_says(talk.saved_reply("probing"))
    talk.wait(minutes=rng.uniform(1, 6))
    talk.customer_says(order)
    talk.wait(seconds=rng.randrange(30, 120))
    promise = talk.saved_reply("set_expectation")
    talk.agent_says(promise)
    return promise


def _minutes_promised(promise: str) -> int:
    return 15 if "15" in promise else 10 if "10" in promise else 5 if "5" in promise else 3


def _solve_and_close(talk: _Talk, shape: WeekShape, intent: str, promised: int, late: bool) -> None:
    """The answer (on time or `late` on the `promised` minutes; sometimes breaking a marketplace rule), the
    result, the customer's closing, what else the agent can do, and the farewell (sometimes without the
    review ask)."""
    rng = talk.rng
    talk.wait(minutes=promised + rng.uniform(10, 40) if late else rng.uniform(0.5, promised * 0.9))
    troubleshoot = talk.replies["troubleshoot"][intent]
    if rng.random() < shape.violation:
        troubleshoot = rng.choice(talk.replies["violation"])
    talk.agent_says(troubleshoot)
    talk.wait(minutes=rng.uniform(1, 5))
    talk.agent_says(talk.saved_reply("update_result"))
    talk.wait(minutes=rng.uniform(1, 4))
    talk.customer_says(rng.choice(talk.replies["closing"]))
    talk.wait(seconds=rng.randrange(30, 120))
    talk.agent_says(talk.saved_reply("achieve_more"))
    talk.wait(seconds=rng.randrange(20, 90))
    talk.agent_says(talk.saved_reply("farewell_no_ask" if rng.random() < shape.no_review_ask else "farewell"))


def _rating_on_time(rng: random.Random) -> int:
    """A marketplace rating for a conversation answered on its promise: mostly five stars."""
    return rng.choices([5, 4, 3, 2, 1], [0.62, 0.2, 0.07, 0.05, 0.06])[0]


def _say(role: str, text: str, at: datetime, author: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": role, "text": text, "at": at.isoformat(timespec="seconds")}
    if author:
        message["author"] = author
    return message


def write_week(path: Path, count: int, end: date, seed: int = 17) -> int:
    """Write the synthetic week as a JSONL import file; returns the number of conversations."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for record in synthetic_week(count, end, seed):
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return count
