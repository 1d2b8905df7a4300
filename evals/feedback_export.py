"""Turning agents' accepted and edited drafts into new reference cases (the text they sent is the
reference)."""

from __future__ import annotations

import json
from pathlib import Path

from copilot.feedback import FeedbackStore
from copilot.knowledge import DEFAULT_FLOW


def export_feedback(store: FeedbackStore, out: Path, flow: str | None = None) -> int:
    """Write one `draft` case per accepted or edited draft (of `flow` only, when given: the file can then be
    kept as the flow's labelled conversations, `knowledge/flows/<flow>.examples.jsonl`); returns how many were
    written."""
    rows = [row for row in store.rated_drafts(("accepted", "edited"))
            if flow is None or row["request"].get("flow", DEFAULT_FLOW) == flow]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for row in rows:
            reference = row["final_text"] if row["action"] == "edited" and row["final_text"] else row["draft"]
            request = {key: value for key, value in row["request"].items() if key != "step"}
            case = {"id": f"fb-{row['draft_id'][:12]}", "kind": "draft", "input": request,
                    "expected": {"step": row["step"], "reference": reference, "allowed": True},
                    "tags": ["feedback", row["action"]]}
            handle.write(json.dumps(case, ensure_ascii=False) + "\n")
    return len(rows)
