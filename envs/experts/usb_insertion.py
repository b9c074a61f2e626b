"""Scripted USB grasp-insertion: grasp the plug, carry it square to the port, push it in.

Sim-only: it reads the free plug's pose to find it on the table and to correct for
where it sits in the hand (a real robot would need a perception stage for that).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.envs.experts import register_expert
from hilserl_bench.envs.experts.base import Expert, servo_action
from hilserl_bench.envs.tasks.usb_insertion import PLUG_TIP_X

OPEN, CLOSE = 1.0, -1.0


@register_expert("usb_insertion")
class UsbInsertionExpert(Expert):
    """Phases: approach above the plug, descend, close, lift, align the tip with the mouth, insert."""

    sim_only = True

    def reset(self, rng: np.random.Generator) -> None:
        super().reset(rng)
        self.phase, self.phase_steps = "approach", 0

    def _goto(self, phase: str) -> None:
        self.phase, self.phase_steps = phase, 0

    def plan(self, obs: dict[str, Any]) -> np.ndarray:
        pose = np.asarray(obs["state"]["tcp_pose"], dtype=np.float64)
        task, scale = self.task, self.task.config.action_scale
        plug = self.scene().poses["usb_plug"]
        self.phase_steps += 1
        grasp = task.plug_grasp_pose(plug)
        if self.phase == "approach":
            hover = grasp.copy()
            hover[2] += 0.03
            if _close(pose, hover, 0.002, 0.02):
                self._goto("descend")
            return np.append(servo_action(pose, hover, scale), OPEN)
        if self.phase == "descend":
            if _close(pose, grasp, 0.0015, 0.02):
                self._goto("close")
            return np.append(servo_action(pose, grasp, scale), OPEN)
        if self.phase == "close":
            if self.phase_steps >= 7:
                self._goto("lift")
            return np.append(servo_action(pose, grasp, scale), CLOSE)
        goal = self._tcp_goal_for_tip(pose, plug, depth=-0.004 if self.phase in ("lift", "align") else 0.014)
        if self.phase == "lift":
            raised = goal.copy()
            raised[2] += 0.01
            if _close(pose, raised, 0.003, 0.03) or self.phase_steps > 25:
                self._goto("align")
            return np.append(servo_action(pose, raised, scale), CLOSE)
        if self.phase == "align":
            if _close(pose, goal, 0.0004, 0.006) or self.phase_steps > 30:
                self._goto("insert")
            return np.append(servo_action(pose, goal, scale), CLOSE)
        return np.append(servo_action(pose, goal, scale), CLOSE)

    def _tcp_goal_for_tip(self, pose: np.ndarray, plug: np.ndarray, depth: float) -> np.ndarray:
        """TCP pose that puts the plug's tip ``depth`` past the mouth, square to the port, given the in-hand offset."""
        mouth = self.task.mouth_pose
        plug_in_tcp = geo.pose_compose(geo.pose_inverse(pose), plug)
        tip_in_tcp = geo.pose_compose(plug_in_tcp, np.array([PLUG_TIP_X, 0, 0, 0, 0, 0, 1.0]))
        tip_goal = geo.pose_compose(mouth, np.array([depth, 0, 0, 0, 0, 0, 1.0]))
        tip_goal[3:] = mouth[3:]
        return geo.pose_compose(tip_goal, geo.pose_inverse(tip_in_tcp))


def _close(pose: np.ndarray, goal: np.ndarray, tol_t: float, tol_r: float) -> bool:
    return bool(np.linalg.norm(pose[:3] - goal[:3]) < tol_t and
                np.linalg.norm(geo.orientation_error(pose[3:], goal[3:])) < tol_r)
