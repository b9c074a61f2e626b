"""Replace every arm's quaternion ``tcp_pose`` (7) by xyz + extrinsic xyz Euler angles (6).

The official HIL-SERL policies observe Euler angles; a downward-facing gripper sits near
roll = +/-pi where the angle wraps, which is the official behaviour kept as is (put
:class:`~hilserl_bench.wrappers.RelativeFrame` first so the observed pose starts at identity,
far from the wrap).
"""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym
import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.wrappers._arms import state_dict, state_space


def _is_pose_key(key: str) -> bool:
    return key == "tcp_pose" or key.endswith("/tcp_pose")


class QuatToEuler(gym.ObservationWrapper):
    """``state[*tcp_pose]``: [x, y, z, qx, qy, qz, qw] -> [x, y, z, roll, pitch, yaw]."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        space = copy.deepcopy(env.observation_space)
        state = state_space(space, "QuatToEuler")
        self._keys = [k for k in state if _is_pose_key(k)]
        if not self._keys:
            raise ValueError("QuatToEuler: the state has no tcp_pose key")
        for key in self._keys:
            if state[key].shape != (7,):
                raise ValueError(f"QuatToEuler: {key} has shape {state[key].shape}, expected (7,)")
            state[key] = gym.spaces.Box(-np.inf, np.inf, (6,), state[key].dtype)
        self.observation_space = space

    def observation(self, observation: dict[str, Any]) -> dict[str, Any]:
        state = dict(state_dict(observation, "QuatToEuler"))
        for key in self._keys:
            pose = np.asarray(state[key], dtype=np.float64)
            state[key] = geo.pose_to_6d(pose).astype(self.observation_space["state"][key].dtype)
        return {**observation, "state": state}
