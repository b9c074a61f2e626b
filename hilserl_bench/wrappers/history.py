"""Stack the last ``n`` observations (the official "chunking" wrapper, observation side).

Every leaf (state vector, each camera frame) gains a leading axis of length ``n``, oldest
first, newest last. At reset the first observation is repeated ``n`` times, so the shape
never changes within an episode. Put it outermost (after FlattenState) as the official
stack does; the official wrapper's action-chunk execution is not reproduced (it runs with
one action per step in every HIL-SERL config).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np


def _stack_space(space: gym.spaces.Space, n: int) -> gym.spaces.Space:
    if isinstance(space, gym.spaces.Dict):
        return gym.spaces.Dict({k: _stack_space(v, n) for k, v in space.items()})
    if isinstance(space, gym.spaces.Box):
        low = np.repeat(space.low[None], n, axis=0)
        high = np.repeat(space.high[None], n, axis=0)
        return gym.spaces.Box(low, high, (n, *space.shape), space.dtype)
    raise TypeError(f"ObservationHistory: cannot stack a {type(space).__name__} space")


def _stack(frames: list[Any]) -> Any:
    first = frames[0]
    if isinstance(first, Mapping):
        return {k: _stack([f[k] for f in frames]) for k in first}
    return np.stack([np.asarray(f) for f in frames])


class ObservationHistory(gym.Wrapper):
    """Observations of shape ``(n, ...)`` per leaf, the last ``n`` steps, oldest first.

    Args:
        n: history length (the official ``obs_horizon``); ``n=1`` only adds the axis.
    """

    def __init__(self, env: gym.Env, n: int = 1) -> None:
        if n < 1:
            raise ValueError(f"ObservationHistory: n must be >= 1, got {n}")
        super().__init__(env)
        self.n = n
        self.observation_space = _stack_space(env.observation_space, n)
        self._frames: deque[Any] = deque(maxlen=n)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        obs, info = self.env.reset(seed=seed, options=options)
        self._frames.clear()
        self._frames.extend([obs] * self.n)
        return _stack(list(self._frames)), info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._frames.append(obs)
        return _stack(list(self._frames)), reward, terminated, truncated, info
