"""``hilserl-bench classifier train`` and ``classifier eval``: learn a success classifier, and score it honestly.

Training frames come from episode files (``hilserl-bench record``): a frame's label is the
person's key press when the episode carries ``labels`` (``record --device ... --label``; 1 is
success, 0 and -1 are not), otherwise the simulator's own verdict (``succeed`` after each step,
i.e. :meth:`Task.evaluate`). Training follows learning.md: balanced batches (half success, half
not), random-crop augmentation, Adam 1e-4, about 150 steps; the file stores task, cameras, image
shape and threshold (:mod:`hilserl_bench.reward_classifier`).

``classifier eval`` compares the classifier with the simulator's truth (``succeed``, never the
labels) on held-out episodes: false positives and false negatives over all frames, over frames
within ``--boundary`` steps of a change of the truth (where the official advice says false
positives live), and per episode (a false fire before success ends an episode with a wrong reward).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import numpy as np

from hilserl_bench.baselines.reward_model import ClassifierTrainer, SuccessClassifier
from hilserl_bench.data.episode_format import Episode, load_dataset


@dataclass(frozen=True)
class FrameSet:
    """Frames of many episodes flattened: images per camera, 0/1 labels, episode id and step of each."""

    images: dict[str, np.ndarray]
    labels: np.ndarray
    episode: np.ndarray
    step: np.ndarray


def truth_of(episode: Episode) -> np.ndarray:
    """Simulator success of frames ``0..T`` (frame ``t + 1`` is judged by step ``t``'s ``succeed``)."""
    return np.concatenate([[False], episode.succeed.astype(bool)])


def labels_of(episode: Episode) -> np.ndarray:
    """Training labels: a person's labels when present, else the simulator's verdict."""
    if episode.labels is not None and np.any(episode.labels != 0):
        return episode.labels == 1
    return truth_of(episode)


def frames_of(episodes: list[Episode], cameras: tuple[str, ...], use_truth: bool = False) -> FrameSet:
    """Every frame of ``episodes`` with its label (or the simulator's truth with ``use_truth``)."""
    missing = [cam for cam in cameras for ep in episodes if cam not in ep.images]
    if missing:
        raise ValueError(f"episodes lack camera frames {sorted(set(missing))}: record them with --obs-mode pixels")
    labels = [truth_of(ep) if use_truth else labels_of(ep) for ep in episodes]
    return FrameSet(
        images={cam: np.concatenate([ep.images[cam] for ep in episodes]) for cam in cameras},
        labels=np.concatenate(labels).astype(np.int32),
        episode=np.concatenate([np.full(len(lab), i) for i, lab in enumerate(labels)]),
        step=np.concatenate([np.arange(len(lab)) for lab in labels]),
    )


def balanced_batch(frames: FrameSet, rng: np.random.Generator, batch_size: int) -> dict[str, Any]:
    """Half success frames, half other frames, drawn with replacement."""
    pos, neg = np.flatnonzero(frames.labels == 1), np.flatnonzero(frames.labels == 0)
    half = batch_size // 2
    idx = np.concatenate([rng.choice(pos, half), rng.choice(neg, batch_size - half)])
    return {"observations": {"images": {cam: f[idx] for cam, f in frames.images.items()}},
            "labels": frames.labels[idx]}


def train_classifier(frames: FrameSet, cameras: tuple[str, ...], backbone: str = "resnet10",
                     weights: dict | None = None, steps: int = 150, batch_size: int = 256, lr: float = 1e-4,
                     augment_pad: int = 4, seed: int = 0, freeze_backbone: bool | None = None) -> ClassifierTrainer:
    """A trained :class:`ClassifierTrainer` (pretrained backbone when ``weights`` is given)."""
    n_pos, n_neg = int(np.sum(frames.labels == 1)), int(np.sum(frames.labels == 0))
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"classifier training needs success and non-success frames; got {n_pos} success and "
                         f"{n_neg} other frames (record failures with --keep all --noise 0.3, or label with --label)")
    freeze = weights is not None if freeze_backbone is None else freeze_backbone
    net = SuccessClassifier(cameras, backbone, freeze)
    example = {"images": {cam: f[:1] for cam, f in frames.images.items()}}
    trainer = ClassifierTrainer.create(jax.random.PRNGKey(seed), net, example, lr, augment_pad)
    if weights is not None:
        from hilserl_bench.baselines.pretrained import load_into

        trainer = load_into(trainer, weights)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        trainer, _ = trainer.update(balanced_batch(frames, rng, batch_size))
    return trainer


def boundary_mask(frames: FrameSet, truth: np.ndarray, width: int) -> np.ndarray:
    """Frames within ``width`` steps of a change of ``truth`` inside their episode."""
    near = np.zeros(len(truth), bool)
    for ep in np.unique(frames.episode):
        rows = np.flatnonzero(frames.episode == ep)
        changes = np.flatnonzero(np.diff(truth[rows].astype(int)) != 0)
        for c in changes:
            near[rows[max(0, c + 1 - width):c + 1 + width]] = True
    return near


def confusion(pred: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    """Counts and rates of one subset of frames."""
    fp, fn = int(np.sum(pred & ~truth)), int(np.sum(~pred & truth))
    pos, neg = int(truth.sum()), int((~truth).sum())
    return {"frames": int(len(truth)), "positives": pos, "negatives": neg, "false_pos": fp, "false_neg": fn,
            "fp_rate": fp / neg if neg else None, "fn_rate": fn / pos if pos else None,
            "accuracy": float(np.mean(pred == truth)) if len(truth) else None}


def evaluate_classifier(probs: np.ndarray, frames: FrameSet, threshold: float, boundary: int = 3) -> dict[str, Any]:
    """Frame-level (all / near the boundary / far from it) and episode-level errors against the truth."""
    truth, pred = frames.labels.astype(bool), probs > threshold
    near = boundary_mask(frames, truth, boundary)
    report: dict[str, Any] = {"threshold": threshold, "boundary_steps": boundary,
                              "all": confusion(pred, truth), "near_boundary": confusion(pred[near], truth[near]),
                              "far_from_boundary": confusion(pred[~near], truth[~near])}
    early = missed = succeeded = 0
    episodes = np.unique(frames.episode)
    for ep in episodes:
        rows = np.flatnonzero(frames.episode == ep)
        first_true = np.flatnonzero(truth[rows])
        first_fire = np.flatnonzero(pred[rows])
        end = first_true[0] if len(first_true) else len(rows)
        early += int(len(first_fire) > 0 and first_fire[0] < end)
        if len(first_true):
            succeeded += 1
            missed += int(not pred[rows][first_true[0]])
    report["episodes"] = {"episodes": int(len(episodes)), "successful": succeeded, "false_fire": early,
                          "missed_success": missed}
    return report


def format_report(report: dict[str, Any]) -> str:
    """The report as a fixed-width table."""
    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f}%"

    lines = [f"threshold {report['threshold']:.2f}; boundary = frames within {report['boundary_steps']} steps "
             "of a change of the simulator's success",
             f"{'frames':<18} {'n':>6} {'pos':>5} {'neg':>6} {'FP':>5} {'FN':>5} {'FP rate':>8} {'FN rate':>8} "
             f"{'accuracy':>9}"]
    for key in ("all", "near_boundary", "far_from_boundary"):
        r = report[key]
        lines.append(f"{key:<18} {r['frames']:>6} {r['positives']:>5} {r['negatives']:>6} {r['false_pos']:>5} "
                     f"{r['false_neg']:>5} {pct(r['fp_rate']):>8} {pct(r['fn_rate']):>8} {pct(r['accuracy']):>9}")
    e = report["episodes"]
    lines.append(f"episodes: {e['episodes']} ({e['successful']} successful); fires before true success: "
                 f"{e['false_fire']}; success frame missed: {e['missed_success']}")
    return "\n".join(lines)


def load_frames(directory: Path, task: str | None, cameras: tuple[str, ...] | None, use_truth: bool = False
                ) -> tuple[FrameSet, tuple[str, ...], tuple[int, ...], str]:
    """Frames of an episode directory, checked against ``task``; returns frames, cameras, image shape, task."""
    episodes = load_dataset(directory)
    stack = episodes[0].metadata.get("stack", {})
    found = stack.get("task_id", episodes[0].metadata.get("task_id"))
    if task is not None and found != task:
        raise ValueError(f"{directory} holds {found!r} episodes, not {task!r}")
    cams = tuple(cameras or stack.get("cameras") or sorted(episodes[0].images))
    frames = frames_of(episodes, cams, use_truth)
    shape = tuple(next(iter(frames.images.values())).shape[1:])
    return frames, cams, shape, found


def dumps(report: dict[str, Any]) -> str:
    """One JSON line."""
    return json.dumps(report)
