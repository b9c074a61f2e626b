"""Per-frame success / failure labels for reward-classifier data, keyed by a person while teleoperating.

A labelled episode stores one int8 label per observation frame (``labels``, shape
``(T+1,)``, next to ``state``): :data:`SUCCESS` (1), :data:`UNLABELLED` (0, treated as
negative by the classifier) or :data:`FAILURE` (-1, an explicit negative). A key
press is read at the start of a step, while the person is looking at the latest
frame, so the event raised during step ``t`` (which produces frame ``t``) labels frame
``t - 1``; holding Enter (terminal auto-repeat) labels a run of frames. In the
simulator ``auto_success`` also labels every frame whose step reported
``info["succeed"]``.

Labels travel in the episode format's optional ``labels`` array (T+1,) int8.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

SUCCESS, UNLABELLED, FAILURE = 1, 0, -1
LABEL_VALUES = (FAILURE, UNLABELLED, SUCCESS)


def label_of_step(info: Mapping[str, Any]) -> int | None:
    """The label a step's events give the frame the person was looking at, or ``None``."""
    if info.get("human_failure", False):
        return FAILURE
    if info.get("human_success", False):
        return SUCCESS
    return None


class FrameLabels:
    """Collects labels alongside an :class:`~hilserl_bench.data.recorder.EpisodeBuilder`."""

    def __init__(self, auto_success: bool = False) -> None:
        self.auto_success = auto_success
        self.labels: list[int] = [UNLABELLED]

    def add_step(self, info: Mapping[str, Any]) -> None:
        """Label the previous frame from the step's human events; append the new frame."""
        label = label_of_step(info)
        if label is not None:
            self.labels[-1] = label
        auto = self.auto_success and bool(info.get("succeed", False))
        self.labels.append(SUCCESS if auto else UNLABELLED)

    def mark_last(self, label: int) -> None:
        """Label the newest frame (e.g. the final frame when the person ends the episode on it)."""
        check_label_values(np.array([label]))
        self.labels[-1] = int(label)

    def array(self) -> np.ndarray:
        """Labels of frames 0..T as int8."""
        return np.asarray(self.labels, dtype=np.int8)

    def counts(self) -> dict[str, int]:
        """How many frames carry each label."""
        a = self.array()
        return {"success": int(np.sum(a == SUCCESS)), "failure": int(np.sum(a == FAILURE)),
                "unlabelled": int(np.sum(a == UNLABELLED))}


def check_label_values(labels: np.ndarray) -> None:
    """``ValueError`` unless every label is -1, 0 or 1."""
    bad = np.setdiff1d(np.unique(labels), LABEL_VALUES)
    if bad.size:
        raise ValueError(f"labels must be -1 (failure), 0 (unlabelled) or 1 (success); found {bad.tolist()}")


def validate_labels(labels: np.ndarray, frames: int) -> np.ndarray:
    """``labels`` as int8 of shape ``(frames,)``, or ``ValueError`` saying what is wrong."""
    a = np.asarray(labels)
    if a.shape != (frames,):
        raise ValueError(f"labels have shape {a.shape}, expected ({frames},): one per frame (T+1)")
    if not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"labels must be integers, got {a.dtype}")
    check_label_values(a)
    return a.astype(np.int8)


def with_labels(episode: Any, labels: np.ndarray) -> Any:
    """A copy of ``episode`` carrying ``labels`` (checked against its ``T+1`` frames)."""
    labels = validate_labels(labels, int(np.asarray(episode.state).shape[0]))
    return dataclasses.replace(episode, labels=labels)


def classifier_targets(labels: np.ndarray, include_unlabelled: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``(frame_indices, targets)`` for a binary success classifier: 1 for success frames, 0 otherwise.

    ``include_unlabelled=False`` keeps only frames a person labelled (success or failure).
    """
    a = np.asarray(labels)
    check_label_values(a)
    keep = np.ones(a.shape, bool) if include_unlabelled else a != UNLABELLED
    index = np.flatnonzero(keep)
    return index, (a[index] == SUCCESS).astype(np.float32)
