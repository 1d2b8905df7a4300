"""The need model measured on CLINC150's format: a small folder made here, the real one when it is present."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from copilot.cli import app as cli
from copilot.retrieval.embedders import HashingEmbedder
from evals.intents import banking_rows, clinc_rows, load_banking, load_clinc

REAL = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "clinc150"
NEEDS = {
    "cancel_order": ["cancel my order", "please cancel the order", "i want to cancel it", "stop my order"],
    "order_status": ["where is my parcel", "track my order", "when does my order arrive", "parcel status"],
}


def tiny_clinc(folder: Path) -> Path:
    folder.mkdir()
    train = [[text, intent] for intent, texts in NEEDS.items() for text in texts]
    data = {"train": train,
            "val": [["cancel the order now", "cancel_order"], ["track the parcel", "order_status"]],
            "test": [["please cancel my order", "cancel_order"], ["where is the parcel", "order_status"]],
            "oos_train": [], "oos_val": [["sing me a song", "oos"]],
            "oos_test": [["what is the capital of peru", "oos"]]}
    for name in ("data_full.json", "data_small.json"):
        (folder / name).write_text(json.dumps(data), encoding="utf-8")
    return folder


def test_the_report_reads_in_scope_queries_and_sends_far_ones_out_of_scope(tmp_path: Path) -> None:
    rows = clinc_rows(tiny_clinc(tmp_path / "clinc"), HashingEmbedder(), tmp_path / "cache", shots=(10,),
                      rejects=0.01)
    (row,) = rows
    assert row.shots == 10 and row.examples == 10  # eight examples and the two intents' names
    assert row.test == (1.0, 1.0, 1.0)  # every in-scope query right and kept, the out-of-scope one rejected


def test_a_missing_dataset_folder_is_one_clear_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["intent-report", "--clinc", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "data_full.json" in result.output and "Traceback" not in result.output
    bad = CliRunner().invoke(cli, ["intent-report", "--clinc", str(tmp_path), "--shots", "7"])
    assert bad.exit_code == 2 and "--shots" in bad.output


@pytest.mark.skipif(not (REAL / "data_full.json").exists(),
                    reason=f"CLINC150 is not at {REAL} (kept outside the repo)")
def test_the_real_clinc150_has_the_splits_the_report_reads() -> None:
    data = load_clinc(REAL, "data_full.json")
    assert {len(data[s]) for s in ("val", "test", "oos_val", "oos_test")} == {3000, 4500, 100, 1000}
    assert len({intent for _, intent in data["train"]}) == 150


SHIPPED_BANKING = Path(__file__).resolve().parents[1] / "evals" / "datasets" / "banking77"


def test_banking_report_learns_the_first_examples_and_tests_on_the_last(tmp_path: Path) -> None:
    folder = tmp_path / "banking"
    folder.mkdir()
    rows = [("text", "category")]
    for intent, texts in NEEDS.items():
        rows += [(text, intent) for text in texts * 6]  # 24 per intent: the last 20 are the test
    with (folder / "test.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    (row,) = banking_rows(folder, HashingEmbedder(), tmp_path / "cache", shots=(10,))
    assert (row.shots, row.examples, row.test_queries) == (10, 10, 40)  # 4 + 4 examples, the 2 names
    assert row.accuracy == 1.0  # the test queries repeat the examples' words


def test_a_banking_folder_without_its_csv_is_one_clear_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["intent-report", "--banking", str(tmp_path)])
    assert result.exit_code == 2 and "test.csv" in result.output and "Traceback" not in result.output
    (tmp_path / "test.csv").write_text("query,label\nhello,greet\n", encoding="utf-8")
    bad = CliRunner().invoke(cli, ["intent-report", "--banking", str(tmp_path)])
    assert bad.exit_code == 2 and "text,category" in bad.output


def test_the_shipped_banking77_split_is_the_published_one() -> None:
    data = (SHIPPED_BANKING / "test.csv").read_bytes()
    published = "d12d6e3bc4c3103966ae786dc435913c0c563dfa328f5a3646d0e62cfeeb474d"
    assert hashlib.sha256(data).hexdigest() == published
    categories = json.loads((SHIPPED_BANKING / "categories.json").read_text(encoding="utf-8"))
    assert Counter(intent for _, intent in load_banking(SHIPPED_BANKING)) == Counter(
        {intent: 40 for intent in categories})


@pytest.mark.slow
def test_ten_examples_per_need_read_real_bank_queries_at_their_first_measured_level(shipped_copilot: Any,
                                                                                      tmp_path: Path) -> None:
    """The outside test (evals/banking77_first_pass.txt: 0.853 at 10 per intent; goal 0.86): just under it."""
    rows = banking_rows(SHIPPED_BANKING, shipped_copilot.index.embedder, tmp_path / "cache", shots=(10,))
    assert rows[0].accuracy >= 0.85
