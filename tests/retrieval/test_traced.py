"""The traced model (one TorchScript call, run without the interpreter lock) gives sentence-transformers'
vectors, and anything it cannot reproduce falls back to `encode`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Normalize, Pooling

from copilot.retrieval import embedders, traced
from copilot.retrieval.traced import traced_encoder

TEXTS = [
    "hi",
    "My discount popup is gone after I switched themes",
    "Shop ơi, đơn hàng của em giao chậm quá, bao giờ mới tới ạ?",
    "don hang cua em giao cham qua",
    "refund " * 500,  # longer than the model's 256 tokens: truncated the same way
    *[f"order #{n} " + "is late " * (n % 9) for n in range(70)],  # more than one batch of mixed lengths
]


@pytest.fixture(scope="module")
def model() -> Any:
    return embedders._load_sentence_transformer(str(embedders._packaged_model_path()))


@pytest.mark.slow  # loads the packaged model
def test_the_packaged_model_traced_gives_the_vectors_of_encode(model: Any) -> None:
    encode = traced_encoder(model, batch_size=64)
    assert encode is not None
    expected = model.encode(TEXTS, normalize_embeddings=True, batch_size=64)
    together, alone = encode(TEXTS), np.vstack([encode([text]) for text in TEXTS[:6]])
    assert together.shape == expected.shape == (len(TEXTS), 384) and together.dtype == np.float32
    assert float((together * expected).sum(1).min()) > 0.9999
    assert float((alone * expected[:6]).sum(1).min()) > 0.9999
    assert not np.allclose(together[0], together[1])


def test_other_pooling_is_left_to_encode(model: Any) -> None:
    cls_pooled = SentenceTransformer(modules=[model[0], Pooling(384, pooling_mode="cls"), Normalize()],
                                     device="cpu")
    assert traced_encoder(cls_pooled, batch_size=64) is None
    assert traced_encoder(object(), batch_size=64) is None


def test_a_trace_that_fails_or_differs_is_left_to_encode(model: Any, monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("tracer exploded")

    monkeypatch.setattr(torch.jit, "trace", broken)
    assert traced_encoder(model, batch_size=64) is None
    assert "tracer exploded" in caplog.text
    monkeypatch.undo()
    monkeypatch.setattr(traced, "PROBES", ["a", "b"])
    other = np.eye(2, 384, dtype=np.float32)
    monkeypatch.setattr(model, "encode", lambda texts, **kwargs: other[: len(texts)])
    assert traced_encoder(model, batch_size=64) is None
    assert "other vectors" in caplog.text


def test_texts_are_encoded_in_groups_of_similar_length() -> None:
    """One long message next to short sentences gets its own batch, so the short ones are not padded to it."""
    from copilot.retrieval.traced import length_groups

    texts = ["ok", "May I have your name?", "What time suits you?", "x" * 300, "Thanks!"]
    groups = length_groups(texts, batch_size=64)
    assert [sorted(group) for group in groups] == [[0, 1, 2, 4], [3]]
    assert sorted(i for group in length_groups(texts * 30, batch_size=16) for i in group) == list(range(150))
    assert all(len(group) <= 16 for group in length_groups(texts * 30, batch_size=16))
