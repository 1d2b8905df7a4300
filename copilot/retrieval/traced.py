"""The sentence-transformers model as one TorchScript call, for a server under concurrent requests.

`SentenceTransformer.encode` runs the model's forward pass as hundreds of small Python calls, each taking
the interpreter lock back: next to a request thread doing Python work, one query took 0.56 s instead of 11 ms.
The traced graph runs in C++ without the lock (31 ms next to a busy thread, 10 ms alone). It is used only for
the usual shape (a transformer, mean pooling, normalisation) and only when it gives the same vectors as
`encode` on probe texts; otherwise the caller keeps `encode`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

Encode = Callable[[list[str]], np.ndarray]

# Texts the traced graph must encode as `encode` does, not business words: a short one, an English sentence,
# Vietnamese with and without diacritics (other tokens) and one over the model's length (truncation). They
# test the model, which one process shares across knowledge bases, so no knowledge folder supplies them.
PROBES = [
    "hello",
    "The discount popup disappeared from my storefront after I changed the theme, can you help?",
    "Làm sao để hủy đơn trên Shopee? Tôi đặt nhầm màu áo rồi ạ",
    "lam sao de huy don tren shopee",
    " ".join(["refund"] * 400),
]
SAME_VECTOR = 0.9999
# A batch is padded to its longest text: one long customer message next to a dozen short agent sentences
# tripled the call (37 ms -> 109 ms; 49 ms in two calls). Texts are encoded in groups of similar length
# instead.
LENGTH_RATIO = 2.0
SHORT = 24  # characters: texts this short never start a group of their own


def length_groups(texts: list[str], batch_size: int) -> list[list[int]]:
    """Indexes of `texts` in groups of at most `batch_size`, shortest first, a new group whenever a text is
    over LENGTH_RATIO times the group's shortest (at least SHORT characters)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    groups: list[list[int]] = []
    for index in order:
        current = groups[-1] if groups else None
        if current is None or len(current) >= batch_size or \
                len(texts[index]) > LENGTH_RATIO * max(len(texts[current[0]]), SHORT):
            groups.append([index])
        else:
            current.append(index)
    return groups


def traced_encoder(model: Any, batch_size: int) -> Encode | None:
    """An encode function equal to `model.encode(texts, normalize_embeddings=True)`, or None when the model is
    not of the usual shape or tracing it does not reproduce its vectors."""
    try:
        import torch

        modules: list[Any] = list(model) if isinstance(model, torch.nn.Sequential) else []
        if not _usual_shape(modules):
            return None
        encode = _in_length_groups(_traced_batches(torch, modules[0]), batch_size)
        if _worst_similarity(model, encode) < SAME_VECTOR:
            log.warning("the traced model gives other vectors than sentence-transformers; using encode")
            return None
        return encode
    except Exception as exc:  # any failure to trace only means the slower, general path
        log.warning("the model could not be traced (%s: %s); using sentence-transformers' encode",
                    type(exc).__name__, exc)
        return None


def _usual_shape(modules: list[Any]) -> bool:
    """A transformer, mean pooling and normalisation, in that order."""
    if [type(module).__name__ for module in modules] != ["Transformer", "Pooling", "Normalize"]:
        return False
    return bool(modules[1].get_config_dict().get("pooling_mode") == "mean")


def _traced_batches(torch: Any, transformer: Any) -> Encode:
    """Encode one batch (padded to its longest text) with the traced `transformer`."""
    tokenizer, max_length = transformer.tokenizer, transformer.max_seq_length
    graph = _trace(torch, transformer.auto_model, tokenizer)

    def encode_batch(texts: list[str]) -> np.ndarray:
        tokens = tokenizer(texts, padding=True, truncation="longest_first", max_length=max_length,
                           return_tensors="pt")
        with torch.inference_mode():
            vectors = graph(tokens["input_ids"], tokens["attention_mask"])
        return np.asarray(vectors.numpy(), dtype=np.float32)

    return encode_batch


def _in_length_groups(encode_batch: Encode, batch_size: int) -> Encode:
    """Encode texts one length group at a time (see `length_groups`), the vectors in the texts' order."""

    def encode(texts: list[str]) -> np.ndarray:
        groups = length_groups(texts, batch_size)
        if len(groups) == 1:
            return encode_batch(texts)
        vectors = np.empty((len(texts), 0), dtype=np.float32)
        for part in groups:
            rows = encode_batch([texts[i] for i in part])
            if vectors.shape[1] == 0:
                vectors = np.empty((len(texts), rows.shape[1]), dtype=np.float32)
            vectors[part] = rows
        return vectors

    return encode


def _worst_similarity(model: Any, encode: Encode) -> float:
    """The lowest cosine between sentence-transformers' vectors of PROBES and `encode`'s, the probes encoded
    one at a time and all together."""
    expected = np.asarray(model.encode(PROBES, normalize_embeddings=True, show_progress_bar=False))
    alone = np.vstack([encode([probe]) for probe in PROBES])
    together = encode(PROBES)
    return min(float((expected * alone).sum(1).min()), float((expected * together).sum(1).min()))


def _trace(torch: Any, backbone: Any, tokenizer: Any) -> Any:
    class MeanPooled(torch.nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.backbone = backbone

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    example = tokenizer(["a short text", "a second, somewhat longer text to pad against"], padding=True,
                        return_tensors="pt")
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        return torch.jit.trace(MeanPooled().eval(), (example["input_ids"], example["attention_mask"]),
                               check_trace=False)
