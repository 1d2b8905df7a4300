"""The review's charts as inline SVG: no script, no network, readable in a file opened from a mail."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT, PAD, AXIS, LEGEND = 640, 200, 28, 34, 36


def _percent(value: float) -> str:
    return f"{round(value * 100)}%"


def daily_rate(days: Sequence[dict[str, object]], target: float, title: str, no_data: str) -> str:
    """One bar per day, its response rate, against the dashed target line."""
    inner_height = HEIGHT - PAD - AXIS
    step = (WIDTH - 2 * PAD - LEGEND) / max(len(days), 1)
    parts = [_open("daily-chart", title)]
    for index, day in enumerate(days):
        x = PAD + index * step + step * 0.15
        rate = day.get("response_rate")
        label = str(day["day"])[5:]
        parts.append(f'<text class="axis" x="{x + step * 0.35:.1f}" y="{HEIGHT - 12}" text-anchor="middle">'
                     f"{escape(label)}</text>")
        if not isinstance(rate, int | float):
            parts.append(f'<text class="muted" data-day="{day["day"]}" x="{x + step * 0.35:.1f}" '
                         f'y="{HEIGHT - AXIS - 4}" text-anchor="middle">{escape(no_data)}</text>')
            continue
        height = inner_height * float(rate)
        met = "met" if day.get("at_target") else "missed"
        parts.append(
            f'<rect class="bar {met}" data-testid="daily-bar" data-day="{day["day"]}" data-rate="{rate}" '
            f'x="{x:.1f}" y="{HEIGHT - AXIS - height:.1f}" width="{step * 0.7:.1f}" height="{height:.1f}">'
            f"<title>{day['day']}: {_percent(float(rate))}</title></rect>"
        )
        parts.append(f'<text class="value" x="{x + step * 0.35:.1f}" y="{HEIGHT - AXIS - height - 4:.1f}" '
                     f'text-anchor="middle">{_percent(float(rate))}</text>')
    y = HEIGHT - AXIS - inner_height * target
    parts.append(
        f'<line class="target" data-testid="target-line" data-target="{target}" x1="{PAD}" y1="{y:.1f}" '
        f'x2="{WIDTH - PAD}" y2="{y:.1f}"></line>'
    )
    parts.append(f'<text class="target-label" x="{WIDTH - PAD}" y="{y - 4:.1f}" text-anchor="end">'
                 f"{_percent(target)}</text>")
    return "".join(parts) + "</svg>"


def bars(items: Sequence[tuple[str, float]], chart: str, title: str, percent: bool = False) -> str:
    """Horizontal bars, one per (label, value); values are counts, or shares with `percent`."""
    if not items:
        return ""
    row, label_width = 24, 190
    height = row * len(items) + 8
    top = max((value for _, value in items), default=0) or 1
    scale = 1.0 if percent else top
    parts = [_open(chart, title, height)]
    for index, (label, value) in enumerate(items):
        y = 4 + index * row
        length = (WIDTH - label_width - 70) * (value / scale)
        shown = _percent(value) if percent else f"{value:g}"
        parts.append(
            f'<text class="axis" x="{label_width - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
        )
        parts.append(
            f'<rect class="bar" data-testid="{chart}-bar" data-label="{escape(label)}" data-value="{value}" '
            f'x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 8}">'
            f"<title>{escape(label)}: {shown}</title></rect>"
        )
        parts.append(f'<text class="value" x="{label_width + length + 6:.1f}" y="{y + 15}">{shown}</text>')
    return "".join(parts) + "</svg>"


def compliance(agents: Sequence[dict[str, object]], titles: tuple[str, str], title: str) -> str:
    """Per agent, two bars:
    the share of the flow's steps covered and the share of farewells with a review ask."""
    if not agents:
        return ""
    row, label_width = 40, 120
    height = row * len(agents) + 30
    parts = [_open("compliance-chart", title, height)]
    for index, agent in enumerate(agents):
        y = 4 + index * row
        name = escape(str(agent["agent"]))
        parts.append(f'<text class="axis" x="{label_width - 8}" y="{y + 20}" text-anchor="end">{name}</text>')
        for offset, (key, kind) in enumerate((("steps_covered", "steps"), ("review_asked", "ask"))):
            value = float(agent.get(key) or 0)  # type: ignore[arg-type]
            length = (WIDTH - label_width - 70) * value
            parts.append(
                f'<rect class="bar {kind}" data-testid="compliance-bar" data-agent="{name}" '
                f'data-kind="{key}" data-value="{value}" x="{label_width}" y="{y + 2 + offset * 16}" '
                f'width="{length:.1f}" height="13"><title>{_percent(value)}</title></rect>'
            )
            parts.append(f'<text class="value" x="{label_width + length + 6:.1f}" y="{y + 13 + offset * 16}">'
                         f"{_percent(value)}</text>")
    legend = height - 10
    parts.append(
        f'<rect class="bar steps" x="{label_width}" y="{legend - 9}" width="10" height="10"></rect>'
        f'<text class="axis" x="{label_width + 14}" y="{legend}">{escape(titles[0])}</text>'
        f'<rect class="bar ask" x="{label_width + 200}" y="{legend - 9}" width="10" height="10"></rect>'
        f'<text class="axis" x="{label_width + 214}" y="{legend}">{escape(titles[1])}</text>'
    )
    return "".join(parts) + "</svg>"


def _open(chart: str, title: str, height: int = HEIGHT) -> str:
    return (f'<svg class="chart" data-testid="{chart}" role="img" aria-label="{escape(title)}" '
            f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>')
