from copilot.text import fold, fold_preserving_length, words


def test_fold_removes_vietnamese_diacritics_and_maps_d_stroke() -> None:
    assert fold("Khách muốn HỦY ĐƠN đã giao") == "khach muon huy don da giao"


def test_fold_preserving_length_keeps_offsets() -> None:
    text = "Anh/chị hủy đơn giúp shop nhé"
    folded = fold_preserving_length(text)
    assert len(folded) == len(text)
    start = folded.index("huy don")
    assert text[start : start + 7] == "hủy đơn"


def test_words_split_on_punctuation_after_folding() -> None:
    assert words("Popup không hiện?! (theme: Dawn)") == ["popup", "khong", "hien", "theme", "dawn"]
