"""Task-specific parts of the replica checks: each task's naive motions and its capture range."""

from __future__ import annotations

from typing import Any

import numpy as np
from ssd_cable_policies import ServoTo, Waypoints

import hilserl_bench as hb
from hilserl_bench.envs.experts.ssd_assembly import SsdAssemblyExpert
from hilserl_bench.envs.props import m2_ssd as m2
from hilserl_bench.envs.tasks.ssd_assembly import board_in_socket


def naive_policies(task_id: str, env: Any) -> dict[str, Any]:
    """The obvious wrong ways to do ``task_id``, all with the configured target pose."""
    task = env.unwrapped.task
    if task_id == "ssd_assembly":
        above = task.target_pose
        above[2] += 0.02
        pressed = task.target_pose
        pressed[2] -= 0.002
        seat20 = task.tcp_for_board(board_in_socket(m2.INSERT_ANGLE, -0.0008))
        pre20 = task.tcp_for_board(board_in_socket(m2.INSERT_ANGLE, 0.006))
        return {
            "naive_straight_to_target": ServoTo(env),
            "naive_flat_push_down": Waypoints(env, [above, pressed], [None, None]),
            "naive_insert_then_turn_about_tcp": Waypoints(env, [pre20, seat20, task.target_pose], [None] * 3),
        }
    if task_id == "cable_clipping":
        return {
            "naive_straight_to_target": ServoTo(env, gripper=-1.0),
            "naive_press_at_start_yaw": _PressKeepingYaw(env),
            "naive_push_straight_down": _PushDown(env),
        }
    raise ValueError(f"no naive policies for {task_id!r}")


class _PressKeepingYaw(Waypoints):
    """Hover over the seat, press, but keep the yaw the episode started with (no yaw alignment)."""

    def __init__(self, env: Any) -> None:
        super().__init__(env, [], [])

    def reset(self, rng: np.random.Generator) -> None:
        self.i, self.poses = 0, []

    def act(self, obs: dict[str, Any]) -> np.ndarray:
        if not self.poses:
            start = np.asarray(obs["state"]["tcp_pose"], dtype=np.float64)
            hover, press = self.task.target_pose, self.task.target_pose
            hover[2] += 0.006
            press[2] -= 0.002
            hover[3:] = press[3:] = start[3:]
            self.poses, self.grippers = [hover, press], [-1.0, -1.0]
        return super().act(obs)


class _PushDown(Waypoints):
    """Press straight down from wherever the episode starts."""

    def __init__(self, env: Any) -> None:
        super().__init__(env, [], [])

    def reset(self, rng: np.random.Generator) -> None:
        self.i, self.poses = 0, []

    def act(self, obs: dict[str, Any]) -> np.ndarray:
        if not self.poses:
            down = np.asarray(obs["state"]["tcp_pose"], dtype=np.float64).copy()
            down[2] = self.task.target_pose[2] - 0.002
            self.poses, self.grippers = [down], [-1.0]
        return super().act(obs)


class _BiasedSsdExpert(SsdAssemblyExpert):
    """The SSD expert aiming at a socket displaced by ``bias`` (m, base frame)."""

    bias = np.zeros(3)

    def _tcp(self, board: np.ndarray, lift: float = 0.0) -> np.ndarray:
        goal = super()._tcp(board, lift)
        goal[:3] += self.bias
        return goal


def capture_range(task_id: str) -> dict[str, Any]:
    """How far off the insertion path the part still goes in, from the nominal start."""
    if task_id != "ssd_assembly":
        raise ValueError(f"no capture-range check for {task_id!r}")
    env = hb.make(task_id, obs_mode="state", random_xy=0.0, random_yaw=0.0)
    out: dict[str, Any] = {}
    for axis, name in ((1, "lateral"), (2, "vertical")):
        for mm in (-2.0, -1.5, -1.0, -0.6, -0.3, 0.3, 0.6, 1.0, 1.5, 2.0):
            expert = _BiasedSsdExpert(env.unwrapped)
            expert.bias = np.zeros(3)
            expert.bias[axis] = mm * 1e-3
            obs, info = env.reset(seed=0)
            expert.reset(np.random.default_rng(0))
            best = np.inf
            for _ in range(40):
                obs, _, term, trunc, info = env.step(expert.act(obs))
                best = min(best, info["edge_shortfall_mm"])
                if expert.phase == "lay" or term:
                    break
            out[f"{name}_{mm:+.1f}mm_enters"] = bool(best < 1.0)
    env.close()
    return out
