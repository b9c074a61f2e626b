"""Scripted cable clipping: line the cable up over the channel, press it in; re-grasp the plug if it was let go.

Sim-only: it reads the plug's pose to correct for where the plug sits in the hand and
to find it again after a drop (a real robot would need perception for both). Its
phase follows from the state: a plug not between the fingers sends it to re-grasp,
a press that stops going down sends it back to align.

A plug picked up after it rolled over on the table sits upside down in the hand. The
cable leaves the middle of the plug's back face, so a plug turned half a turn about its
own axis puts the cable on the same line: the expert then aims for that equivalent seat
instead of asking the wrist for a half turn it cannot make (the safety box allows
+/-0.15 rad of roll). Aiming for the nominal seat left it aligning for the rest of the
episode (3 of 6 mid-plan recoveries, tests/test_supervisor_takeover.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.envs.experts import register_expert
from hilserl_bench.envs.experts.base import Expert, servo_action
from hilserl_bench.envs.props import cable as usb_cable
from hilserl_bench.envs.tasks.cable_clipping import PLUG

OPEN, CLOSE = 1.0, -1.0
HOVER = 0.006
"""Plug this far above its seated height while lining up: the cable's bottom 2 mm above the lips (m)."""
PRESS = 0.002
"""Pressing target this far below the seated height (m); the z reference limit caps the force at 10 N."""
HELD = np.array(usb_cable.HELD_POSE_IN_TCP[:3])
ROLLED_OVER = np.array([1.0, 0.0, 0.0, 0.0])
"""Half a turn about the plug's x axis (the cable's axis), x-y-z-w."""
GRASP_SHIFT = 0.005
"""A descent onto the plug that stops short (a fingertip on the clip or the cable beside the plug) is tried
again this far toward the plug's tip, away from the cable; within the 6 mm a held plug may sit off (m)."""
REGRASP_HIGHER = 0.0012
"""A plug lying on the table is grasped this much higher than the nominal grasp, so the pads clear the table (m)."""


@register_expert("cable_clipping")
class CableClippingExpert(Expert):
    """Phases regrasp (open, hover, descend, close, lift) -> align -> press."""

    sim_only = True

    def reset(self, rng: np.random.Generator) -> None:
        super().reset(rng)
        self.grasp_shift = 0.0
        self._go("align")

    def _go(self, phase: str) -> None:
        self.phase, self.steps, self.best, self.stall = phase, 0, np.inf, 0

    def plan(self, obs: dict[str, Any]) -> np.ndarray:
        pose = np.asarray(obs["state"]["tcp_pose"], dtype=np.float64)
        task, scale = self.task, self.task.config.action_scale
        plug = self.scene().poses[PLUG]
        plug_in_tcp = geo.pose_compose(geo.pose_inverse(pose), plug)
        held = np.linalg.norm(plug_in_tcp[:3] - HELD) < 0.006 and float(obs["state"]["gripper_pose"][0]) < 0.3
        self.steps += 1
        if not held and not self.phase.startswith("grasp"):
            self._go("grasp_open")
        if self.phase.startswith("grasp"):
            return self._regrasp(pose, plug, held)
        if geo.quat_to_mat(plug_in_tcp[3:])[2, 2] > 0.0:  # plug z along the TCP's z: held upside down
            plug_in_tcp = geo.pose_compose(plug_in_tcp, np.array([0.0, 0.0, 0.0, *ROLLED_OVER]))
        seat = task.seated_plug.copy()
        if self.phase == "align":
            seat[2] += HOVER
            goal = geo.pose_compose(seat, geo.pose_inverse(plug_in_tcp))
            if _close(pose, goal, 0.0006, 0.01):
                self._go("press")
            return np.append(servo_action(pose, goal, scale), CLOSE)
        seat[2] -= PRESS
        goal = geo.pose_compose(seat, geo.pose_inverse(plug_in_tcp))
        if plug[2] < self.best - 1e-4:
            self.best, self.stall = plug[2], 0
        else:
            self.stall += 1
        if self.stall >= 6:
            self._go("align")
        return np.append(servo_action(pose, goal, scale), CLOSE)

    def _regrasp(self, pose: np.ndarray, plug: np.ndarray, held: bool) -> np.ndarray:
        """Open, hover over the plug lying on the table, descend, close, then carry on aligning."""
        scale = self.task.config.action_scale
        yaw = geo.quat_to_euler(plug[3:])[2]
        upright = np.concatenate([plug[:3], geo.euler_to_quat(np.array([0.0, 0.0, yaw]))])
        grasp = self.task.tcp_for_plug(geo.pose_compose(upright, np.array([self.grasp_shift, 0, 0, 0, 0, 0, 1.0])))
        grasp[2] += REGRASP_HIGHER
        hover = grasp.copy()
        hover[2] += 0.03
        if self.phase == "grasp_open":
            if self.steps >= 7:
                self._go("grasp_hover")
            return np.append(np.zeros(6), OPEN)
        if self.phase == "grasp_hover":
            if _close(pose, hover, 0.002, 0.03):
                self._go("grasp_descend")
            return np.append(servo_action(pose, hover, scale), OPEN)
        if self.phase == "grasp_descend":
            if _close(pose, grasp, 0.0015, 0.03):
                self._go("grasp_close")
            elif pose[2] < self.best - 0.0005:
                self.best, self.stall = pose[2], 0
            else:
                self.stall += 1
                if self.stall >= 4:
                    self.grasp_shift = 0.0 if self.grasp_shift else GRASP_SHIFT
                    self._go("grasp_hover")
            return np.append(servo_action(pose, grasp, scale), OPEN)
        if self.steps >= 7:
            self._go("align" if held else "grasp_open")
        return np.append(servo_action(pose, grasp, scale), CLOSE)


def _close(pose: np.ndarray, goal: np.ndarray, tol_t: float, tol_r: float) -> bool:
    return bool(np.linalg.norm(pose[:3] - goal[:3]) < tol_t and
                np.linalg.norm(geo.orientation_error(pose[3:], goal[3:])) < tol_r)
