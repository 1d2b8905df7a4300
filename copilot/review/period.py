"""The period a review covers: whole local days of the team, from `since` to `until`, and the instant lists
are judged at (now, or the end of the period when it is over)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from copilot.errors import InvalidRequestError

MAX_DAYS = 366
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    zone: ZoneInfo
    now: float

    @classmethod
    def parse(cls, since: str, until: str | None, zone: ZoneInfo, now: float | None = None) -> Period:
        """`since`: `7d` (the 7 days ending on `until`) or a date; `until`: a date or `today` (the
        default)."""
        now = time.time() if now is None else now
        today = datetime.fromtimestamp(now, zone).date()
        last = today if until in (None, "", "today") else _date(str(until), "until")
        days = re.fullmatch(r"(\d{1,3})d", since.strip())
        if days:
            count = int(days.group(1))
            if not 1 <= count <= MAX_DAYS:
                raise InvalidRequestError(f"since: '{since}' must be between 1d and {MAX_DAYS}d")
            first = last - timedelta(days=count - 1)
        else:
            first = _date(since, "since")
        if first < EARLIEST:
            raise InvalidRequestError(f"since: the period would start before {EARLIEST}")
        if first > last:
            raise InvalidRequestError(f"since: {first} is after until {last}")
        if (last - first).days >= MAX_DAYS:
            raise InvalidRequestError(f"the period {first} to {last} is longer than {MAX_DAYS} days")
        return cls(first, last, zone, now)

    @property
    def days(self) -> list[str]:
        return [
            (self.first + timedelta(days=n)).isoformat() for n in range((self.last - self.first).days + 1)
        ]

    @property
    def start(self) -> float:
        return datetime.combine(self.first, datetime.min.time(), self.zone).timestamp()

    @property
    def end(self) -> float:
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time(), self.zone).timestamp()

    @property
    def as_of(self) -> float:
        """Who is still waiting, judged now, or at the end of a period that is over."""
        return min(self.now, self.end)


def _date(value: str, name: str) -> date:
    try:
        found = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidRequestError(
            f"{name}: '{value}' is not a date (YYYY-MM-DD) or a number of days (7d)"
        ) from None
    if not EARLIEST <= found <= LATEST:
        raise InvalidRequestError(f"{name}: {found} is not between {EARLIEST} and {LATEST}")
    return found
