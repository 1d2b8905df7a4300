"""A flow's taught step models kept on disk. Teaching them reads every labelled conversation of the flow (for
the shipped live-chat examples, minutes on two cores: each moment is embedded and understood); loading them
takes a fraction of a second. They are keyed by what they were fitted from (the flow, its labelled
conversations and the embedder), so an edited flow or example file is taught again."""

from __future__ import annotations

import hashlib
import logging
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from copilot.cache import replace_cached
from copilot.flow.flows import Flow, FlowExamples
from copilot.flow.learned import ActModel, AnswerMoments, MomentModel, SentenceActs, State
from copilot.flow.tracker import StepTracker

log = logging.getLogger(__name__)

FORMAT = 3  # raised when the models' features change: older files are then taught again
FITTED_SUFFIX = ".fitted.npz"


def taught_key(flow: Flow, examples: FlowExamples, embedder: str, answer_step: str | None = None) -> str:
    """What the taught models depend on: the feature format, the embedder, the flow, its answering step
    (`answers.yaml`) and its examples."""
    digest = hashlib.sha256(f"{FORMAT}\n{embedder}\n{answer_step or ''}\n".encode())
    digest.update(flow.model_dump_json().encode("utf-8"))
    digest.update(examples.model_dump_json().encode("utf-8"))
    return digest.hexdigest()[:24]


def _prefixed(state: State, prefix: str) -> State:
    return {f"{prefix}{name}": value for name, value in state.items()}


def _unprefixed(data: State, prefix: str) -> State:
    return {name.removeprefix(prefix): data[name] for name in data if name.startswith(prefix)}


def taught_state(tracker: StepTracker, key: str) -> State:
    """The tracker's learned act, moment, answer-now and sentence act models (those it has) as arrays, with
    their key."""
    state = {"key": np.array(key)}
    if isinstance(tracker.acts, ActModel):
        state.update(_prefixed(tracker.acts.state(), "acts/"))
    if isinstance(tracker.model, MomentModel):
        state.update(_prefixed(tracker.model.state(), "moment/"))
    if isinstance(tracker.answering, AnswerMoments):
        state.update(_prefixed(tracker.answering.state(), "answer/"))
    if isinstance(tracker.sentence_acts, SentenceActs):
        state.update(_prefixed(tracker.sentence_acts.state(), "sentence/"))
    return state


def _saver(state: State) -> Callable[[Path], None]:
    def write(partial: Path) -> None:
        with partial.open("wb") as handle:
            np.savez_compressed(handle, **state)  # type: ignore[arg-type]  # names only arrays

    return write


def write_taught(tracker: StepTracker, path: Path, key: str) -> None:
    """Write the taught models to `path` (the copy shipped beside the flow's examples), through a partial
    file."""
    partial = path.with_name(path.name + ".partial")
    _saver(taught_state(tracker, key))(partial)
    partial.replace(path)


def keep_taught(tracker: StepTracker, folder: Path, flow_id: str, key: str) -> None:
    """Keep the taught models in the index folder, replacing the flow's older ones; a folder that cannot be
    written costs the next start its time, not the answer."""
    path = kept_path(folder, flow_id, key)
    replace_cached(folder, f"{flow_id}.*{FITTED_SUFFIX}", path, _saver(taught_state(tracker, key)))


def kept_path(folder: Path, flow_id: str, key: str) -> Path:
    return folder / f"{flow_id}.{key}{FITTED_SUFFIX}"


def load_taught(tracker: StepTracker, path: Path, key: str) -> bool:
    """Give the tracker the models kept in `path` when they were fitted from what `key` names; False (and
    the tracker unchanged) for a missing, unreadable or stale file."""
    if not path.is_file():
        return False
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        log.warning("unreadable taught step models %s (%s): teaching them again", path, exc)
        return False
    if str(arrays.get("key", "")) != key:
        return False
    acts, moment = _unprefixed(arrays, "acts/"), _unprefixed(arrays, "moment/")
    answer, sentence = _unprefixed(arrays, "answer/"), _unprefixed(arrays, "sentence/")
    if answer:
        tracker.answering = AnswerMoments.from_state(answer)
    if sentence:
        tracker.sentence_acts = SentenceActs.from_state(sentence)
    if acts:
        tracker.acts = ActModel.from_state(acts)
        tracker.performed.cache_clear()
    if moment:
        tracker.model = MomentModel.from_state(moment)
    return True
