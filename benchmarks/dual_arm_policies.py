"""Scripts that should NOT solve the dual-arm tasks: open-loop replays and naive shortcuts.

Used by ``benchmarks/dual_arm_checks.py`` to show the tasks cannot be solved blind
(replica_quality.md, section 1). Each is a policy (``reset(rng)`` / ``act(obs)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import hilserl_bench as hb
from hilserl_bench.envs.experts import make_expert
from hilserl_bench.envs.experts.base import servo_action
from hilserl_bench.envs.experts.dashboard_assembly import DashboardAssemblyExpert
from hilserl_bench.envs.experts.object_handover import ObjectHandoverExpert, pick_action

NOMINAL = {"object_handover": {"bar_random_xy": 0.0, "bar_random_yaw": 0.0},
           "dashboard_assembly": {"panel_random_xy": 0.0, "random_xy": 0.0}}
"""Overrides that put every object at its nominal start (what a blind script assumes)."""


class OpenLoopReplay:
    """The expert's actions on the nominal (unrandomised) episode, replayed without looking."""

    def __init__(self, task_id: str) -> None:
        env = hb.make(task_id, obs_mode="state", **NOMINAL[task_id])
        expert = make_expert(env)
        obs, _ = env.reset(seed=0)
        expert.reset(np.random.default_rng(0))
        self.actions: list[np.ndarray] = []
        for _ in range(env.unwrapped.task.config.max_steps):
            action = expert.act(obs)
            self.actions.append(action)
            obs, _, term, trunc, info = env.step(action)
            if term or trunc:
                break
        self.nominal_success = bool(info["succeed"])
        self.hold = self.actions[-1] * 0.0
        env.close()
        self._t = 0

    def reset(self, rng: np.random.Generator) -> None:
        self._t = 0

    def act(self, obs: Any) -> np.ndarray:
        self._t += 1
        return self.actions[self._t - 1] if self._t <= len(self.actions) else self.hold


class OneArmHandover(ObjectHandoverExpert):
    """Naive handover: the left arm picks the bar and carries it toward the pad itself, then lets go."""

    def plan(self, obs: dict[str, Any]) -> np.ndarray:
        task, states = self.task, self.env.arm_states
        tcps = task.tcp_world(states)
        bar = self.scene().poses["bar"]
        goal, grip = tcps[0], 1.0
        if self._holds(0, states[0].gripper_pos, tcps[0], bar):
            goal = tcps[0].copy()
            goal[1], goal[2], grip = -0.3, 0.15, -1.0
            if tcps[0][1] < 0.06:
                grip = 1.0
        elif bar[2] < 0.03 and bar[1] > 0.03:
            goal, grip = pick_action(tcps[0], task.grasp_pose(bar, 0))
        scale = task.config.action_scale
        left = np.append(servo_action(states[0].pose, task.to_arm(0, goal), scale), grip)
        return np.concatenate([left, np.zeros(6), [1.0]])


class StraightPressDashboard(DashboardAssemblyExpert):
    """Naive dashboard: grasp both handles, then head straight for the pressed pose (no lift, no aligning)."""

    def _panel_goal(self, panel: np.ndarray) -> np.ndarray:
        press = self.task.seat_pose.copy()
        press[2] -= 0.012
        return press


def naive_policy(task_id: str, env: Any) -> Any:
    """The naive script of ``task_id`` bound to ``env``."""
    cls = {"object_handover": OneArmHandover, "dashboard_assembly": StraightPressDashboard}[task_id]
    return cls(env.unwrapped)
