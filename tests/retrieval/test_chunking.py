from __future__ import annotations

from pathlib import Path

from copilot.retrieval.chunking import MarkdownChunker
from copilot.retrieval.documents import parse_document

TEXT = """---
id: exchange-guide
title: "Exchange guide"
kind: policy
platforms: [shopee]
steps: [troubleshoot]
language: [en, vi]
tags: [exchange]
---
# Exchange guide

Intro line before any section.

## Full exchange
The buyer presses Return/Refund and the shop presses Agree.

## Đổi một phần
Khách đặt thêm một đơn riêng cho phần cần gửi lại.

### Lưu ý
Không xin số điện thoại.
"""


def chunks(max_chars: int = 1000) -> list:  # type: ignore[type-arg]
    document = parse_document(TEXT, Path("exchange-guide.md"))
    return MarkdownChunker(max_chars=max_chars, overlap=0).split(document)


def test_sections_follow_headings_and_keep_the_heading_path() -> None:
    sections = [chunk.section for chunk in chunks()]
    assert sections == ["Exchange guide", "Full exchange", "Đổi một phần",
                        "Đổi một phần > Lưu ý"]


def test_chunks_carry_document_metadata_for_filters_and_citations() -> None:
    first = chunks()[1]
    assert first.id == "exchange-guide::001" and first.doc_id == "exchange-guide"
    assert first.platforms == ("shopee",) and first.steps == ("troubleshoot",)
    assert first.languages == ("en", "vi")
    assert first.text.startswith("The buyer presses Return/Refund")
    assert "Exchange guide" in first.search_text and "Full exchange" in first.search_text


def test_long_sections_are_split_by_size() -> None:
    long_text = TEXT.replace("Intro line before any section.", " ".join(["word"] * 400))
    document = parse_document(long_text, Path("exchange-guide.md"))
    split = MarkdownChunker(max_chars=300, overlap=0).split(document)
    pieces = [c for c in split if c.section == "Exchange guide"]
    assert len(pieces) >= 6 and all(len(piece.text) <= 300 for piece in pieces)


def test_fingerprint_changes_with_the_text() -> None:
    other = parse_document(TEXT.replace("Agree", "Đồng ý"), Path("exchange-guide.md"))
    assert MarkdownChunker().split(other)[0].fingerprint != chunks()[0].fingerprint
