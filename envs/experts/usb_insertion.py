"""Scripted USB grasp-insertion that reads its phase from the scene on every call.

Sim-only: it reads the free plug's pose to find it on the table and to correct for
where it sits in the hand (a real robot would need a perception stage for that).

Nothing is remembered between calls, so the expert can take over from any state a
policy left (a supervisor calls it mid-episode): each call asks, in order, whether the
plug is in the hand (and held well enough to insert), whether it is lifted, whether
its tip is on the port's axis, and acts for the first phase whose condition fails.
A drop is a plug no longer between the fingers: the hand opens, rises and grasps
again. A plug held too far forward (the pads would hit the port face) or crooked
beyond what the wrist can correct is put down and grasped again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.envs.experts import register_expert
from hilserl_bench.envs.experts.base import Expert, Progress, pose_distance, servo_action
from hilserl_bench.envs.props import usb
from hilserl_bench.envs.tasks.usb_insertion import GRASP_HEIGHT, PLUG_TIP_X

OPEN, CLOSE = 1.0, -1.0
PHASES = ("release", "approach", "descend", "close", "lift", "align", "insert")
"""In order of progress: ``release`` (open an empty or badly holding hand, put a crooked plug down) comes first."""
HOVER = 0.03
"""Height of the approach pose above the grasp pose (m)."""
LIFT = 0.01
"""The plug is first carried to 1 cm above its pre-insert pose, then down onto the port's axis."""
OPEN_WIDTH = 0.9
"""Normalised finger opening above which the hand counts as open."""
PRE_INSERT = -0.004
"""Tip depth of the alignment pose: 4 mm in front of the mouth."""
INSERT_DEPTH = 0.014
"""Tip depth the insertion servo aims at (2 mm past the stop, so the compliant arm keeps pressing)."""
GRASP_XY, GRASP_Z = 0.003, 0.0025
"""How close (m) to the grasp pose, in xy and in height, the fingers start to close."""
ON_AXIS = 0.0004
"""Tip offset from the port axis (m) below which the expert starts pushing in."""
ON_AXIS_DEG = 1.0
"""Plug-to-port axis angle (deg) below which the expert starts pushing in."""
IN_MOUTH = 0.0008
"""Once the tip is past the mouth, the receptacle holds it on axis; only an offset above this backs it out."""


@register_expert("usb_insertion")
class UsbInsertionExpert(Expert):
    """Phases (inferred on every call, see :meth:`phase`): release, approach, descend, close, lift, align, insert."""

    sim_only = True
    phases = PHASES
    insert_depth: float = INSERT_DEPTH
    """Tip depth the insertion servo aims at (m)."""

    def plan(self, obs: dict[str, Any]) -> np.ndarray:
        pose = np.asarray(obs["state"]["tcp_pose"], dtype=np.float64)
        plug = self.scene().poses["usb_plug"]
        phase = self.phase(obs)
        scale = self.task.config.action_scale
        grasp = self.grasp_pose(plug)
        if phase == "release":
            if self.in_hand(obs) and pose[2] > GRASP_HEIGHT + 0.008:
                place = pose.copy()
                place[2] = GRASP_HEIGHT + 0.004
                return np.append(servo_action(pose, place, scale), CLOSE)  # put a badly held plug down first
            return np.append(servo_action(pose, self._above(pose, grasp), scale), OPEN)
        if phase == "approach":
            hover = grasp.copy()
            hover[2] += HOVER
            low = pose[2] < hover[2] - 0.01 and not _near_xy(pose, hover, 0.01)
            return np.append(servo_action(pose, self._above(pose, hover) if low else hover, scale), OPEN)
        if phase == "descend":
            return np.append(servo_action(pose, grasp, scale), OPEN)
        if phase == "close":
            return np.append(servo_action(pose, grasp, scale), CLOSE)
        if phase == "lift":
            goal = self._tcp_goal_for_tip(pose, plug, PRE_INSERT)
            goal[2] += LIFT
            return np.append(servo_action(pose, goal, scale), CLOSE)
        depth = PRE_INSERT if phase == "align" else self.insert_depth
        return np.append(servo_action(pose, self._tcp_goal_for_tip(pose, plug, depth), scale), CLOSE)

    # -- state queries a supervisor can use --------------------------------------------------------
    def phase(self, obs: dict[str, Any]) -> str:
        """The phase the scene is in (one of :data:`PHASES`), from the plug pose, TCP pose and finger opening."""
        pose = np.asarray(obs["state"]["tcp_pose"], dtype=np.float64)
        width = float(np.asarray(obs["state"]["gripper_pose"]).reshape(-1)[0])
        plug = self.scene().poses["usb_plug"]
        if self.in_hand(obs):
            if not self._held_well(pose, plug):
                return "release"
            tip, angle = self._tip_error(plug)
            off_axis = float(np.max(np.abs(tip[1:])))
            if tip[0] > 0.0 and off_axis < IN_MOUTH and angle < 2 * ON_AXIS_DEG:
                return "insert"
            if -0.006 < tip[0] <= 0.0 and off_axis < ON_AXIS and angle < ON_AXIS_DEG:
                return "insert"
            if tip[0] > -0.001:
                return "align"  # jammed on the face or entered crooked: back out to the pre-insert pose
            return "lift" if plug[2] < self.task.mouth_pose[2] - 0.008 else "align"
        grasp = self.grasp_pose(plug)
        closing = width < OPEN_WIDTH
        # Closing tolerates more than starting to close: the fingers centre the plug as they close.
        reach = 0.008 if closing else GRASP_XY
        at_grasp = _near_xy(pose, grasp, reach) and abs(pose[2] - grasp[2]) < GRASP_Z and _yaw_close(pose, grasp, 0.1)
        closed_empty = width < usb.GRIP[1] / 0.08 - 0.06
        if (closing and not at_grasp) or closed_empty:
            return "release"  # closed on nothing (or dropped the plug): open before anything else
        if at_grasp:
            return "close"
        hover = grasp.copy()
        hover[2] += HOVER
        if _near_xy(pose, grasp, 0.006) and _yaw_close(pose, grasp, 0.1) and pose[2] < hover[2] + 0.006:
            return "descend"
        return "approach"

    def in_hand(self, obs: dict[str, Any]) -> bool:
        """Whether the plug is held between the finger pads (its grip centred between them, fingers on it)."""
        pose = np.asarray(obs["state"]["tcp_pose"], dtype=np.float64)
        width = float(np.asarray(obs["state"]["gripper_pose"]).reshape(-1)[0])
        plug = self.scene().poses["usb_plug"]
        in_tcp = geo.pose_compose(geo.pose_inverse(pose), plug)
        grip_width = usb.GRIP[1] / 0.08
        fingers_on = grip_width - 0.06 < width < grip_width + 0.03
        between = abs(in_tcp[1]) < 0.004 and abs(in_tcp[2]) < 0.011 and abs(in_tcp[0]) < 0.022
        return bool(fingers_on and between)

    # -- helpers ----------------------------------------------------------------------------------
    def grasp_pose(self, plug: np.ndarray) -> np.ndarray:
        """TCP pose at which the fingers close on the lying plug: turned to its yaw as far as the safety box allows.

        The fingers are symmetric, so the yaw is taken modulo 180 deg; beyond the box's yaw range the
        closing fingers square the rest (a plug turned more than about 45 deg cannot be saved this way).
        """
        grasp = self.task.plug_grasp_pose(plug)
        six = geo.pose_to_6d(grasp)
        box = self.task.safety_box
        six[5] = np.clip((six[5] + np.pi / 2) % np.pi - np.pi / 2, box.low[5], box.high[5])
        return geo.pose_from_6d(six)

    def tip_goal(self, depth: float) -> np.ndarray:
        """Pose the plug's tip frame should reach: ``depth`` past the mouth on the port's axis, square to it."""
        mouth = self.task.mouth_pose
        goal = geo.pose_compose(mouth, np.array([depth, 0, 0, 0, 0, 0, 1.0]))
        goal[3:] = mouth[3:]
        return goal

    def _held_well(self, pose: np.ndarray, plug: np.ndarray) -> bool:
        """Pads behind the grip's front face and the plug square enough for the wrist to correct."""
        in_tcp = geo.pose_compose(geo.pose_inverse(pose), plug)
        ahead = in_tcp[0]  # grip centre ahead of the TCP along the plug axis (nominal grasp: 3 mm)
        upright = geo.quat_to_mat(in_tcp[3:])[:, 2] @ np.array([0.0, 0.0, -1.0])  # plug up is TCP -z
        # Pads (18 mm) end 9 mm ahead of the TCP: the grip's front face must be no more than ~1.5 mm
        # behind them (else they hit the port face short of 10 mm), and at least 5 mm of grip between them.
        return bool(-0.0005 < ahead < 0.012 and upright > 0.97)

    def _tip_error(self, plug: np.ndarray) -> tuple[np.ndarray, float]:
        """Tip position in the port frame and the plug axis' angle to the port axis (deg)."""
        mouth = self.task.mouth_pose
        rot = geo.quat_to_mat(plug[3:])
        port_rot = geo.quat_to_mat(mouth[3:])
        tip = (plug[:3] + rot[:, 0] * PLUG_TIP_X - mouth[:3]) @ port_rot
        angle = float(np.degrees(np.arccos(np.clip(rot[:, 0] @ port_rot[:, 0], -1.0, 1.0))))
        return tip, angle

    @staticmethod
    def _above(pose: np.ndarray, goal: np.ndarray) -> np.ndarray:
        """Straight up from ``pose`` to the goal's hover height, turning to its orientation."""
        up = goal.copy()
        up[:2] = pose[:2]
        up[2] = max(pose[2], goal[2] + HOVER if goal[2] < GRASP_HEIGHT + 0.01 else goal[2])
        return up

    def _tcp_goal_for_tip(self, pose: np.ndarray, plug: np.ndarray, depth: float) -> np.ndarray:
        """TCP pose that puts the plug's tip ``depth`` past the mouth, square to the port, given the in-hand offset."""
        plug_in_tcp = geo.pose_compose(geo.pose_inverse(pose), plug)
        tip_in_tcp = geo.pose_compose(plug_in_tcp, np.array([PLUG_TIP_X, 0, 0, 0, 0, 0, 1.0]))
        return geo.pose_compose(self.tip_goal(depth), geo.pose_inverse(tip_in_tcp))

    # -- progress for the scripted supervisor's stall trigger ----------------------------------------
    def progress(self, obs: dict[str, Any]) -> Progress:
        """Stage of :meth:`phase` in the plan and the TCP's distance to that phase's goal pose.

        Release (opening a hand closed on nothing or holding the plug badly) counts as the
        earliest stage, so a drop is a step back, and the grasp phases are judged by the
        distance to the plug, not to the port.
        """
        pose = np.asarray(obs["state"]["tcp_pose"], dtype=np.float64)
        plug = self.scene().poses["usb_plug"]
        phase = self.phase(obs)
        grasp = self.grasp_pose(plug)
        if phase == "release":
            goal = self._above(pose, grasp)
        elif phase == "approach":
            goal = grasp.copy()
            goal[2] += HOVER
        elif phase in ("descend", "close"):
            goal = grasp
        else:
            goal = self._tcp_goal_for_tip(pose, plug, self.insert_depth if phase == "insert" else PRE_INSERT)
            if phase == "lift":
                goal[2] += LIFT
        return Progress(PHASES.index(phase), phase, pose_distance(pose, goal))


def _close(pose: np.ndarray, goal: np.ndarray, tol_t: float, tol_r: float) -> bool:
    return bool(np.linalg.norm(pose[:3] - goal[:3]) < tol_t and
                np.linalg.norm(geo.orientation_error(pose[3:], goal[3:])) < tol_r)


def _near_xy(pose: np.ndarray, goal: np.ndarray, tol: float) -> bool:
    return bool(np.linalg.norm(pose[:2] - goal[:2]) < tol)


def _yaw_close(pose: np.ndarray, goal: np.ndarray, tol: float) -> bool:
    return bool(np.linalg.norm(geo.orientation_error(pose[3:], goal[3:])) < tol)
