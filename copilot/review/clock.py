"""The service-level clock: it runs only in a channel's business hours (policies/service-levels.md, "How the
clock runs"), in the team's time zone; urgencies a channel answers at any time run on the wall clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from copilot.review.config import DAYS, Hours

MAX_DAYS = 3660  # a span longer than ten years is not a service level


class BusinessClock:
    """Business seconds between two instants, and the instant a number of business seconds after another."""

    def __init__(self, hours: Hours, zone: ZoneInfo, urgency: str | None = None) -> None:
        self.hours = hours
        self.zone = zone
        self.always = urgency is not None and urgency in hours.always_for
        self.open, self.close = hours.minutes()

    def _window_of(self, day: datetime) -> tuple[float, float] | None:
        """The open hours of one local day as epoch seconds, or None on a closed day."""
        if DAYS[day.weekday()] not in self.hours.days:
            return None
        midnight = day.replace(hour=0, minute=0, second=0, microsecond=0)
        opens = midnight + timedelta(minutes=self.open)
        closes = midnight + timedelta(minutes=self.close)
        return opens.timestamp(), closes.timestamp()

    def elapsed(self, start: float, end: float) -> float:
        """Business seconds from `start` to `end` (0 when `end` is not after `start`)."""
        if end <= start:
            return 0.0
        if self.always:
            return end - start
        total = 0.0
        day = datetime.fromtimestamp(start, self.zone)
        for _ in range(MAX_DAYS):
            window = self._window_of(day)
            if window is not None:
                total += max(0.0, min(end, window[1]) - max(start, window[0]))
            day = (day + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
            if day.timestamp() >= end:
                break
        return total

    def after(self, start: float, seconds: float) -> float:
        """The instant at which `seconds` business seconds have run since `start`."""
        if self.always:
            return start + seconds
        left = seconds
        day = datetime.fromtimestamp(start, self.zone)
        for _ in range(MAX_DAYS):
            window = self._window_of(day)
            if window is not None and window[1] > start:
                begin = max(start, window[0])
                if begin + left <= window[1]:
                    return begin + left
                left -= window[1] - begin
            day = (day + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return start + seconds


def local_day(instant: float, zone: ZoneInfo) -> str:
    """The team's local date of an instant, `YYYY-MM-DD`."""
    return datetime.fromtimestamp(instant, zone).date().isoformat()
