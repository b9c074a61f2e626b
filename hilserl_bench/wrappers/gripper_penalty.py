"""Penalty for gripper commands that change the gripper state (learned-gripper tasks).

HIL-SERL trains its discrete gripper critic on task reward plus a small penalty whenever
a command actually opens or closes the gripper, which discourages chattering. The rule
follows the official client: a gripper action <= -0.5 closes an open gripper, >= +0.5
opens a closed one; anything else changes nothing and costs nothing. The action judged
is the one executed (``info["intervene_action"]`` when a person intervened).

By default the penalty only goes into ``info["grasp_penalty"]`` (where the gripper
critic reads it), so the task reward stays the paper's sparse reward.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from hilserl_bench.wrappers._arms import arm_slots, state_dict, state_space


@dataclass(frozen=True)
class GripperPenaltyConfig:
    """Size of the penalty, where it goes, and when the gripper counts as open."""

    penalty: float = -0.02
    """Added per arm whose gripper command changes the gripper state (the paper's -0.02)."""
    apply_to_reward: bool = False
    """Also add the penalty to the returned reward (off: only ``info["grasp_penalty"]``)."""
    open_threshold: float = 0.5
    """``gripper_pose`` above this counts as open (1 open, 0 closed)."""


class GripperPenalty(gym.Wrapper):
    """Add ``info["grasp_penalty"]`` (summed over arms) for state-changing gripper commands.

    Needs the state as a dict (wrap it inside FlattenState) and a learned gripper.
    """

    def __init__(self, env: gym.Env, config: GripperPenaltyConfig | None = None, **overrides: Any) -> None:
        super().__init__(env)
        self.config = dataclasses.replace(config or GripperPenaltyConfig(), **overrides)
        self._arms = arm_slots(env)
        if any(arm.gripper is None for arm in self._arms):
            raise ValueError("GripperPenalty needs a learned-gripper task (a gripper dim per arm in the action)")
        state = state_space(env.observation_space, "GripperPenalty")
        missing = [arm.key("gripper_pose") for arm in self._arms if arm.key("gripper_pose") not in state.spaces]
        if missing:
            raise ValueError(f"GripperPenalty: the state lacks {missing}")
        self._open: list[bool] = []

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        obs, info = self.env.reset(seed=seed, options=options)
        self._remember(obs)
        return obs, info

    def step(self, action: np.ndarray) -> tuple[Any, SupportsFloat, bool, bool, dict]:
        if not self._open:
            raise RuntimeError("GripperPenalty: call reset() before step()")
        obs, reward, terminated, truncated, info = self.env.step(action)
        executed = np.asarray(info.get("intervene_action", action), dtype=np.float64)
        penalty = 0.0
        for arm, was_open in zip(self._arms, self._open, strict=True):
            command = executed[arm.gripper]
            if (was_open and command <= -0.5) or (not was_open and command >= 0.5):
                penalty += self.config.penalty
        info = {**info, "grasp_penalty": penalty}
        if self.config.apply_to_reward:
            reward = float(reward) + penalty
        self._remember(obs)
        return obs, reward, terminated, truncated, info

    def _remember(self, obs: dict) -> None:
        state = state_dict(obs, "GripperPenalty")
        self._open = [float(np.asarray(state[arm.key("gripper_pose")]).reshape(-1)[0]) > self.config.open_threshold
                      for arm in self._arms]
