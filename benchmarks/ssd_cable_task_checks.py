"""Task-specific parts of the replica checks: each task's naive motions and its capture range."""

from __future__ import annotations

from typing import Any

import numpy as np
from ssd_cable_policies import ServoTo, Waypoints

import hilserl_bench as hb
from hilserl_bench import geometry as geo
from hilserl_bench.envs.experts import make_expert
from hilserl_bench.envs.experts.cable_clipping import CableClippingExpert
from hilserl_bench.envs.experts.ssd_assembly import SsdAssemblyExpert
from hilserl_bench.envs.props import m2_ssd as m2
from hilserl_bench.envs.tasks.ssd_assembly import board_in_socket

NAIVE = {"ssd_assembly": ("naive_straight_to_target", "naive_flat_push_down", "naive_insert_then_turn_about_tcp"),
         "cable_clipping": ("naive_straight_to_target", "naive_press_at_start_yaw", "naive_push_straight_down")}


def naive_policies(task_id: str, env: Any) -> dict[str, Any]:
    """The obvious wrong ways to do ``task_id``, all with the configured target pose, bound to ``env``
    (with ``env=None``: just their names)."""
    if task_id not in NAIVE:
        raise ValueError(f"no naive policies for {task_id!r}")
    if env is None:
        return dict.fromkeys(NAIVE[task_id])
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


class _BiasedCableExpert(CableClippingExpert):
    """The cable expert aiming at a clip seat displaced by ``bias`` (m, base frame) and turned by ``yaw`` (rad)."""

    bias = np.zeros(3)
    yaw = 0.0

    def plan(self, obs: dict[str, Any]) -> np.ndarray:
        true_seat = self.task.seated_plug.copy()
        seat = true_seat.copy()
        seat[:3] += self.bias
        seat[3:] = geo.quat_mul(geo.euler_to_quat(np.array([0.0, 0.0, self.yaw])), seat[3:])
        self.task.seated_plug = seat
        try:
            return super().plan(obs)
        finally:
            self.task.seated_plug = true_seat


def capture_range(task_id: str) -> dict[str, Any]:
    """How far off the insertion path the part still goes in, from the nominal start."""
    if task_id == "cable_clipping":
        return _cable_capture_range()
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
                if info["edge_height_mm"] < 1.6:  # under the roof (a tilted, inserted edge sits 1.2 mm low)
                    best = min(best, info["edge_shortfall_mm"])
                if expert.phase == "lay" or term:
                    break
            out[f"{name}_{mm:+.1f}mm_enters"] = bool(best < 1.0)
    env.close()
    return out


def _cable_capture_range() -> dict[str, Any]:
    """Success of the expert pressing at a seat displaced sideways (mm) or turned (deg), nominal start."""
    env = hb.make("cable_clipping", obs_mode="state", random_xy=0.0, random_yaw=0.0)
    out: dict[str, Any] = {}
    trials = [("lateral", mm, 0.0) for mm in (-3.0, -2.5, -2.0, -1.5, -1.0, 1.0, 1.5, 2.0, 2.5, 3.0)]
    trials += [("yaw", 0.0, deg) for deg in (-4.0, -3.0, -2.0, -1.0, 1.0, 2.0, 3.0, 4.0)]
    for kind, mm, deg in trials:
        expert = _BiasedCableExpert(env.unwrapped)
        expert.bias = np.array([0.0, mm * 1e-3, 0.0])
        expert.yaw = float(np.deg2rad(deg))
        obs, info = env.reset(seed=0)
        expert.reset(np.random.default_rng(0))
        for _ in range(60):
            obs, _, term, trunc, info = env.step(expert.act(obs))
            if term:
                break
        label = f"{mm:+.1f}mm" if kind == "lateral" else f"{deg:+.0f}deg"
        out[f"{kind}_{label}_clips"] = bool(info["succeed"])
    env.close()
    return out


def retention(task_id: str, episodes: int) -> dict[str, Any]:
    """After each expert success: open the gripper, lift the hand 4.5 cm, wait 0.5 s; still a success?"""
    env = hb.make(task_id, obs_mode="state")
    expert = make_expert(env)
    clipped = kept = 0
    for seed in range(episodes):
        obs, _ = env.reset(seed=seed)
        expert.reset(np.random.default_rng(seed))
        info = {}
        for _ in range(env.unwrapped.task.config.max_steps):
            obs, _, term, trunc, info = env.step(expert.act(obs))
            if term or trunc:
                break
        if not info.get("succeed"):
            continue
        clipped += 1
        for action in [[0, 0, 0, 0, 0, 0, 1.0]] * 8 + [[0, 0, 1.0, 0, 0, 0, 1.0]] * 3 + [[0, 0, 0, 0, 0, 0, 1.0]] * 5:
            obs, _, _, _, info = env.step(np.array(action))
        kept += bool(info["succeed"])
    env.close()
    return {"clipped": clipped, "still_clipped_after_release": kept}
