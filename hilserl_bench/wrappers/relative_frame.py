"""Policy-side TCP frame: actions and velocities in the gripper's frame, pose relative to the reset.

HIL-SERL trains policies in the end-effector frame so a learned motion ("push along the
finger axis") does not depend on where the episode started. This wrapper does that mapping
physically correctly by default: a twist ``(v, w)`` expressed in the current TCP frame is
``(R v, R w)`` in the base frame, ``R`` being the TCP orientation at the observation the
policy acted on.

The official client instead multiplies by the adjoint ``[[R, 0], [skew(p) R, R]]``, so a
pure translation command also commands a rotation ``skew(p) R v`` that grows with the TCP's
distance ``p`` from the base origin (robot_server.md, "quirks"). That is kept only behind
``official_adjoint_coupling=True`` for parity with policies and data from the official stack.

Wrench-controlled tasks (object flipping, Jenga) act with a subset of a base-frame wrench,
as the official wrench env does; their actions pass through unmapped, only the observation
is made relative.
"""

from __future__ import annotations

import copy
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.wrappers._arms import arm_slots, state_dict, state_space


def tcp_to_base_twist(twist: np.ndarray, tcp_pose: np.ndarray, official_adjoint_coupling: bool = False) -> np.ndarray:
    """Map a 6-vector twist [v, w] from the TCP frame of ``tcp_pose`` to the base frame."""
    rot = geo.quat_to_mat(geo.quat_normalize(tcp_pose[3:]))
    v, w = rot @ twist[:3], rot @ twist[3:6]
    if official_adjoint_coupling:
        w = w + geo.skew(tcp_pose[:3]) @ v
    return np.concatenate([v, w])


def base_to_tcp_twist(twist: np.ndarray, tcp_pose: np.ndarray, official_adjoint_coupling: bool = False) -> np.ndarray:
    """Inverse of :func:`tcp_to_base_twist` (the official inverse adjoint when coupling is on)."""
    rot = geo.quat_to_mat(geo.quat_normalize(tcp_pose[3:]))
    v, w = twist[:3], twist[3:6]
    if official_adjoint_coupling:
        w = w - geo.skew(tcp_pose[:3]) @ v
    return np.concatenate([rot.T @ v, rot.T @ w])


class RelativeFrame(gym.Wrapper):
    """Express ``tcp_pose`` relative to the reset pose, ``tcp_vel`` and actions in the TCP frame.

    Per arm (single or dual): the observed ``tcp_pose`` becomes ``T_reset^-1 T_now`` (identity
    at reset); ``tcp_vel`` becomes ``(R^T v, R^T w)``; the policy's twist is mapped to the base
    frame with the orientation of the latest observation; ``info["intervene_action"]`` (what
    was executed, base frame) is mapped back with that same orientation so learners store the
    action in the policy's frame. Gripper dims pass through; ``info["teleop_action"]`` is left
    in the device's raw frame. ``tcp_force`` / ``tcp_torque`` are already in the TCP frame.

    Norms are preserved, so a base-frame action may leave [-1, 1] on one axis; the raw env
    clips per axis, as the official stack does.

    Args:
        official_adjoint_coupling: reproduce the official adjoint ``[[R, 0], [skew(p) R, R]]``
            (and its inverse for velocities and intervention actions). A quirk kept only for
            parity: a translation then also commands a rotation ``skew(p) R v``.
    """

    def __init__(self, env: gym.Env, official_adjoint_coupling: bool = False) -> None:
        super().__init__(env)
        self.official_adjoint_coupling = official_adjoint_coupling
        self._arms = arm_slots(env)
        space = copy.deepcopy(env.observation_space)
        state = state_space(space, "RelativeFrame")
        for arm in self._arms:
            for key in ("tcp_pose", "tcp_vel"):
                old = state[arm.key(key)]
                state[arm.key(key)] = gym.spaces.Box(-np.inf, np.inf, old.shape, old.dtype)
        self.observation_space = space
        self._reset_inverse: list[np.ndarray] = []
        self._poses: list[np.ndarray] = []

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        obs, info = self.env.reset(seed=seed, options=options)
        self._remember(obs)
        self._reset_inverse = [geo.pose_inverse(p) for p in self._poses]
        return self._observe(obs), info

    def step(self, action: np.ndarray) -> tuple[Any, SupportsFloat, bool, bool, dict]:
        obs, reward, terminated, truncated, info = self.env.step(self.to_base(action))
        if "intervene_action" in info:
            info = dict(info)
            info["intervene_action"] = self.to_tcp(info["intervene_action"])
        self._remember(obs)
        return self._observe(obs), reward, terminated, truncated, info

    def to_base(self, action: np.ndarray) -> np.ndarray:
        """Policy action (TCP frame) to the raw env's base-frame action at the current pose."""
        return self._map(action, tcp_to_base_twist)

    def to_tcp(self, action: np.ndarray) -> np.ndarray:
        """Raw env (base-frame) action to the policy's TCP frame at the current pose."""
        return self._map(action, base_to_tcp_twist)

    def _map(self, action: np.ndarray, fn: Any) -> np.ndarray:
        if not self._poses:
            raise RuntimeError("RelativeFrame: call reset() before step()")
        out = np.array(action, dtype=np.float64)
        for arm, pose in zip(self._arms, self._poses, strict=True):
            if not arm.is_wrench:
                out[arm.twist] = fn(out[arm.twist], pose, self.official_adjoint_coupling)
        return out.astype(self.env.action_space.dtype)

    def _remember(self, obs: dict) -> None:
        state = state_dict(obs, "RelativeFrame")
        self._poses = [np.asarray(state[arm.key("tcp_pose")], dtype=np.float64).copy() for arm in self._arms]

    def _observe(self, obs: dict) -> dict:
        state = dict(obs["state"])
        spaces = self.observation_space["state"]
        for arm, pose, reset_inv in zip(self._arms, self._poses, self._reset_inverse, strict=True):
            pose_key, vel_key = arm.key("tcp_pose"), arm.key("tcp_vel")
            relative = geo.pose_compose(reset_inv, pose)
            vel = base_to_tcp_twist(np.asarray(state[vel_key], dtype=np.float64), pose, self.official_adjoint_coupling)
            state[pose_key] = relative.astype(spaces[pose_key].dtype)
            state[vel_key] = vel.astype(spaces[vel_key].dtype)
        return {**obs, "state": state}
