"""`copilot bench` measures (never asserts) speed; these check its pieces and that one tiny run reports every
line. No timing is asserted here: speed goals are only measured by the bench itself."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openai
import pytest
from typer.testing import CliRunner

from bench import BenchConfig, BenchResults, goals, markdown, percentiles, run_bench
from bench.http_bench import LoadRun, MemoryTrace, Overhead, ServedResults
from bench.http_load import LoadResult
from bench.ingest import IngestSpeed
from bench.openai_server import FakeOpenAIServer, answer_at_once, instant_reply
from bench.runner import ScaledSearch
from bench.stats import Timing
from bench.synthetic import SyntheticKnowledge, long_conversation
from bench.workload import Workload, renewed
from copilot import Copilot, Settings
from copilot.cli import app
from copilot.contracts import DraftRequest
from copilot.retrieval.chunking import Chunk


def test_percentiles_of_known_values() -> None:
    assert percentiles([float(v) for v in range(1, 101)]) == (50.5, 95.05, 99.01)
    assert percentiles([7.0]) == (7.0, 7.0, 7.0)


SYSTEM = "You write replies.\nRules:\n- Never ask the buyer to cancel.\n\nExamples of good lines:\n" \
         "- Hi {customer_name}, thanks for reaching out!\n- Happy to help."


def test_instant_reply_is_the_first_example_line_with_the_first_passage_cited() -> None:
    with_passage = [{"role": "system", "content": SYSTEM},
                    {"role": "user", "content": "<passages>\n[1] A — B"}]
    assert instant_reply(with_passage) == "Hi , thanks for reaching out! [1]"
    assert instant_reply([{"role": "system", "content": "Examples:\n- (none)"}]) == "OK."


def test_the_fake_llm_answers_at_once_the_openai_client_plain_and_streamed() -> None:
    messages: Any = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "hello"}]
    with FakeOpenAIServer(responder=answer_at_once) as llm:
        client = openai.OpenAI(base_url=llm.base_url, api_key="none", max_retries=0)
        answer = client.chat.completions.create(model="instant", messages=messages)
        streamed = list(client.chat.completions.create(model="instant", messages=messages, stream=True))
        calls, busy = llm.busy()
        broken = httpx.post(f"{llm.base_url}/chat/completions", content=b"{not json")
        elsewhere = httpx.post(f"{llm.base_url}/embeddings", json={"input": "x"})
    assert (broken.status_code, elsewhere.status_code) == (400, 404)
    assert answer.choices[0].message.content == "Hi , thanks for reaching out!"
    pieces = [c.choices[0].delta.content or "" for c in streamed if c.choices]
    assert "".join(pieces) == "Hi , thanks for reaching out!"
    assert streamed[-1].choices[0].finish_reason == "stop"
    assert calls == 2 and busy > 0


def chunk(number: int, language: str, text: str) -> Chunk:
    return Chunk(id=f"doc{number}::000", doc_id=f"doc{number}", title=f"Title {number}", section="Reply",
                 kind="faq", text=text, fingerprint="f", source="x.md", platforms=("shopee",),
                 steps=("troubleshoot",), languages=(language,))


BASE = [chunk(0, "en", "Open the theme editor. Enable the app embed. Save."),
        chunk(1, "vi", "Anh/chị vào mục Đơn hàng. Bấm Hủy đơn. "
                       "Shop sẽ xác nhận ngay ạ.")]


def test_synthetic_knowledge_has_the_size_asked_with_the_metadata_of_real_chunks() -> None:
    grown = SyntheticKnowledge.grow(BASE, 203, seed=1)
    assert len(grown.chunks) == 203 and len({c.id for c in grown.chunks}) == 203
    assert grown.chunks[:2] == BASE and grown.real == 2
    for chunk_, origin in zip(grown.chunks[2:], grown.origins[2:], strict=True):
        model = BASE[origin]
        assert (chunk_.title, chunk_.platforms, chunk_.steps, chunk_.languages) == (
            model.title, model.platforms, model.steps, model.languages)
    vietnamese = [c.text for c, o in zip(grown.chunks[2:], grown.origins[2:], strict=True) if o == 1]
    assert any("đơn" in text for text in vietnamese)
    assert any("don" in text and "đơn" not in text for text in vietnamese)
    assert len(SyntheticKnowledge.grow(BASE, 1).chunks) == 1


def test_synthetic_vectors_are_unit_length_and_close_to_the_chunk_they_grew_from() -> None:
    base_vectors = np.eye(2, 16, dtype=np.float32)
    grown = SyntheticKnowledge.grow(BASE, 50)
    vectors = grown.vectors(base_vectors)
    assert vectors.shape == (50, 16) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors[:2], base_vectors)
    similarity = np.sum(vectors * base_vectors[grown.origins], axis=1)
    assert similarity[2:].min() > 0.7 and not math.isclose(float(similarity[2:].max()), 1.0, abs_tol=1e-4)


CASES = [
    {"platform": "livechat", "messages": [{"role": "customer", "text": "My popup is gone"},
                                          {"role": "agent", "text": "Hi, I am Anna. Let me check."},
                                          {"role": "customer", "text": "Thanks"}]},
    {"platform": "shopee", "messages": [{"role": "customer", "text": "Shop ơi hủy đơn giúp em"}]},
]


def test_long_conversations_alternate_and_end_with_the_customer() -> None:
    for length in (1, 2, 20, 200):
        request = DraftRequest.model_validate(long_conversation(CASES, length, seed=length))
        roles = [m.role for m in request.messages]
        assert len(roles) == length and roles[-1] == "customer"
        assert all(a != b for a, b in pairwise(roles))


def test_a_renewed_request_changes_only_the_messages_asked() -> None:
    whole, following = renewed(CASES[0], 7), renewed(CASES[0], 8, whole=False)
    assert [m["text"].endswith(" #7") for m in whole["messages"]] == [True, True, True]
    assert [m["text"].endswith(" #8") for m in following["messages"]] == [False, True, True]
    assert CASES[0]["messages"][0]["text"] == "My popup is gone"


def test_a_broken_dataset_case_is_named(tmp_path: Path) -> None:
    write_datasets(tmp_path)
    broken = {"id": "d9", "kind": "draft", "input": {"messages": []}}
    (tmp_path / "drafts.jsonl").write_text(json.dumps(broken))
    with pytest.raises(Exception, match=r"drafts.jsonl, case d9: messages"):
        Workload.load(tmp_path)
    result = CliRunner().invoke(app, ["bench", "--datasets", str(tmp_path / "missing")],
                                catch_exceptions=False)
    assert result.exit_code == 2 and "drafts.jsonl: cannot be read" in result.stderr


def timing(name: str, p95: float) -> Timing:
    return Timing(name, 10, p95 / 2, p95, p95 * 1.2)


def results(quick: bool, draft_p95: float = 20.0) -> BenchResults:
    config = BenchConfig.for_run(quick)
    largest = max(config.sizes)
    run = LoadRun("draft over HTTP, next message, concurrency 8", LoadResult(8, 1.0, [5.0] * 10),
                  timing("h", 60))
    load = LoadRun("load", LoadResult(32, 2.0, [9.0] * 20), timing("l", 90))
    served = ServedResults(2.5, 800.0, 810.0, [run], load, MemoryTrace([800.0, 805.0, 806.0], 900.0))
    return BenchResults(
        config, [0.5, 0.6], 100.0, timing("guardrail check", 0.3), timing("search", 12),
        timing("next", draft_p95), timing("new", 40), served,
        Overhead(timing("t", 10), timing("llm", 1), timing("o", 9), 1.0), IngestSpeed(400, 40.0, 36.0),
        [ScaledSearch(size, "embedded", timing("s", 20)) for size in config.sizes]
        + [ScaledSearch(largest, "server", timing("s", 25))], [], (1000, 20.0) if not quick else None,
    )


def test_every_goal_is_reported_with_its_measured_value_and_verdict() -> None:
    report = markdown(results(quick=False, draft_p95=75.0))
    for goal in goals(results(quick=False)):
        assert f"| {goal.name} | {goal.target} |" in report
    assert "| warm draft p95, in-process (next message) | <= 50 ms | 75 ms | **FAIL** |" in report
    assert "| retrieval p95 at 100,000 chunks, embedded Chroma | <= 30 ms | 20 ms | pass |" in report
    assert "| ingest throughput / raw encode throughput | >= 0.8 | 0.9 | pass |" in report
    assert ("| serving memory (peak RSS of copilot serve after the load test) | <= 1536 MB | 900 MB | pass |"
            in report)
    assert "Load average 0.5 before and 0.6 after" in report
    assert "start 800.0, middle 805.0, end 806.0" in report


def test_quick_run_says_it_did_not_build_100k_chunks() -> None:
    report = markdown(results(quick=True))
    assert ("10,000 chunks, embedded Chroma | <= 30 ms | 20 ms (--quick: 100,000 chunks not built) | "
            "not measured") in report
    assert "| `copilot bench --quick` run time | <= 300 s | 100 s | pass |" in report


def write_datasets(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    cases = {
        "drafts.jsonl": [{"id": f"d{i}", "kind": "draft", "input": case} for i, case in enumerate(CASES)],
        "guardrails.jsonl": [{"id": "g1", "kind": "guardrail", "input": {
            "text": "Please cancel the order yourself.", "platform": "shopee", "step": "troubleshoot"}}],
        "retrieval.jsonl": [{"id": "r1", "kind": "retrieval", "input": {"q": "popup not showing"}},
                            {"id": "r2", "kind": "retrieval",
                             "input": {"q": "huy don", "platform": "shopee"}}],
    }
    for name, lines in cases.items():
        (folder / name).write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n")
    return folder


@pytest.mark.slow
@pytest.mark.integration
def test_a_tiny_bench_run_reports_every_part(make_knowledge: Callable[..., Path], tmp_path: Path) -> None:
    copilot = Copilot(Settings(knowledge_dir=make_knowledge(), index_dir=tmp_path / "index",
                               data_dir=tmp_path / "data"))
    copilot.warm_up()
    config = BenchConfig(quick=True, rounds=1, sizes=(20, 40), search_rounds=1, ingest_copies=2,
                         growth_lengths=(2, 6), growth_conversations=1, growth_rounds=1,
                         http_counts=((1, 2), (8, 8)), load_seconds=1, llm_drafts=2, evaluation=False)
    done = run_bench(copilot, config, write_datasets(tmp_path / "datasets"), tmp_path / "work")
    assert done.served is not None and done.served.load is not None and done.overhead is not None
    assert done.served.load.result.errors == 0 and done.served.load.result.requests > 0
    assert done.served.memory.samples and done.served.cold_start_s > 0
    assert done.overhead.llm_calls_per_draft >= 1
    assert [(s.chunks, s.store) for s in done.scaled] == [(20, "embedded"), (20, "exact"), (40, "embedded"),
                                                          (40, "exact"), (40, "server")]
    assert [(c.chunks, c.messages) for c in done.growth] == [(20, 2), (20, 6), (40, 2), (40, 6)]
    assert done.ingest is not None and done.ingest.chunks > 0
    measured = [goal for goal in goals(done) if goal.passed is not None]
    assert len(measured) == len(goals(done)) - 2  # only the 100k rows: this run stopped at 40 chunks
    assert not (tmp_path / "work").exists()
