"""Flatten the proprio (and privileged task) state dict into one float32 vector.

Learners and reward functions index this vector by position, so the order is explicit and
exposed as :attr:`FlattenState.layout`. The default order is canonical per arm (tcp_pose,
tcp_vel, tcp_force, tcp_torque, gripper_pose; arms in ``task.arms`` order), then any other
state keys sorted, then the ``obs_mode="state"`` task keys sorted, named ``task/<key>``.
The official code instead flattens in alphabetical order (a side effect of gymnasium's
sorted Dict) and its reward functions index that order; ``official_alphabetical_order``
reproduces it (state keys sorted, then task keys sorted).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from hilserl_bench.wrappers._arms import arm_slots, state_space

CANONICAL_ARM_KEYS = ("tcp_pose", "tcp_vel", "tcp_force", "tcp_torque", "gripper_pose")
TASK_PREFIX = "task/"


@dataclass(frozen=True)
class FlattenStateConfig:
    """Which state keys go into the vector and in what order."""

    keys: tuple[str, ...] | None = None
    """Explicit order (a subset is allowed; unlisted keys are dropped). State keys by their
    state-dict name (``tcp_pose``, ``left/tcp_pose``), task keys as ``task/<key>``.
    ``None``: the canonical order described in the module docstring."""
    official_alphabetical_order: bool = False
    """Reproduce the official alphabetical order; cannot be combined with ``keys``."""


class FlattenState(gym.ObservationWrapper):
    """Observation ``{"state": float32 vector, "images": {camera: frame}}``.

    The ``task`` dict (state mode) is folded into the vector; ``images`` and any other
    top-level entries pass through unchanged.
    """

    def __init__(self, env: gym.Env, config: FlattenStateConfig | None = None, **overrides: Any) -> None:
        super().__init__(env)
        self.config = dataclasses.replace(config or FlattenStateConfig(), **overrides)
        space = env.observation_space
        state = state_space(space, "FlattenState")
        task = space.get("task")
        leaves: dict[str, gym.spaces.Box] = dict(state.items())
        if isinstance(task, gym.spaces.Dict):
            leaves.update({TASK_PREFIX + k: v for k, v in task.items()})
        keys = self._order(env, list(state.keys()), list(task.keys()) if task is not None else [])
        unknown = [k for k in keys if k not in leaves]
        if unknown:
            raise ValueError(f"FlattenState: unknown keys {unknown}; available: {sorted(leaves)}")
        if len(set(keys)) != len(keys):
            raise ValueError(f"FlattenState: repeated keys in {keys}")
        self._layout: list[tuple[str, slice]] = []
        lows, highs, start = [], [], 0
        for key in keys:
            leaf = leaves[key]
            if not isinstance(leaf, gym.spaces.Box):
                raise TypeError(f"FlattenState: {key} is {leaf}, only Box leaves can be flattened")
            size = int(np.prod(leaf.shape))
            self._layout.append((key, slice(start, start + size)))
            lows.append(np.asarray(leaf.low, dtype=np.float32).reshape(-1))
            highs.append(np.asarray(leaf.high, dtype=np.float32).reshape(-1))
            start += size
        out = {k: v for k, v in space.items() if k not in ("state", "task")}
        out["state"] = gym.spaces.Box(np.concatenate(lows), np.concatenate(highs), (start,), np.float32)
        self.observation_space = gym.spaces.Dict(out)

    def _order(self, env: gym.Env, state_keys: list[str], task_keys: list[str]) -> list[str]:
        if self.config.keys is not None:
            if self.config.official_alphabetical_order:
                raise ValueError("FlattenState: pass either keys or official_alphabetical_order, not both")
            return list(self.config.keys)
        task = [TASK_PREFIX + k for k in sorted(task_keys)]
        if self.config.official_alphabetical_order:
            return sorted(state_keys) + task
        canonical = [arm.key(k) for arm in arm_slots(env) for k in CANONICAL_ARM_KEYS if arm.key(k) in state_keys]
        rest = sorted(k for k in state_keys if k not in canonical)
        return canonical + rest + task

    @property
    def layout(self) -> list[tuple[str, slice]]:
        """(key, slice) of each entry of the state vector, in order."""
        return list(self._layout)

    def index(self, key: str) -> slice:
        """Slice of ``key`` in the state vector."""
        for name, sl in self._layout:
            if name == key:
                return sl
        raise KeyError(f"{key!r} is not in the flattened state; layout: {[k for k, _ in self._layout]}")

    def observation(self, observation: Mapping[str, Any]) -> dict[str, Any]:
        state, task = observation["state"], observation.get("task", {})
        parts = []
        for key, _ in self._layout:
            value = task[key[len(TASK_PREFIX):]] if key.startswith(TASK_PREFIX) else state[key]
            parts.append(np.asarray(value, dtype=np.float32).reshape(-1))
        out = {k: v for k, v in observation.items() if k not in ("state", "task")}
        out["state"] = np.concatenate(parts)
        return out
