"""A synthetic week of support conversations with time, for the weekly review's sample and its benchmark.

Marketplace chats (Shopee, Lazada, TikTok Shop, in Vietnamese) and live chat for app merchants (in English),
several agents, a fixed seed: some conversations are never answered, some answered late, some promise a time
and update later, some forget the review ask or break a marketplace rule, some ask what the knowledge base does
not answer. Agents reply with saved messages (as the team's routine says), so their sentences repeat; customers'
messages carry order codes and vary.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
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
CUSTOMERS = ("Lan", "Hùng", "Trang", "Nam", "Vy", "Phúc", "Thảo", "Quân", "Ngọc", "Bảo", "Anna", "Tom", "Priya",
             "Marco", "Sofia", "Kenji")

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


def synthetic_week(count: int, end: date, seed: int = 17, shape: WeekShape | None = None) -> Iterator[dict[str, Any]]:
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


def _conversation(rng: random.Random, shape: WeekShape, platform: str, first: datetime, number: int) -> dict[str, Any]:
    vietnamese = platform != "livechat"
    language = "vi" if vietnamese else "en"
    asks: dict[str, list[str]] = phrases()["asks"][language]
    replies: dict[str, Any] = phrases()["replies"][language]
    intent = "gap" if rng.random() < shape.gap else rng.choice([i for i in asks if i != "gap"])
    customer, agent = rng.choice(CUSTOMERS), rng.choice(AGENTS[platform])
    code = f"{rng.randrange(10**9, 10**10):X}"
    at = _start(rng, shape, first)
    messages = [_say("customer", rng.choice(asks[intent]).format(code=code), at)]
    record: dict[str, Any] = {"id": f"{platform}-{at:%Y%m%d}-{number:06d}", "platform": platform,
                              "customer": {"name": customer}, "agent": {"name": agent.title()}}
    if rng.random() < shape.unanswered:
        if rng.random() < 0.5:
            later = at + timedelta(minutes=rng.randrange(5, 50))
            messages.append(_say("customer", rng.choice(replies["chaser"]), later))
        return {**record, "messages": messages, "status": "open"}
    slot = {"customer": customer, "agent": agent.title()}
    delay = rng.uniform(150, 600) if rng.random() < shape.slow else rng.lognormvariate(1.4, 0.7)
    at += timedelta(minutes=delay)

    def reply(step: str) -> str:
        return str(rng.choice(replies[step])).format(**slot)

    messages.append(_say("agent", reply("greeting"), at, agent))
    if intent in ("return_refund", "shipping_delay", "app_bug") or rng.random() < 0.2:
        at += timedelta(seconds=rng.randrange(20, 90))
        messages.append(_say("agent", reply("empathy"), at, agent))
    at += timedelta(seconds=rng.randrange(30, 120))
    messages.append(_say("agent", reply("probing"), at, agent))
    at += timedelta(minutes=rng.uniform(1, 6))
    messages.append(_say("customer", f"mã đơn {code}" if vietnamese else f"store {code}.myshopify.com", at))
    at += timedelta(seconds=rng.randrange(30, 120))
    promise = reply("set_expectation")
    messages.append(_say("agent", promise, at, agent))
    promised = 15 if "15" in promise else 10 if "10" in promise else 5 if "5" in promise else 3
    kind = rng.random()
    if kind < shape.open_promise:
        return {**record, "messages": messages, "status": "open"}
    late = kind < shape.open_promise + shape.broken_promise
    at += timedelta(minutes=promised + rng.uniform(10, 40) if late else rng.uniform(0.5, promised * 0.9))
    troubleshoot = replies["troubleshoot"][intent]
    if rng.random() < shape.violation:
        troubleshoot = rng.choice(replies["violation"])
    messages.append(_say("agent", troubleshoot, at, agent))
    at += timedelta(minutes=rng.uniform(1, 5))
    messages.append(_say("agent", reply("update_result"), at, agent))
    at += timedelta(minutes=rng.uniform(1, 4))
    messages.append(_say("customer", rng.choice(replies["closing"]), at))
    at += timedelta(seconds=rng.randrange(30, 120))
    messages.append(_say("agent", reply("achieve_more"), at, agent))
    at += timedelta(seconds=rng.randrange(20, 90))
    messages.append(_say("agent", reply("farewell_no_ask" if rng.random() < shape.no_review_ask else "farewell"), at,
                         agent))
    record.update(messages=messages, status="resolved", resolved_at=at.isoformat())
    if vietnamese and rng.random() < shape.rated:
        record["rating"] = rng.choices([5, 4, 3, 2, 1], [0.62, 0.2, 0.07, 0.05, 0.06])[0] if not late else \
            rng.choice([1, 2, 3, 4])
    return record


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
