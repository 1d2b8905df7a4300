"""The words keyword search reads differently from the others, by language: the `search:` section of the
knowledge folder's `language.yaml`. Stop words are left out of the lexical index; chat shorthand ("ko") and
synonyms ("huy", "cancel") are indexed with the words they stand for, so either form matches."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from copilot.text import words
from copilot.yamlio import validate_model

SEARCH_SECTION = "search"
Words = dict[str, tuple[str, ...]]  # by language
Table = dict[str, tuple[str, ...]]  # a folded word -> the folded words it stands for
WordTables = dict[str, dict[str, str]]  # by language: a word -> the words it stands for


class SearchWords(BaseModel):
    """What the lexical index (BM25) and the flows' cues read: written as customers type them, with or
    without diacritics, and compared folded. Without the section every word is indexed as it is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stopwords: Words = Field(default_factory=dict, description="Function words left out of the lexical "
                             "index; folding merges words (có, cỡ -> co): list none that carries meaning.")
    abbreviations: WordTables = Field(default_factory=dict, description="Chat shorthand and the words it "
                                      "stands for ('ko: không'): both indexed, and written out before the "
                                      "flows' cues read a customer message.")
    synonyms: WordTables = Field(default_factory=dict, description="A word and the words indexed with it "
                                 "('cancel: hủy'); an abbreviation's own words win over a synonym's.")

    @field_validator("stopwords")
    @classmethod
    def _one_word_each(cls, listed: Words) -> Words:
        return {language: tuple(_one_word(word, f"{language}.{number}") for number, word in enumerate(each))
                for language, each in listed.items()}

    @field_validator("abbreviations", "synonyms")
    @classmethod
    def _word_and_words(cls, tables: WordTables) -> WordTables:
        folded: WordTables = {}
        for language, table in tables.items():
            folded[language] = {}
            for word, meaning in table.items():
                if not words(meaning):
                    raise ValueError(f"{language}.{word}: stands for no word")
                folded[language][_one_word(word, f"{language}.{word}")] = " ".join(words(meaning))
        return folded

    @classmethod
    def of(cls, language: Mapping[str, Any], path: Path) -> SearchWords:
        """The `search:` section of an already read `language.yaml` (`path` names it in errors)."""
        return validate_model(cls, language.get(SEARCH_SECTION) or {}, path, prefix=SEARCH_SECTION)

    @cached_property
    def stop(self) -> frozenset[str]:
        return frozenset(word for listed in self.stopwords.values() for word in listed)

    @cached_property
    def shorthand(self) -> Table:
        """Every language's abbreviations: what cue matching writes out."""
        return _merged(self.abbreviations)

    @cached_property
    def expansions(self) -> Table:
        """Synonyms and abbreviations: every form is indexed."""
        return {**_merged(self.synonyms), **self.shorthand}


def _one_word(word: str, where: str) -> str:
    """`word` folded, as the index's tokens are; a blank or a phrase would never match one."""
    tokens = words(word)
    if len(tokens) != 1:
        raise ValueError(f"{where}: '{word}' is not one word (letters and digits)")
    return tokens[0]


def _merged(tables: WordTables) -> Table:
    return {word: tuple(meaning.split()) for table in tables.values() for word, meaning in table.items()}


NO_SEARCH_WORDS = SearchWords()
