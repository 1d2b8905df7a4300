"""The lexical index (BM25) on its own, with the tests' own search words."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from copilot import IndexNotReadyError
from copilot.retrieval.chunking import Chunk
from copilot.retrieval.lexical import WORDS_FILE, BM25Index, lexical_tokens
from copilot.retrieval.search_words import SearchWords
from copilot.retrieval.vector_store import SearchFilter

WORDS = SearchWords.of(yaml.safe_load("""\
search:
  stopwords: {vi: [của]}
  abbreviations: {vi: {ko: không, dc: được}}
  synonyms: {en: {refund: hoàn tiền}}
"""), Path("language.yaml"))


def chunk(cid: str, text: str, platforms: tuple[str, ...] = ()) -> Chunk:
    return Chunk(id=cid, doc_id=cid, title="", section="", kind="policy", text=text, fingerprint="f",
                 source="x.md", platforms=platforms)


CHUNKS = [
    chunk("cancel", "Người mua tự gửi yêu cầu hủy đơn. "
          "Đơn đã giao cho đơn vị vận chuyển thì không hủy được.", ("shopee",)),
    chunk("refund", "Khách bấm Trả hàng/Hoàn tiền, shop bấm Đồng ý.", ("shopee",)),
    chunk("popup", "Popup not showing: enable the app embed in the theme editor.", ("livechat",)),
]


def test_tokens_are_folded_with_word_pairs_and_no_stop_words() -> None:
    assert lexical_tokens("Đơn của tôi bị giao trễ", WORDS) == [
        "don", "toi", "bi", "giao", "tre", "don_toi", "toi_bi", "bi_giao", "giao_tre"
    ]
    assert "cua" in lexical_tokens("Đơn của tôi")  # without search words every word is indexed


def test_chat_shorthand_is_expanded_and_kept() -> None:
    tokens = lexical_tokens("ko dc", WORDS)
    assert tokens[:2] == ["khong", "duoc"] and {"ko", "dc", "khong_duoc"} <= set(tokens)
    assert lexical_tokens("ko dc") == ["ko", "dc", "ko_dc"]


def test_unaccented_query_finds_accented_text() -> None:
    index = BM25Index(CHUNKS)
    top, _ = index.search("khach muon huy don nhung da giao cho van chuyen", k=3)[0]
    assert CHUNKS[top].id == "cancel"


def test_filter_excludes_other_platforms() -> None:
    index = BM25Index(CHUNKS)
    hits = index.search("popup hoan tien", k=3, where=SearchFilter(platform="shopee"))
    found = [CHUNKS[i].id for i, _ in hits]
    assert found == ["refund"]


def test_query_with_no_known_word_returns_nothing() -> None:
    assert BM25Index(CHUNKS).search("zzzz qqqq", k=3) == []


def test_saved_index_answers_the_same_with_its_search_words(tmp_path: Path) -> None:
    BM25Index(CHUNKS, WORDS).save(tmp_path / "lex")
    loaded = BM25Index.load(tmp_path / "lex")
    assert [c.id for c in loaded.chunks] == ["cancel", "refund", "popup"]
    assert loaded.chunks[0].platforms == ("shopee",)
    assert loaded.search("hoan tien", k=1)[0][0] == 1
    assert loaded.search_words == WORDS and loaded.search("refund", k=1)[0][0] == 1  # the synonym's words


def test_an_index_saved_without_its_search_words_must_be_built_again(tmp_path: Path) -> None:
    BM25Index(CHUNKS, WORDS).save(tmp_path / "lex")
    (tmp_path / "lex" / WORDS_FILE).unlink()  # as an index saved before the words were in language.yaml
    with pytest.raises(IndexNotReadyError, match="copilot ingest"):
        BM25Index.load(tmp_path / "lex")
