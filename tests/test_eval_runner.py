"""`copilot eval`: one report for every case kind, thresholds that fail CI, comparison, feedback export;
run on a small knowledge base and small datasets written by the tests (`helpers.eval_kb`) with the hashing
embedder. The shipped datasets are checked in `test_shipped_evals.py` (and gated by CI's `copilot eval`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from helpers.eval_kb import (
    AT_THE_FIX,
    AT_THE_FIX_VI,
    BYE_WITHOUT_ASK,
    FAQ_REPLY,
    GREETING_EN,
    SORRY_EN,
    WIDGET_GONE,
    draft_case,
    eval_knowledge,
    guardrail_case,
    hashing_build,
    retrieval_case,
    said,
    write_cases,
)
from typer.testing import CliRunner

from api.main import create_app
from copilot.cli import app, reports
from copilot.flow.flows import load_examples

FAREWELLS = ["bye-en", "bye-vi"]
CASES = [
    draft_case("hello", [WIDGET_GONE], "greeting"),
    draft_case("fix", [WIDGET_GONE, said(GREETING_EN), "how do I bring the widget back?"], "troubleshoot",
               must_cite=["widget-hidden"]),
    draft_case("bye-en", [*AT_THE_FIX, "it is back now, thank you!"], "farewell"),
    draft_case("bye-vi", [*AT_THE_FIX_VI, "hiện lại rồi, cảm ơn shop nhiều"], "farewell", platform="shopee"),
    guardrail_case("g-fine", "Turn the Display switch on and press Save.", []),
    guardrail_case("g-elsewhere", "Mình nhắn qua Zalo cho nhanh nhé.", ["chat_elsewhere"], platform="shopee"),
    guardrail_case("g-rude", "Honestly, that courier is a clown.", ["rude_words"]),
    guardrail_case("g-no-invite", "Thanks for chatting, have a calm evening!", ["review_invite_missing"],
                   step="farewell"),
    retrieval_case("r-widget", "widget not visible on the storefront", ["widget-hidden"]),
    retrieval_case("r-refund", "refund of a yearly plan", ["refund-window"]),
    retrieval_case("r-delivery", "đổi ngày nhận hàng", ["delivery-day"], platform="shopee"),
]


@pytest.fixture
def knowledge(make_knowledge: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    """The small knowledge folder; the `copilot` commands build over it with the hashing embedder."""
    monkeypatch.setattr(reports, "build", hashing_build)
    return eval_knowledge(make_knowledge)


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def evaluate(knowledge: Path, dataset: Path, out: Path, *extra: str) -> Any:
    return run("eval", str(dataset), "--out", str(out), "--no-similarity", "--knowledge", str(knowledge),
               "--index", str(knowledge.parent / "index"), *extra)


def report_of(out: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return report


def test_report_has_metrics_and_cases_and_passes_thresholds(knowledge: Path, tmp_path: Path) -> None:
    dataset = write_cases(tmp_path / "ds" / "cases.jsonl", CASES, {"drafts.review_ask": 1.0})
    result = evaluate(knowledge, dataset, tmp_path / "out")
    assert result.exit_code == 0, result.output
    report = report_of(tmp_path / "out")
    assert report["metrics"]["drafts.review_ask"] == 1.0 and "retrieval.hit@3" in report["metrics"]
    assert report["metrics"]["guardrails.chat_elsewhere.recall"] == 1.0
    kinds = [c["kind"] for c in report["cases"]]  # every case once, in the report's order of kinds
    assert kinds == ["retrieval"] * 3 + ["guardrail"] * 4 + ["draft"] * 4
    assert sorted(c["id"] for c in report["cases"]) == sorted(case["id"] for case in CASES)
    assert report["evaluators"] == {"RetrievalRanks": 1, "ContextRecall": 1, "GuardrailChecks": 1,
                                    "DraftChecks": 2}  # --no-similarity: RagasSimilarity did not score
    assert report["threshold_failures"] == []
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "Every metric meets its threshold" in html
    assert "DraftChecks v2" in html


def test_removing_the_review_ask_from_the_farewell_template_fails_ci(
    make_knowledge: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(reports, "build", hashing_build)
    knowledge = eval_knowledge(make_knowledge, farewell_templates=BYE_WITHOUT_ASK)
    dataset = write_cases(tmp_path / "ds" / "cases.jsonl", CASES, {"drafts.review_ask": 1.0})
    result = evaluate(knowledge, dataset, tmp_path / "out")
    assert result.exit_code == 1
    assert "drafts.review_ask" in result.stderr and "under the threshold" in result.stderr
    report = report_of(tmp_path / "out")
    assert report["metrics"]["drafts.review_ask"] == 0.0
    failing = [c for c in report["cases"] if not c["passed"]]
    assert [c["id"] for c in failing] == FAREWELLS and all(c["step"] == "farewell" for c in failing)
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert html.index("<span class='bad'>FAIL") < html.index("<span class='good'>pass</span>")
    assert failing[0]["id"] in html and "drafts.review_ask" in html


def test_compare_shows_deltas_and_cases_that_got_worse(knowledge: Path, tmp_path: Path) -> None:
    dataset = write_cases(tmp_path / "ds" / "cases.jsonl", CASES, {})
    evaluate(knowledge, dataset, tmp_path / "old")
    old = report_of(tmp_path / "old")
    assert next(c for c in old["cases"] if c["id"] == "hello")["passed"]
    old["metrics"]["retrieval.hit@3"] = 0.0
    better = next(c for c in old["cases"] if c["kind"] == "guardrail")
    better["passed"] = False
    old["evaluators"]["GuardrailChecks"] = 0
    (tmp_path / "old" / "report.json").write_text(json.dumps(old), encoding="utf-8")
    # the greeting case now expects a farewell: it got worse
    write_cases(dataset, [*CASES[1:], draft_case("hello", [WIDGET_GONE], "farewell")])
    result = evaluate(knowledge, dataset, tmp_path / "new", "--compare",
                      str(tmp_path / "old" / "report.json"))
    assert result.exit_code == 0, result.output
    comparison = report_of(tmp_path / "new")["comparison"]
    assert comparison["metrics"]["retrieval.hit@3"]["delta"] > 0
    assert comparison["better"] == [better["id"]] and comparison["worse"] == ["hello"]
    assert comparison["changed_evaluators"] == ["GuardrailChecks"]
    printed = " ".join(result.stdout.split())
    assert "worse: draft hello" in printed and f"better: guardrail {better['id']}" in printed
    assert "their metrics do not compare): GuardrailChecks" in printed


def test_a_bumped_evaluator_version_is_written_into_the_report(
    knowledge: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evals.guardrails import GuardrailChecks

    monkeypatch.setattr(GuardrailChecks, "version", 7)
    result = evaluate(knowledge, write_cases(tmp_path / "ds" / "cases.jsonl", CASES), tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert report_of(tmp_path / "out")["evaluators"]["GuardrailChecks"] == 7
    assert "GuardrailChecks v7" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def test_every_kind_is_read_into_one_case_shape(tmp_path: Path) -> None:
    from copilot.contracts import DraftRequest
    from copilot.triage.contracts import TriageRequest
    from evals.datasets import Known, load_cases

    messages = [{"role": "customer", "text": "doi ngay nhan giup em"}]
    lines = [{"id": "d", "kind": "draft", "input": {"messages": messages}, "expected": {"step": "greeting"},
              "tags": ["vi-unaccented"]},
             {"id": "g", "kind": "guardrail", "input": {"text": "hello"}, "expected": {"allowed": True}},
             {"id": "t", "kind": "triage", "input": {"messages": messages}},
             {"id": "r", "kind": "retrieval", "input": {"q": "doi ngay"}, "expected": {"ids": ["a"]}}]
    dataset = write_cases(tmp_path / "mixed.jsonl", lines)
    cases = load_cases([dataset], Known())
    assert [(c.id, c.kind, c.dataset) for c in cases] == [(x["id"], x["kind"], "mixed") for x in lines]
    assert isinstance(cases[0].input, DraftRequest) and isinstance(cases[2].input, TriageRequest)
    assert cases[0].expected == {"step": "greeting"} and cases[0].tags == ("vi-unaccented",)
    assert cases[1].input == {"text": "hello"} and cases[2].expected == {}
    assert [c.id for c in load_cases([dataset], Known(), "retrieval")] == ["r"]


def test_the_report_loop_averages_each_score_and_keeps_summaries_and_versions() -> None:
    from evals.cases import Case
    from evals.evaluators import Evaluator, Result, Task
    from evals.runner import EvalReport, add

    class FitsIn(Evaluator[str, str]):
        version = 3

        def evaluate(self, case: Case[str], output: str) -> dict[str, float]:
            return {"fits": float(len(output) <= case.expected["max"])}

        def summarize(self, results: Sequence[Result[str, str]]) -> dict[str, float]:
            return {"echo.longest": float(max(len(r.output) for r in results))}

    class Echo(Task[str, str]):
        kind = metrics = "echo"

        def run(self, case: Case[str]) -> str:
            return case.input * 2

        def row(self, result: Result[str, str]) -> dict[str, Any]:
            return {"passed": result.scores["fits"] >= 1.0}

    report = EvalReport()
    cases = [Case("a", "echo", "hi", {"max": 4}), Case("b", "echo", "hey!", {"max": 4})]
    add(report, Echo([FitsIn()]), cases)
    assert report.metrics == {"echo.fits": 0.5, "echo.longest": 8.0}
    assert report.evaluators == {"FitsIn": 3}
    assert report.cases == [{"id": "a", "kind": "echo", "passed": True},
                            {"id": "b", "kind": "echo", "passed": False}]


def test_a_malformed_line_is_named_with_file_line_and_field(knowledge: Path, tmp_path: Path) -> None:
    good = guardrail_case("a", "Press Save.", [])
    bad = {"id": "b", "kind": "draft", "input": {"messages": [{"role": "robot", "text": "beep"}]}}
    result = evaluate(knowledge, write_cases(tmp_path / "bad.jsonl", [good, bad]), tmp_path / "o")
    assert result.exit_code == 2
    assert "bad.jsonl:2" in result.stderr and "input.messages.0.role" in result.stderr


def test_unknown_rule_and_step_ids_are_named(knowledge: Path, tmp_path: Path) -> None:
    unknown_rule = guardrail_case("a", "Press Save.", ["no_such_rule"])
    result = evaluate(knowledge, write_cases(tmp_path / "bad.jsonl", [unknown_rule]), tmp_path / "o")
    assert result.exit_code == 2 and "no_such_rule" in result.stderr and "expected.rules" in result.stderr
    unknown_step = draft_case("b", [WIDGET_GONE], "closing")  # a step of other flows, not of the fixture's
    result = evaluate(knowledge, write_cases(tmp_path / "bad.jsonl", [unknown_step]), tmp_path / "o")
    assert result.exit_code == 2 and "unknown step 'closing'" in result.stderr


def test_accepted_and_edited_drafts_become_reference_cases(knowledge: Path, tmp_path: Path) -> None:
    body = {"platform": "livechat", "messages": [{"role": "customer", "text": "sorted now, thanks a lot!"}]}
    edited = "Happy it is sorted! Two lines of review from you make our week."
    with TestClient(create_app(copilot=hashing_build(knowledge, None))) as client:
        first, second, third = (client.post("/v1/drafts", json=body).json() for _ in range(3))
        client.post("/v1/feedback", json={"draft_id": first["draft_id"], "action": "accepted"})
        client.post("/v1/feedback", json={"draft_id": second["draft_id"], "action": "edited",
                                          "final_text": edited})
        client.post("/v1/feedback", json={"draft_id": third["draft_id"], "action": "rejected"})
    out = tmp_path / "fb.jsonl"
    where = ("--knowledge", str(knowledge), "--out", str(out))
    result = run("eval", "export-feedback", *where)
    assert result.exit_code == 0 and "Exported 2" in result.stdout
    cases = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [c["expected"]["reference"] for c in cases] == [first["draft"], edited]
    assert [c["expected"]["step"] for c in cases] == [first["step"], second["step"]]
    assert cases[0]["kind"] == "draft" and cases[0]["input"]["messages"] == body["messages"]
    result = run("eval", "export-feedback", "--flow", "livechat", *where)
    assert result.exit_code == 0 and "Exported 2" in result.stdout
    flow = hashing_build(knowledge, None).knowledge.flows["livechat"]
    assert [m.step for m in load_examples(out, flow).moments] == [c["expected"]["step"] for c in cases]
    result = run("eval", "export-feedback", "--flow", "nope", *where)
    assert result.exit_code == 2 and "unknown flow 'nope'" in result.stderr


def judge_answer(body: dict[str, Any]) -> str:
    """A scripted judge: the JSON each ragas prompt asks for."""
    prompt = body["messages"][-1]["content"]
    if "judge the faithfulness" in prompt:
        return json.dumps({"statements": [{"statement": "s", "reason": "in the context", "verdict": 1}]})
    if "Break down each sentence" in prompt:
        return json.dumps({"statements": ["The widget shows once its switch is on."]})
    if "noncommittal" in prompt:
        return json.dumps({"question": "how do I bring the widget back?", "noncommittal": 0})
    return json.dumps({"reason": "it does", "verdict": 1})


def test_llm_judged_metrics_run_when_a_judge_is_configured(
    knowledge: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench.openai_server import FakeOpenAIServer
    from evals.runner import run_eval

    cases = [case for case in CASES if case["kind"] == "draft"]
    cases.append(draft_case("upset", [WIDGET_GONE, said(GREETING_EN), "I am fed up, it vanished again"],
                            "empathy"))
    copilot = hashing_build(knowledge, tmp_path / "index")
    copilot.ingest()
    with FakeOpenAIServer(responder=judge_answer) as judge:
        monkeypatch.setenv("COPILOT_JUDGE_BASE_URL", judge.base_url)
        monkeypatch.setenv("COPILOT_JUDGE_MODEL", "judge-model")
        report = run_eval(copilot, [write_cases(tmp_path / "few.jsonl", cases)], similarity=False)
        prompts = [h["messages"][-1]["content"] for h in judge.history]
    rows = {c["id"]: c for c in report.cases}
    assert rows["upset"]["step"] == "empathy" and rows["upset"]["draft"] == SORRY_EN
    assert rows["fix"]["draft"] == FAQ_REPLY and rows["fix"]["citations"][0] == "widget-hidden"
    assert 0.0 <= report.metrics["drafts.judge_relevancy"] <= 1.0
    assert report.metrics["drafts.judge_faithfulness"] == 1.0
    assert report.metrics["drafts.judge_asks_for_review"] == 1.0
    assert report.metrics["drafts.judge_shows_empathy"] == 1.0
    assert report.evaluators["Judge"] == 1
    assert any("Criteria Definition" in p for p in prompts) and all(prompts)


def test_the_answer_trade_off_counts_answers_and_wrong_answers_per_threshold() -> None:
    from evals.answers import Pick, trade_offs

    picks = [Pick(0.9, True), Pick(0.7, False), Pick(0.45, True), Pick(0.1, False)]
    rows = {row.threshold: row for row in trade_offs(picks, thresholds=(0.4, 0.8))}
    assert (rows[0.4].answer_rate, rows[0.4].wrong_rate, rows[0.4].right_rate) == (0.75, 0.25, 0.5)
    assert (rows[0.8].answer_rate, rows[0.8].wrong_rate, rows[0.8].right_rate) == (0.25, 0.0, 0.25)


def test_a_draft_carries_a_fact_in_any_of_its_wordings_folded() -> None:
    from evals.drafts import carries, clean

    groups = [["đổi ngày nhận", "change the delivery day"], ["Đơn mua", "my purchases"]]
    assert carries("Dạ mình vào DON MUA rồi bấm DOI NGAY NHAN nhé", groups)
    assert carries("Open My purchases and change the delivery day there.", groups)
    assert not carries("Dạ mình bấm đổi ngày nhận nhé", groups)
    assert clean("Hello Ravi, see step two [2].") and not clean("Hello [Customer Name], welcome.")
    assert not clean(" ") and not clean("Hello {customer_name}!")


def test_a_threshold_whose_metric_is_missing_fails_and_names_it(knowledge: Path, tmp_path: Path) -> None:
    thresholds = {"drafts.review_ask": 1.0, "drafts.renamed_metric": 0.5}
    result = evaluate(knowledge, write_cases(tmp_path / "ds" / "cases.jsonl", CASES, thresholds),
                      tmp_path / "out")
    assert result.exit_code == 1
    assert "drafts.renamed_metric is missing" in result.stderr
    assert "drafts.review_ask" not in result.stderr  # the threshold that is met is not named
    assert report_of(tmp_path / "out")["threshold_failures"][0].startswith("drafts.renamed_metric is missing")


def test_an_error_metric_over_its_maximum_fails_and_names_it(knowledge: Path, tmp_path: Path) -> None:
    thresholds = {"guardrails.rude_words.recall": {"max": 0.5}, "retrieval.mrr": {"max": 1.0}}
    result = evaluate(knowledge, write_cases(tmp_path / "ds" / "cases.jsonl", CASES, thresholds),
                      tmp_path / "out")
    assert result.exit_code == 1
    assert "guardrails.rude_words.recall = 1.0 is above the maximum 0.5" in " ".join(result.stderr.split())
    assert "retrieval.mrr" not in result.stderr


def test_a_forbidden_phrase_counts_only_as_whole_words() -> None:
    from evals.drafts import says_any

    assert not says_any("What a frustrating morning for you", ["rating"])
    assert says_any("A quick rating would help us", ["rating"])
    assert says_any("Dạ mình bấm Đổi ngày nhận nhé", ["doi ngay nhan"])
