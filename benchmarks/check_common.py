"""What the replica check scripts (dual-arm, IKEA, timing belt) share: determinism and live progress.

Every replica must show that the same seed replays the same trajectory and how wide its reset
spread really is (replica_quality.md); long check runs report each finished figure as it lands.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np


def same_seed_identical(env: Any, steps: int, seed: int = 7) -> bool:
    """Two seeded resets driven by the same seeded random actions give bit-identical task states."""
    traces = []
    for _ in range(2):
        obs, _ = env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        trace = []
        for _ in range(steps):
            obs, *_ = env.step(rng.uniform(-1, 1, env.action_space.shape))
            trace.append(np.concatenate([np.ravel(v) for v in obs["task"].values()]))
        traces.append(np.array(trace))
    return bool(np.array_equal(*traces))


def start_ranges(starts: np.ndarray, names: tuple[str, str] = ("start_dx_range_m", "start_dy_range_m")
                 ) -> dict[str, list[float]]:
    """Min and max of sampled start offsets (or positions) per axis, named as the result files name them."""
    return {name: [float(starts[:, i].min()), float(starts[:, i].max())] for i, name in enumerate(names)}


class Progress(dict):
    """A result dict that reports each finished check on stderr, labelled by its ``label`` entry."""

    def __init__(self, label: str, **items: Any) -> None:
        super().__init__(**items)
        self.label = label

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        print(f"[{self.get(self.label)}] {key}: {json.dumps(value)}", file=sys.stderr, flush=True)
