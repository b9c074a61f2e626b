"""A trained success classifier on disk, and the reward it gives an env in place of the simulator's.

File format (no pickle): one ``.npz`` with the classifier's flat parameters (``a/b/c`` keys) and a
JSON ``__meta__`` holding the task id, cameras, image shape, backbone, decision threshold and the
training summary. :func:`load_classifier` rebuilds the network from the metadata and checks every
parameter's shape; :class:`ClassifierPredictor` turns one observation into a success probability.

:func:`classifier_reward_env` wraps an env in :class:`~hilserl_bench.wrappers.RewardClassifier`
with this predictor and, optionally, the paper's cheap state check: the TCP lies within
``STATE_CHECK_RADIUS`` of the task's target pose (robot proprioception only, so it works on
hardware too). The simulator's own verdict stays in ``info["succeed"]`` for scoring.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import jax
import numpy as np
from flax import traverse_util

from hilserl_bench.baselines.reward_model import ClassifierTrainer, SuccessClassifier
from hilserl_bench.data.episode_format import atomic_savez
from hilserl_bench.wrappers.reward_classifier import RewardClassifier

FORMAT = "hilserl-bench-classifier-v1"
STATE_CHECK_RADIUS = 0.03
"""Metres between the TCP and the task's target pose within which the cheap state check passes."""


@dataclass(frozen=True)
class ClassifierFile:
    """A loaded classifier: the network, its parameters and what it was trained for."""

    net: SuccessClassifier
    params: Any
    task_id: str
    cameras: tuple[str, ...]
    image_shape: tuple[int, int, int]
    threshold: float
    meta: dict[str, Any]


def save_classifier(path: str | Path, trainer: ClassifierTrainer, task_id: str, image_shape: tuple[int, ...],
                    threshold: float, summary: Mapping[str, Any]) -> Path:
    """Write the classifier's parameters and metadata atomically (``.npz``, no pickle)."""
    net = trainer.net
    flat = traverse_util.flatten_dict(jax.device_get(trainer.state.params), sep="/")
    meta = {"format": FORMAT, "task_id": task_id, "cameras": list(net.cameras), "image_shape": list(image_shape),
            "backbone": net.backbone, "freeze_backbone": net.freeze_backbone, "threshold": float(threshold),
            "summary": dict(summary)}
    arrays = {k: np.asarray(v) for k, v in flat.items()}
    return atomic_savez(path, {**arrays, "__meta__": np.array(json.dumps(meta))}, compress=False)


def load_classifier(path: str | Path) -> ClassifierFile:
    """Read a classifier file; a wrong or damaged file raises ``ValueError`` saying so."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"classifier {path} does not exist; train one with `hilserl-bench classifier train`")
    with np.load(path, allow_pickle=False) as npz:
        if "__meta__" not in npz.files:
            raise ValueError(f"{path} is not a hilserl-bench classifier (no __meta__)")
        meta = json.loads(str(npz["__meta__"]))
        arrays = {k: npz[k] for k in npz.files if k != "__meta__"}
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: format {meta.get('format')!r}, expected {FORMAT!r}")
    net = SuccessClassifier(tuple(meta["cameras"]), meta["backbone"], meta["freeze_backbone"])
    shape = tuple(meta["image_shape"])
    example = {"images": {cam: np.zeros((1, *shape), np.uint8) for cam in net.cameras}}
    wanted = traverse_util.flatten_dict(jax.eval_shape(net.init, jax.random.PRNGKey(0), example)["params"], sep="/")
    if set(wanted) != set(arrays) or any(tuple(wanted[k].shape) != arrays[k].shape for k in wanted):
        raise ValueError(f"{path}: parameters do not fit a {meta['backbone']} classifier for {net.cameras}")
    params = traverse_util.unflatten_dict(arrays, sep="/")
    return ClassifierFile(net, params, meta["task_id"], net.cameras, shape, float(meta["threshold"]), meta)


class ClassifierPredictor:
    """``predictor(obs) -> probability``; ``predictor.batch(images)`` for many frames at once."""

    def __init__(self, classifier: ClassifierFile) -> None:
        self.classifier = classifier
        net = classifier.net
        self._probs = jax.jit(lambda p, obs: jax.nn.sigmoid(net.apply({"params": p}, obs)))

    def batch(self, images: Mapping[str, np.ndarray], chunk: int = 64) -> np.ndarray:
        """Probabilities ``(N,)`` of ``{cam: (N, H, W, 3)}`` frames, evaluated in chunks."""
        n = len(next(iter(images.values())))
        out = []
        for start in range(0, n, chunk):
            obs = {"images": {cam: np.asarray(images[cam][start:start + chunk]) for cam in self.classifier.cameras}}
            out.append(np.asarray(self._probs(self.classifier.params, obs)))
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    def __call__(self, obs: Mapping[str, Any]) -> float:
        images = obs["images"]
        for cam in self.classifier.cameras:
            if tuple(images[cam].shape) != self.classifier.image_shape:
                raise ValueError(f"classifier expects {cam} frames of {self.classifier.image_shape}, "
                                 f"got {tuple(images[cam].shape)}: use the image size it was trained with")
        return float(self.batch({cam: np.asarray(images[cam])[None] for cam in self.classifier.cameras})[0])


def near_target_check(env: gym.Env, radius: float = STATE_CHECK_RADIUS):
    """``obs -> bool``: the first arm's TCP is within ``radius`` metres of the task's target pose."""
    raw = env.unwrapped
    target = np.asarray(raw.task.target_pose)[:3]

    def check(_obs: Any) -> bool:
        state = raw.last_obs["state"]
        key = next(k for k in state if k.endswith("tcp_pose"))
        return bool(np.linalg.norm(np.asarray(state[key])[:3] - target) <= radius)

    return check


def classifier_reward_env(env: gym.Env, path: str | Path, threshold: float | None = None,
                          state_check: bool = True) -> RewardClassifier:
    """``env`` rewarded by the classifier at ``path`` (its stored threshold unless given)."""
    classifier = load_classifier(path)
    task_id = env.unwrapped.task.task_id
    if classifier.task_id != task_id:
        raise ValueError(f"classifier {path} was trained for {classifier.task_id!r}, not {task_id!r}")
    check = near_target_check(env) if state_check else None
    return RewardClassifier(env, ClassifierPredictor(classifier),
                            classifier.threshold if threshold is None else threshold, check)
