"""A closed-loop HTTP load generator: `concurrency` clients, each sending its next request as soon as the
previous one is answered, for a number of requests or a duration."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

RequestMaker = Callable[[int], tuple[str, dict[str, Any]]]


@dataclass
class LoadResult:
    """What a run sent and got back; an error is a transport failure or any status other than 200."""

    concurrency: int
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + self.errors

    @property
    def throughput(self) -> float:
        return round(self.requests / self.seconds, 1) if self.seconds else 0.0

    def failed(self, message: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(message)


def run_load(
    base_url: str, make_request: RequestMaker, concurrency: int, *, total: int | None = None,
    seconds: float | None = None, tick: Callable[[], None] | None = None, tick_every: float = 1.0,
) -> LoadResult:
    """Send `make_request(n)` (path, JSON body) for n = 0, 1, ... until `total` requests were started or
    `seconds` have passed; `tick` is called every `tick_every` seconds meanwhile (to sample memory)."""
    if (total is None) == (seconds is None):
        raise ValueError("give either a number of requests or a duration")
    return asyncio.run(_run(base_url, make_request, concurrency, total, seconds, tick, tick_every))


async def _run(
    base_url: str, make_request: RequestMaker, concurrency: int, total: int | None, seconds: float | None,
    tick: Callable[[], None] | None, tick_every: float,
) -> LoadResult:
    result = LoadResult(concurrency)
    counter = iter(range(total if total is not None else 10**12))
    started = time.perf_counter()
    deadline = started + seconds if seconds is not None else float("inf")
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as client:

        async def worker() -> None:
            for number in counter:
                if time.perf_counter() >= deadline:
                    return
                path, body = make_request(number)
                sent = time.perf_counter()
                try:
                    response = await client.post(path, json=body)
                except httpx.HTTPError as exc:
                    result.failed(f"{path}: {type(exc).__name__}: {exc}")
                    continue
                if response.status_code == 200:
                    result.latencies_ms.append((time.perf_counter() - sent) * 1000)
                else:
                    result.failed(f"{path}: HTTP {response.status_code}: {response.text[:200]}")

        async def ticker() -> None:
            while tick is not None:
                tick()
                await asyncio.sleep(tick_every)

        sampler = asyncio.create_task(ticker())
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        sampler.cancel()
    result.seconds = round(time.perf_counter() - started, 3)
    if tick is not None:
        tick()
    return result
