"""Every operation of the OpenAPI schema, fed valid and invalid inputs by schemathesis (plus Chatwoot-shaped
webhook payloads, whose inner objects the schema leaves open): never a 5xx, and every refusal in the
contract's error shape."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers.qa_kb import REVIEW_YAML
from helpers.triage_kb import TRIAGE_TABLE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.schemas import APIOperation

from api.main import create_app
from copilot import Copilot, Settings
from copilot.retrieval.embedders import HashingEmbedder

pytestmark = pytest.mark.slow
Operation = APIOperation[Any, Any, Any, Any]
Case = schemathesis.Case[Any]
EXAMPLES = {GenerationMode.POSITIVE: 30, GenerationMode.NEGATIVE: 20}
FUZZ = settings(derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck),
                print_blob=False)
# Names the test knowledge base knows: half of the valid cases use them, so requests get past the vocabulary
# checks and reach retrieval, drafting, guardrails, triage and the feedback store.
KNOWN = {
    "platform": ["livechat", "shopee"],
    "flow": ["livechat"],
    "step": ["greeting", "troubleshoot", "farewell"],
    "kind": ["policy", "faq", "playbook"],
    "id": ["shopee-cancel", "popup-not-showing"],
    "section": ["Hủy đơn", "Fix"],
}


@pytest.fixture
def app(make_knowledge: Callable[..., Path], tmp_path: Path) -> Iterator[FastAPI]:
    """The API over the small test knowledge base (with the tests' own triage table and review.yaml), index
    built and one draft stored, so feedback can name it."""
    review = REVIEW_YAML.replace("[return_item, cancel_order, swap_size]", "[cancel_order, size_exchange]")
    knowledge = make_knowledge({"triage.yaml": TRIAGE_TABLE, "review.yaml": review})  # the table's intents
    config = Settings(knowledge_dir=knowledge, index_dir=tmp_path / "index", data_dir=tmp_path / "data")
    with TestClient(create_app(copilot=Copilot(config, embedder=HashingEmbedder()))) as client:
        draft = client.post(
            "/v1/drafts", json={"messages": [{"role": "customer", "text": "popup not showing"}]}
        )
        KNOWN["draft_id"] = [draft.json()["draft_id"]]
        yield client.app  # type: ignore[misc]


@pytest.fixture
def operations(app: FastAPI) -> list[Operation]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), results
    return [result.ok() for result in results if isinstance(result, Ok)]


@st.composite
def cases(draw: st.DrawFn, operation: Operation, mode: GenerationMode) -> Case:
    case: Case = draw(operation.as_strategy(generation_mode=mode))
    if mode is GenerationMode.POSITIVE and draw(st.booleans()):
        for values in (case.body, case.query):
            if isinstance(values, dict):
                for name in KNOWN.keys() & values.keys():
                    values[name] = draw(st.sampled_from(KNOWN[name]))
    return case


def refusal_problem(status: int, content_type: str, text: str) -> str | None:
    """What is wrong with a response: a 5xx, or a 4xx without `{"error": {"code", "message"}}`."""
    if status >= 500:
        return "server error"
    body = json.loads(text) if content_type == "application/json" else None
    error = body.get("error") if status >= 400 and isinstance(body, dict) else {"code": "-", "message": "-"}
    if not (isinstance(error, dict) and set(error) == {"code", "message"} and all(error.values())):
        return "refusal without the error shape"
    return None


def fuzz(operation: Operation, mode: GenerationMode) -> str | None:
    """Run one operation in one generation mode; the shrunk failure, if any."""

    @given(case=cases(operation, mode))
    @settings(FUZZ, max_examples=EXAMPLES[mode])
    def run(case: Case) -> None:
        response = case.call()
        problem = refusal_problem(
            response.status_code, str(response.headers.get("content-type", "")), response.text
        )
        assert problem is None, f"{problem}: {case.method} {case.formatted_path} {case.query or ''} " \
                                f"{str(case.body)[:300]} -> {response.status_code}: {response.text[:300]}"

    try:
        run()
    except AssertionError as exc:
        return f"[{mode.value}] {exc}"
    return None


def modes(operation: Operation) -> list[GenerationMode]:
    """Invalid inputs need an input: an operation without parameters or body gets valid calls only."""
    takes_input = any(True for _ in operation.iter_parameters()) or bool(operation.body)
    return list(EXAMPLES) if takes_input else [GenerationMode.POSITIVE]


def test_no_input_makes_any_operation_fail_and_every_refusal_says_why(operations: list[Operation]) -> None:
    assert len(operations) >= 12
    failures = [failure for op in operations for mode in modes(op) if (failure := fuzz(op, mode))]
    assert not failures, "\n".join(failures)


SCALAR = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
JSON = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
HISTORY_ITEM = st.fixed_dictionaries(
    {},
    optional={
        "message_type": st.sampled_from([0, 1, "incoming", True]) | JSON,
        "content": st.text(max_size=60) | JSON,
    },
)
CONVERSATION = st.fixed_dictionaries(
    {"id": st.integers(0, 10**6) | st.sampled_from(["12", "../../admin", "1/toggle_status", ""]) | JSON},
    optional={
        "messages": st.lists(HISTORY_ITEM, max_size=5) | JSON,
        "channel": JSON | st.just("Channel::Email"),
        "meta": st.fixed_dictionaries({"sender": JSON}) | JSON,
    },
)
WEBHOOK = st.fixed_dictionaries({
    "event": st.just("message_created"), "message_type": st.sampled_from(["incoming", 0]),
    "content": st.text(min_size=1, max_size=80), "conversation": CONVERSATION,
    "account": st.fixed_dictionaries({"id": st.integers(0, 99) | JSON}), "sender": st.dictionaries(
        st.sampled_from(["name", "email"]), JSON | st.text(max_size=150)),
})


def test_chatwoot_payloads_of_any_shape_are_triaged_or_refused_clearly(app: FastAPI) -> None:
    client = TestClient(app, raise_server_exceptions=False)

    @given(payload=WEBHOOK)
    @settings(FUZZ, max_examples=60)
    def run(payload: dict[str, Any]) -> None:
        response = client.post("/v1/integrations/chatwoot/webhook", json=payload)
        problem = refusal_problem(
            response.status_code, str(response.headers.get("content-type", "")), response.text
        )
        assert problem is None, f"{problem}: {payload} -> {response.status_code}: {response.text[:300]}"

    run()
