"""A separate process for the feedback store tests.

    python feedback_worker.py write DB PREFIX DRAFTS    # DRAFTS drafts, each with one verdict; prints "done"
    python feedback_worker.py lock DB SECONDS           # holds an EXCLUSIVE lock on DB; prints "locked"
"""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

from copilot.contracts import DraftRequest, DraftResponse, GuardrailVerdict
from copilot.feedback import Action, FeedbackRequest, FeedbackStore

ACTIONS: tuple[Action, ...] = ("accepted", "edited", "rejected")


def draft_pair(draft_id: str) -> tuple[DraftRequest, DraftResponse]:
    """A stored draft's request and response, as the drafting route records them."""
    request = DraftRequest.model_validate(
        {"platform": "shopee", "messages": [{"role": "customer", "text": "hi"}]}
    )
    response = DraftResponse(draft_id=draft_id, draft="Dạ em chào chị ạ.", step="greeting",
                             next_steps=[], steps_done=[], language="vi", citations=[],
                             guardrails=GuardrailVerdict(allowed=True), model="local", latency_ms=1.0)
    return request, response


def write(store: FeedbackStore, prefix: str, drafts: int) -> None:
    """`drafts` drafts and one verdict on each: 2 x `drafts` writes."""
    for number in range(drafts):
        draft_id = f"{prefix}-{number}"
        store.record_draft(*draft_pair(draft_id))
        store.record_feedback(FeedbackRequest(draft_id=draft_id, action=ACTIONS[number % 3]))


def main(command: str, database: str, *rest: str) -> None:
    if command == "write":
        write(FeedbackStore(Path(database)), rest[0], int(rest[1]))
        print("done", flush=True)
    elif command == "lock":
        db = sqlite3.connect(database, isolation_level=None)
        db.execute("BEGIN EXCLUSIVE")
        print("locked", flush=True)
        time.sleep(float(rest[0]))
        db.execute("ROLLBACK")
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(*sys.argv[1:])
