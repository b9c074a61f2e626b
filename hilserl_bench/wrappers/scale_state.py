"""Divide each entry of the flat state vector by its physical unit, so every feature is O(1).

Without it a learner sees forces of ~10 N beside the millimetre offsets that decide a
tight insertion, and the first layer cannot resolve the latter. Units are fixed by
the meaning of each key (no running statistics), so checkpoints and recorded demos
stay valid and the scaling is stored in every episode's stack description.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

ARM_UNITS: dict[str, tuple[float, ...]] = {
    "tcp_pose": (0.02, 0.02, 0.02, 0.05, 0.05, 0.05),
    "tcp_vel": (0.05, 0.05, 0.05, 0.2, 0.2, 0.2),
    "tcp_force": (10.0,) * 3,
    "tcp_torque": (1.0,) * 3,
    "gripper_pose": (1.0,),
}
"""Per-arm proprioception units: 2 cm / 0.05 rad poses, 5 cm/s / 0.2 rad/s twists, 10 N, 1 N m."""
TASK_DEFAULT_UNIT = 0.01
"""Task-state entries are offsets in metres unless the task says otherwise (1 cm)."""


def state_units(layout: list[tuple[str, slice]], task: Any) -> np.ndarray:
    """The unit of every entry of a FlattenState vector, from its key."""
    task_units = task.task_state_units()
    units = np.ones(layout[-1][1].stop, dtype=np.float32)
    for key, sl in layout:
        name = key.split("/")[-1]
        if key.startswith("task/"):
            units[sl] = task_units.get(name, TASK_DEFAULT_UNIT)
        elif name in ARM_UNITS and len(ARM_UNITS[name]) == sl.stop - sl.start:
            units[sl] = ARM_UNITS[name]
        elif name == "tcp_pose":
            units[sl] = (0.02,) * 3 + (0.05,) * (sl.stop - sl.start - 3)
    return units


class ScaleState(gym.ObservationWrapper):
    """Outside FlattenState: ``state / units`` (see :func:`state_units`)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.units = state_units(env.get_wrapper_attr("layout"), env.unwrapped.task)
        space = env.observation_space
        spaces = dict(space.spaces)
        state = spaces["state"]
        spaces["state"] = gym.spaces.Box(-np.inf, np.inf, state.shape, np.float32)
        self.observation_space = gym.spaces.Dict(spaces)

    def observation(self, observation: dict[str, Any]) -> dict[str, Any]:
        return {**observation, "state": (observation["state"] / self.units).astype(np.float32)}
