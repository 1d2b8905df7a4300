"""`copilot eval`: one report for every case kind, thresholds that fail CI, comparison, feedback export."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from helpers import REPO, SHIPPED_KNOWLEDGE
from typer.testing import CliRunner

from api.main import create_app
from copilot import Copilot, Settings
from copilot.cli import app
from copilot.flow.flows import load_examples

pytestmark = pytest.mark.slow
DATASETS = REPO / "evals" / "datasets"


def farewell_cases(folder: Path, thresholds: dict[str, Any]) -> Path:
    """A small dataset of every farewell case of drafts.jsonl, plus guardrail and retrieval cases."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [line for line in (DATASETS / "drafts.jsonl").read_text(encoding="utf-8").splitlines()
             if json.loads(line)["expected"].get("step") == "farewell"]
    lines += (DATASETS / "guardrails.jsonl").read_text(encoding="utf-8").splitlines()[:20]
    lines += (DATASETS / "retrieval.jsonl").read_text(encoding="utf-8").splitlines()[:10]
    (folder / "cases.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "thresholds.yaml").write_text(yaml.safe_dump(thresholds), encoding="utf-8")
    return folder / "cases.jsonl"


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_report_has_metrics_and_cases_and_passes_thresholds(shipped_copilot: Copilot, tmp_path: Path) -> None:
    dataset = farewell_cases(tmp_path / "ds", {"drafts.review_ask": 1.0})
    result = run("eval", str(dataset), "--out", str(tmp_path / "out"), "--no-similarity",
                 "--index", str(shipped_copilot.settings.index_dir))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["metrics"]["drafts.review_ask"] == 1.0 and "retrieval.hit@3" in report["metrics"]
    assert {c["kind"] for c in report["cases"]} == {"draft", "guardrail", "retrieval"}
    assert report["evaluators"] == {"RetrievalRanks": 1, "ContextRecall": 1, "GuardrailChecks": 1,
                                    "DraftChecks": 2}  # --no-similarity: RagasSimilarity did not score
    html = (tmp_path / "out" / "report.html").read_text()
    assert html.startswith("<!doctype html>") and "Every metric meets its threshold" in html
    assert "DraftChecks v2" in html


def test_removing_the_review_ask_from_the_farewell_template_fails_ci(
    shipped_copilot: Copilot, tmp_path: Path
) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(SHIPPED_KNOWLEDGE, knowledge)
    flow_path = knowledge / "flows" / "livechat.yaml"
    flow = yaml.safe_load(flow_path.read_text(encoding="utf-8"))
    farewell = next(step for step in flow["steps"] if step["id"] == "farewell")
    farewell["templates"] = {"en": ["Thank you so much for your time today, {customer_name}!"],
                             "vi": ["Dạ em cảm ơn anh/chị {customer_name} ạ!"]}
    flow_path.write_text(yaml.safe_dump(flow, allow_unicode=True), encoding="utf-8")
    dataset = farewell_cases(tmp_path / "ds", {"drafts.review_ask": 1.0})
    result = run("eval", str(dataset), "--out", str(tmp_path / "out"), "--no-similarity",
                 "--knowledge", str(knowledge), "--index", str(tmp_path / "index"))
    assert result.exit_code == 1
    assert "drafts.review_ask" in result.stderr and "under the threshold" in result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    failing = [c for c in report["cases"] if c["kind"] == "draft" and not c["passed"]]
    assert failing and all(c["expected_step"] == "farewell" for c in failing)
    html = (tmp_path / "out" / "report.html").read_text()
    assert html.index("<span class='bad'>FAIL") < html.index("<span class='good'>pass</span>")
    assert failing[0]["id"] in html and "drafts.review_ask" in html


def test_compare_shows_deltas_and_cases_that_got_worse(shipped_copilot: Copilot, tmp_path: Path) -> None:
    dataset = farewell_cases(tmp_path / "ds", {})
    index = str(shipped_copilot.settings.index_dir)
    run("eval", str(dataset), "--out", str(tmp_path / "old"), "--no-similarity", "--index", index)
    old = json.loads((tmp_path / "old" / "report.json").read_text())
    old["metrics"]["retrieval.hit@3"] = 0.0
    case = next(c for c in old["cases"] if c["kind"] == "guardrail")
    case["passed"] = False
    old["evaluators"]["GuardrailChecks"] = 0
    (tmp_path / "old" / "report.json").write_text(json.dumps(old))
    result = run("eval", str(dataset), "--out", str(tmp_path / "new"), "--no-similarity", "--index", index,
                 "--compare", str(tmp_path / "old" / "report.json"))
    assert result.exit_code == 0
    comparison = json.loads((tmp_path / "new" / "report.json").read_text())["comparison"]
    assert comparison["metrics"]["retrieval.hit@3"]["delta"] > 0 and case["id"] in comparison["better"]
    assert comparison["changed_evaluators"] == ["GuardrailChecks"]
    assert "their metrics do not compare): GuardrailChecks" in " ".join(result.stdout.split())


def test_a_bumped_evaluator_version_is_written_into_the_report(
    shipped_copilot: Copilot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evals.guardrails import GuardrailChecks

    monkeypatch.setattr(GuardrailChecks, "version", 7)
    dataset = farewell_cases(tmp_path / "ds", {})
    result = run("eval", str(dataset), "--out", str(tmp_path / "out"), "--no-similarity",
                 "--index", str(shipped_copilot.settings.index_dir))
    assert result.exit_code == 0
    assert json.loads((tmp_path / "out" / "report.json").read_text())["evaluators"]["GuardrailChecks"] == 7


def test_every_kind_is_read_into_one_case_shape(tmp_path: Path) -> None:
    from copilot.contracts import DraftRequest
    from copilot.triage.engine import TriageRequest
    from evals.datasets import Known, load_cases

    messages = [{"role": "customer", "text": "huy don giup em"}]
    lines = [{"id": "d", "kind": "draft", "input": {"messages": messages}, "expected": {"step": "greeting"},
              "tags": ["vi-unaccented"]},
             {"id": "g", "kind": "guardrail", "input": {"text": "hi"}, "expected": {"allowed": True}},
             {"id": "t", "kind": "triage", "input": {"messages": messages}},
             {"id": "r", "kind": "retrieval", "input": {"q": "huy don"}, "expected": {"ids": ["a"]}}]
    dataset = tmp_path / "mixed.jsonl"
    dataset.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    cases = load_cases([dataset], Known())
    assert [(c.id, c.kind, c.dataset) for c in cases] == [(x["id"], x["kind"], "mixed") for x in lines]
    assert isinstance(cases[0].input, DraftRequest) and isinstance(cases[2].input, TriageRequest)
    assert cases[0].expected == {"step": "greeting"} and cases[0].tags == ("vi-unaccented",)
    assert cases[1].input == {"text": "hi"} and cases[2].expected == {}
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


def test_a_malformed_line_is_named_with_file_line_and_field(shipped_copilot: Copilot, tmp_path: Path) -> None:
    dataset = tmp_path / "bad.jsonl"
    lines = ['{"id": "a", "kind": "guardrail", "input": {"text": "hi"}, "expected": {"rules": []}}',
             '{"id": "b", "kind": "draft", "input": {"messages": [{"role": "robot", "text": "x"}]}}']
    dataset.write_text("\n".join(lines) + "\n")
    index = str(shipped_copilot.settings.index_dir)
    result = run("eval", str(dataset), "--out", str(tmp_path / "o"), "--index", index)
    assert result.exit_code == 2
    assert "bad.jsonl:2" in result.stderr and "input.messages.0.role" in result.stderr


def test_unknown_rule_and_step_ids_are_named(shipped_copilot: Copilot, tmp_path: Path) -> None:
    dataset = tmp_path / "bad.jsonl"
    dataset.write_text('{"id": "a", "kind": "guardrail", "input": {"text": "hi"}, '
                       '"expected": {"rules": ["nope"]}}\n')
    index = str(shipped_copilot.settings.index_dir)
    result = run("eval", str(dataset), "--out", str(tmp_path / "o"), "--index", index)
    assert result.exit_code == 2 and "nope" in result.stderr
    dataset.write_text('{"id": "a", "kind": "draft", "input": {"messages": [{"role": "customer", '
                       '"text": "x"}]}, "expected": {"step": "closing"}}\n')
    result = run("eval", str(dataset), "--out", str(tmp_path / "o"), "--index", index)
    assert result.exit_code == 2 and "closing" in result.stderr


def test_accepted_and_edited_drafts_become_reference_cases(shipped_copilot: Copilot, tmp_path: Path) -> None:
    settings = Settings(knowledge_dir=SHIPPED_KNOWLEDGE, index_dir=shipped_copilot.settings.index_dir,
                        data_dir=tmp_path / "data")
    body = {"platform": "livechat", "messages": [{"role": "customer", "text": "thanks, all good now!"}]}
    with TestClient(create_app(copilot=Copilot(settings, embedder=shipped_copilot.index.embedder))) as client:
        first = client.post("/v1/drafts", json=body).json()
        second = client.post("/v1/drafts", json=body).json()
        third = client.post("/v1/drafts", json=body).json()
        client.post("/v1/feedback", json={"draft_id": first["draft_id"], "action": "accepted"})
        client.post("/v1/feedback", json={"draft_id": second["draft_id"], "action": "edited",
                                          "final_text": "Hi! Glad to help, a review would mean a lot."})
        client.post("/v1/feedback", json={"draft_id": third["draft_id"], "action": "rejected"})
    out = tmp_path / "fb.jsonl"
    result = run("eval", "export-feedback", "--out", str(out), "--index", str(settings.index_dir))
    assert result.exit_code == 0 and "Exported 2" in result.stdout
    cases = [json.loads(line) for line in out.read_text().splitlines()]
    assert [c["expected"]["reference"] for c in cases] == [first["draft"],
                                                           "Hi! Glad to help, a review would mean a lot."]
    assert cases[0]["kind"] == "draft" and cases[0]["input"]["messages"] == body["messages"]
    flow = shipped_copilot.knowledge.flows["livechat"]
    index = str(settings.index_dir)
    result = run("eval", "export-feedback", "--flow", "livechat", "--out", str(out), "--index", index)
    assert result.exit_code == 0 and "Exported 2" in result.stdout
    assert [m.step for m in load_examples(out, flow).moments] == [c["expected"]["step"] for c in cases]
    result = run("eval", "export-feedback", "--flow", "nope", "--out", str(out), "--index", index)
    assert result.exit_code == 2 and "unknown flow 'nope'" in result.stderr


def judge_answer(body: dict[str, Any]) -> str:
    """A scripted judge: the JSON each ragas prompt asks for."""
    prompt = body["messages"][-1]["content"]
    if "judge the faithfulness" in prompt:
        return json.dumps({"statements": [{"statement": "s", "reason": "in the context", "verdict": 1}]})
    if "Break down each sentence" in prompt:
        return json.dumps({"statements": ["The customer can leave a review."]})
    if "noncommittal" in prompt:
        return json.dumps({"question": "thanks, all good now!", "noncommittal": 0})
    return json.dumps({"reason": "it does", "verdict": 1})


def test_llm_judged_metrics_run_when_a_judge_is_configured(
    shipped_copilot: Copilot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench.openai_server import FakeOpenAIServer
    from evals.runner import run_eval

    every = (DATASETS / "drafts.jsonl").read_text(encoding="utf-8").splitlines()
    lines = [line for step in ("farewell", "empathy", "troubleshoot")
             for line in [x for x in every if json.loads(x)["expected"].get("step") == step][:2]]
    dataset = tmp_path / "few.jsonl"
    dataset.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with FakeOpenAIServer(responder=judge_answer) as judge:
        monkeypatch.setenv("COPILOT_JUDGE_BASE_URL", judge.base_url)
        monkeypatch.setenv("COPILOT_JUDGE_MODEL", "judge-model")
        report = run_eval(shipped_copilot, [dataset], similarity=False)
        prompts = [h["messages"][-1]["content"] for h in judge.history]
    assert 0.0 <= report.metrics["drafts.judge_relevancy"] <= 1.0
    assert report.metrics["drafts.judge_faithfulness"] == 1.0
    assert report.metrics["drafts.judge_asks_for_review"] == 1.0
    assert report.metrics["drafts.judge_shows_empathy"] == 1.0
    assert any("Criteria Definition" in p for p in prompts) and all(h for h in prompts)


def test_the_answer_trade_off_counts_answers_and_wrong_answers_per_threshold() -> None:
    from evals.answers import Pick, trade_offs

    picks = [Pick(0.9, True), Pick(0.7, False), Pick(0.45, True), Pick(0.1, False)]
    rows = {row.threshold: row for row in trade_offs(picks, thresholds=(0.4, 0.8))}
    assert (rows[0.4].answer_rate, rows[0.4].wrong_rate, rows[0.4].right_rate) == (0.75, 0.25, 0.5)
    assert (rows[0.8].answer_rate, rows[0.8].wrong_rate, rows[0.8].right_rate) == (0.25, 0.0, 0.25)


def test_a_draft_carries_a_fact_in_any_of_its_wordings_folded() -> None:
    from evals.drafts import carries, clean

    groups = [["không thể hủy", "cannot be cancelled"], ["Trả hàng/Hoàn tiền", "return/refund"]]
    assert carries("Dạ đơn KHONG THE HUY nữa ạ, chị bấm Trả hàng/Hoàn tiền nhé", groups)
    assert not carries("Dạ đơn không thể hủy nữa ạ", groups)
    assert clean("Hi Lan, thanks [1].") and not clean("Hi [Customer Name], this is.") and not clean(" ")


def test_a_threshold_whose_metric_is_missing_fails_and_names_it(
    shipped_copilot: Copilot, tmp_path: Path
) -> None:
    dataset = farewell_cases(tmp_path / "ds", {"drafts.review_ask": 1.0, "drafts.renamed_metric": 0.5})
    result = run("eval", str(dataset), "--out", str(tmp_path / "out"), "--no-similarity",
                 "--index", str(shipped_copilot.settings.index_dir))
    assert result.exit_code == 1
    assert "drafts.renamed_metric is missing" in result.stderr


def test_a_forbidden_phrase_counts_only_as_whole_words() -> None:
    from evals.drafts import says_any

    assert not says_any("I understand how frustrating this is", ["rating"])
    assert says_any("Could you leave us a rating?", ["rating"])
    assert says_any("Chị bấm Trả hàng/Hoàn tiền nhé", ["tra hang/hoan tien"])
