"""The sidebar's and the review page's words live in `api/static/<page>.<lang>.json`, one file for each
language of the page's toggle, served with the page: the scripts hold no language's words, only keys."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.routers.sidebar import STATIC
from copilot import Copilot, Settings
from copilot.retrieval.embedders import HashingEmbedder

PAGES = ("sidebar", "review")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
VIETNAMESE = re.compile("[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]",
                        re.IGNORECASE)


def languages(page: str) -> list[str]:
    """The languages the page's toggle offers."""
    return re.findall(r'<button[^>]*data-lang="(\w+)"', (STATIC / f"{page}.html").read_text(encoding="utf-8"))


def locale(page: str, language: str) -> dict[str, Any]:
    table: dict[str, Any] = json.loads((STATIC / f"{page}.{language}.json").read_text(encoding="utf-8"))
    return table


def script(page: str) -> str:
    """The page's script with the modules it imports (`<page>/*.js`)."""
    files = [STATIC / f"{page}.js", *sorted((STATIC / page).glob("*.js"))]
    return "\n".join(path.read_text(encoding="utf-8") for path in files)


def strings(page: str, language: str) -> dict[str, str]:
    table: dict[str, str] = locale(page, language)["strings"]
    return table


@pytest.mark.parametrize("page", PAGES)
def test_every_language_of_the_toggle_has_every_word_with_the_same_placeholders(page: str) -> None:
    assert languages(page) == ["en", "vi"]
    english = strings(page, "en")
    for language in languages(page):
        words = strings(page, language)
        assert words.keys() == english.keys(), language
        for key, text in words.items():
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(english[key])), (language, key)


@pytest.mark.parametrize("page", PAGES)
def test_every_key_the_page_uses_is_in_its_english_file(page: str) -> None:
    markup = (STATIC / f"{page}.html").read_text(encoding="utf-8")
    used = set(re.findall(r'\bt\("(\w+)"', script(page)))
    used |= set(re.findall(r'data-i18n[\w-]*="(\w+)"', markup))
    assert used and used <= strings(page, "en").keys(), used - strings(page, "en").keys()


@pytest.mark.parametrize("page", PAGES)
def test_the_page_scripts_hold_no_vietnamese_word(page: str) -> None:
    assert not [line for line in script(page).splitlines() if VIETNAMESE.search(line)]


def test_the_conversation_prefixes_of_every_language_are_in_the_sidebar_files() -> None:
    prefixes = {language: locale("sidebar", language)["prefixes"] for language in languages("sidebar")}
    assert prefixes["en"] == {"customer": ["c", "customer"], "agent": ["a", "agent"]}
    assert "khách" in prefixes["vi"]["customer"] and "nv" in prefixes["vi"]["agent"]


def test_the_locale_files_are_served_without_an_api_key(make_knowledge: Callable[..., Path],
                                                         tmp_path: Path) -> None:
    settings = Settings(knowledge_dir=make_knowledge(), index_dir=tmp_path / "index", api_keys="a-key")
    copilot = Copilot(settings, embedder=HashingEmbedder())
    client = TestClient(create_app(copilot=copilot))  # not started: static files need no index
    assert client.get("/v1/platforms").status_code == 401
    for page in PAGES:
        for language in languages(page):
            response = client.get(f"/static/{page}.{language}.json")
            assert response.status_code == 200 and response.json()["strings"] == strings(page, language)
