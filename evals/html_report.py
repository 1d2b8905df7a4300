"""A self-contained HTML page for an eval report: metrics, failing cases first, draft beside reference."""

from __future__ import annotations

import difflib
import html
from typing import Any

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1f2430;max-width:1200px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #e3e6ec;padding:6px 8px;text-align:left;vertical-align:top}
.bad{color:#b42318;font-weight:600}.good{color:#067647}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:12px}
.box{background:#f7f8fa;border:1px solid #e3e6ec;border-radius:6px;padding:8px}
ins{background:#d1fadf;text-decoration:none}
del{background:#fee4e2}.case{border:1px solid #e3e6ec;border-radius:8px;padding:10px;margin:10px 0}
.muted{color:#667085}
"""


def render(report: dict[str, Any], comparison: dict[str, Any] | None = None) -> str:
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Eval report</title>"
             f"<style>{STYLE}</style></head><body><h1>Support copilot — eval report</h1>"]
    failures = report.get("threshold_failures", [])
    if failures:
        items = "".join(f"<li>{_e(f)}</li>" for f in failures)
        parts.append(f"<p class='bad'>Under threshold:</p><ul>{items}</ul>")
    else:
        parts.append("<p class='good'>Every metric meets its threshold.</p>")
    parts.append(_metrics(report["metrics"], comparison))
    versions = ", ".join(f"{name} v{version}" for name, version in report.get("evaluators", {}).items())
    parts.append(f"<p class='muted'>Evaluators: {_e(versions)}</p>")
    cases = sorted(report["cases"], key=lambda c: (c["passed"], c["kind"], c["id"]))
    failing = [c for c in cases if not c["passed"]]
    parts.append(f"<h2>Cases: {len(failing)} failing of {len(cases)} (failing first)</h2>")
    parts += [_case(case) for case in cases[:400]]
    return "\n".join(parts) + "</body></html>\n"


def _e(value: Any) -> str:
    return html.escape(str(value))


def _metrics(metrics: dict[str, float], comparison: dict[str, Any] | None) -> str:
    rows = []
    for name, value in metrics.items():
        delta = ""
        if comparison and comparison["metrics"].get(name, {}).get("delta") is not None:
            change = comparison["metrics"][name]["delta"]
            delta = f"<span class='{'bad' if change < 0 else 'good'}'>{change:+.3f}</span>" if change else "="
        rows.append(f"<tr><td>{_e(name)}</td><td>{value:.3f}</td><td>{delta}</td></tr>")
    head = "<h2>Metrics</h2><table><tr><th>metric</th><th>value</th><th>change</th></tr>"
    return head + "".join(rows) + "</table>"


def _case(case: dict[str, Any]) -> str:
    status = "<span class='good'>pass</span>" if case["passed"] else "<span class='bad'>FAIL</span>"
    head = f"<div class='case'><b>{_e(case['id'])}</b> · {_e(case['kind'])} · {status}"
    if case["kind"] == "draft":
        body = (f"<div class='muted'>customer: {_e(case['last_message'])}</div>"
                f"<div>step {_e(case['step'])} (expected {_e(case['expected_step'])})"
                f" · scores {_e(case['scores'])} · citations {_e(', '.join(case['citations']))}"
                f" · violations {_e(case['violations'])}</div><div class='pair'>"
                f"<div class='box'><b>draft</b><br>{_diff(case['reference'], case['draft'])}</div>"
                f"<div class='box'><b>reference</b><br>{_e(case['reference'])}</div></div>")
    elif case["kind"] == "guardrail":
        body = (f"<div>{_e(case['platform'])}/{_e(case['step'])}: expected {_e(case['expected'])}, got "
                f"{_e(case['got'])}</div><div class='box'>{_e(case['text'])}</div>")
    elif case["kind"] == "retrieval":
        body = (f"<div>{_e(case['query'])} → rank {_e(case['rank'])}; expected {_e(case['expected'])}; "
                f"got {_e(case['got'])}</div>")
    else:
        body = f"<div class='box'>{_e(case['text'])}</div><div>{_e('; '.join(case['mistakes']))}</div>"
    return head + body + "</div>"


def _diff(reference: str, draft: str) -> str:
    """The draft with words not in the reference marked as insertions."""
    out = []
    for op, _, _, j1, j2 in difflib.SequenceMatcher(a=reference.split(), b=draft.split()).get_opcodes():
        words = _e(" ".join(draft.split()[j1:j2]))
        out.append(words if op == "equal" else f"<ins>{words}</ins>" if words else "")
    return " ".join(part for part in out if part)
