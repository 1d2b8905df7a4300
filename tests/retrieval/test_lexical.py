from __future__ import annotations

from pathlib import Path

from copilot.retrieval.chunking import Chunk
from copilot.retrieval.lexical import BM25Index, lexical_tokens
from copilot.retrieval.vector_store import SearchFilter


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
    assert lexical_tokens("Đơn của tôi bị giao trễ") == [
        "don", "toi", "bi", "giao", "tre", "don_toi", "toi_bi", "bi_giao", "giao_tre"
    ]


def test_chat_shorthand_is_expanded_and_kept() -> None:
    tokens = lexical_tokens("ko dc")
    assert tokens[:2] == ["khong", "duoc"] and {"ko", "dc", "khong_duoc"} <= set(tokens)


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


def test_saved_index_answers_the_same(tmp_path: Path) -> None:
    BM25Index(CHUNKS).save(tmp_path / "lex")
    loaded = BM25Index.load(tmp_path / "lex")
    assert [c.id for c in loaded.chunks] == ["cancel", "refund", "popup"]
    assert loaded.chunks[0].platforms == ("shopee",)
    assert loaded.search("hoan tien", k=1)[0][0] == 1
