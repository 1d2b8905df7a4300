"""The review page's words come from `copilot/review/labels.yaml`: every language labels every key, with the
placeholders the page fills, and a value YAML would read as something else than text is refused."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from copilot.review import html
from copilot.review.labels import LABELS, LABELS_FILE, load_labels

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_every_language_labels_every_key_with_the_same_placeholders() -> None:
    assert list(LABELS) == ["en", "vi"]
    for language, words in LABELS.items():
        assert words.keys() == LABELS["en"].keys(), language
        for key, text in words.items():
            english = LABELS["en"][key]
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(english)), (language, key)


def test_the_page_shows_the_label_file_words() -> None:
    message = {"author": "", "automatic": False, "role": "customer", "text": "Hi", "at": None, "steps": "",
               "violations": []}
    found = {"messages_list": [message],
             "customer": None, "platform": "shopee", "status": "open", "external_id": "c-1"}
    for language in LABELS:
        shown = html.conversation(found, language, {"shopee": "Shopee"}, ZoneInfo("UTC"))
        assert f"· {load_labels(LABELS_FILE)[language]['customer']}</span>" in shown


def test_a_label_yaml_reads_as_no_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "labels.yaml"
    path.write_text("en: {next: Next, previous: no}\n", encoding="utf-8")
    with pytest.raises(ValidationError):
        load_labels(path)
    path.write_text("en: {next: Next, previous: 'no'}\n", encoding="utf-8")
    assert load_labels(path) == {"en": {"next": "Next", "previous": "no"}}
