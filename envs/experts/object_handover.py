"""Scripted object handover, acting from the state alone (no timers), so it can take over anywhere.

Sim-only: it reads the bar's pose. Every step it asks who holds the bar (a hand holds it when
its gripper is closed narrower than the bar allows and its TCP sits at that hand's grasp
point) and acts on the answer:

* nobody holds it and it lies on the left half: the left hand picks it (hover, align, descend,
  close); on the right half away from the pad: the right hand picks it the same way;
* the left hand holds it: carry it to the handover pose above the divider; once it is there the
  right hand comes down onto its end and closes;
* both hold it: once the right hand has been closed a few steps the left hand opens;
* only the right hand holds it: the left hand backs off, the right hand carries the bar over the
  pad, lowers it to the table and opens.

Grasp corrections use the bar's measured pose in the hand, so the in-hand offset of the pick is
not carried to the placement.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.envs.experts import register_expert
from hilserl_bench.envs.experts.base import Expert, servo_action
from hilserl_bench.envs.franka_model import GRIPPER_MAX_WIDTH
from hilserl_bench.envs.props import handover as props
from hilserl_bench.envs.tasks.object_handover import TARGET_XY

OPEN, CLOSE, KEEP = 1.0, -1.0, 0.0
HANDOVER_BAR = np.array([0.5, 0.0, 0.2, 0.0, 0.0, 0.0, 1.0])
"""World pose of the bar while it changes hands (centre above the divider)."""
HOVER = 0.06
PICK_TOLERANCE = (0.01, 0.12)
"""(m, rad) off the grasp at which a hand still descends and closes: the fingers open 8 cm around a
3 cm part and centre it as they close, so the grasp needs no more (tighter values made the
expert stall under action noise)."""
HELD_OPENING = (0.5 * props.BAR_SIZE[0] / GRIPPER_MAX_WIDTH, (props.BAR_SIZE[0] + 0.0015) / GRIPPER_MAX_WIDTH)
"""Normalised openings of fingers squeezing the bar (fully closed on it, not closed on nothing)."""
PLACE_CLEARANCE = 0.002


@register_expert("object_handover")
class ObjectHandoverExpert(Expert):
    """Pick with the left hand, hand over above the divider, place with the right hand, release."""

    sim_only = True

    def reset(self, rng: np.random.Generator) -> None:
        super().reset(rng)
        self.right_closed_steps = 0

    def plan(self, obs: dict[str, Any]) -> np.ndarray:
        task = self.task
        states = self.env.arm_states
        tcps = task.tcp_world(states)
        bar = self.scene().poses["bar"]
        holds = [self._holds(i, states[i].gripper_pos, tcps[i], bar) for i in range(2)]
        self.right_closed_steps = self.right_closed_steps + 1 if holds[1] else 0
        resting = task.world_reset_poses(self.rng)
        goals: list[np.ndarray] = [resting[0], resting[1]]
        grip = [OPEN, OPEN]
        if holds[0] and holds[1]:
            goals = [tcps[0], tcps[1]]
            grip = [OPEN if self.right_closed_steps >= 4 else CLOSE, CLOSE]
        elif holds[1]:
            goals[1], grip[1] = self._place(tcps[1], bar)
        elif holds[0]:
            goals[0], grip[0] = _carry(tcps[0], bar, HANDOVER_BAR), CLOSE
            at_handover = np.linalg.norm(bar[:3] - HANDOVER_BAR[:3]) < 0.015
            if at_handover:
                goals[1], grip[1] = pick_action(tcps[1], task.grasp_pose(bar, 1), states[1].gripper_pos)
        elif bar[2] < props.BAR_REST_Z + 0.01:
            if bar[1] > 0.0:
                goals[0], grip[0] = pick_action(tcps[0], task.grasp_pose(bar, 0), states[0].gripper_pos)
            elif not _placed(bar):
                goals[1], grip[1] = pick_action(tcps[1], task.grasp_pose(bar, 1), states[1].gripper_pos)
        scale = task.config.action_scale
        action = []
        for i in range(2):
            twist = servo_action(states[i].pose, task.to_arm(i, goals[i]), scale)
            action.append(np.append(twist, grip[i]))
        return np.concatenate(action)

    def _holds(self, arm: int, opening: float, tcp: np.ndarray, bar: np.ndarray) -> bool:
        grasp = self.task.grasp_pose(bar, arm)
        squeezing = HELD_OPENING[0] < opening < HELD_OPENING[1]
        return bool(squeezing and np.linalg.norm(tcp[:3] - grasp[:3]) < 0.02)

    def _place(self, tcp: np.ndarray, bar: np.ndarray) -> tuple[np.ndarray, float]:
        above = np.array([*TARGET_XY, props.BAR_REST_Z + 0.05, 0.0, 0.0, 0.0, 1.0])
        down = np.array([*TARGET_XY, props.BAR_REST_Z + PLACE_CLEARANCE, 0.0, 0.0, 0.0, 1.0])
        xy_error = np.linalg.norm(bar[:2] - TARGET_XY)
        lowering = bar[2] < props.BAR_REST_Z + 0.02 and xy_error < 0.007
        if xy_error > 0.005 and not lowering:
            return _carry(tcp, bar, above), CLOSE
        if bar[2] > props.BAR_REST_Z + 0.004:
            return _carry(tcp, bar, down), CLOSE
        return tcp, OPEN


def _carry(tcp: np.ndarray, bar: np.ndarray, bar_goal: np.ndarray) -> np.ndarray:
    """TCP pose that puts the held bar at ``bar_goal``, keeping the bar's measured pose in the hand."""
    tcp_in_bar = geo.pose_compose(geo.pose_inverse(bar), tcp)
    return geo.pose_compose(bar_goal, tcp_in_bar)


def pick_action(tcp: np.ndarray, grasp: np.ndarray, opening: float = 1.0) -> tuple[np.ndarray, float]:
    """Hover above the grasp, align, descend, close once there.

    Hysteresis: once the fingers have started closing (``opening`` below 0.9, but not shut on
    nothing) it keeps closing while the TCP stays within 15 mm, so action noise cannot make it
    flip between opening and closing.
    """
    if 0.2 < opening < 0.9 and np.linalg.norm(tcp[:3] - grasp[:3]) < 0.015:
        return grasp, CLOSE
    hover = grasp.copy()
    hover[2] += HOVER
    lateral = np.linalg.norm(tcp[:2] - grasp[:2])
    angle = np.linalg.norm(geo.orientation_error(tcp[3:], grasp[3:]))
    if lateral > PICK_TOLERANCE[0] or angle > PICK_TOLERANCE[1]:
        return (hover if tcp[2] > grasp[2] + 0.02 else _raise(tcp, hover)), OPEN
    if np.linalg.norm(tcp[:3] - grasp[:3]) > PICK_TOLERANCE[0]:
        return grasp, OPEN
    return grasp, CLOSE


def _raise(tcp: np.ndarray, hover: np.ndarray) -> np.ndarray:
    """Back straight up first when low and misaligned, so the fingers do not sweep the part."""
    up = tcp.copy()
    up[2] = hover[2]
    return up


def _placed(bar: np.ndarray) -> bool:
    return bool(np.linalg.norm(bar[:2] - TARGET_XY) < 0.015)
