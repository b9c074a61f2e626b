"""Scripted object handover, acting from the state alone (no timers), so it can take over anywhere.

Sim-only: it reads the bar's pose. Every step it asks who holds the bar (a hand holds it when
its fingers squeeze the bar's width and its TCP sits on the bar's axis near that hand's grasp
point) and acts on the answer (:meth:`ObjectHandoverExpert.phase`):

* nobody holds it: the hand on its side picks it wherever it lies (table, divider top, leaning
  on the divider: hover, align, descend, close), unless it already rests on the pad;
* a hand holds it tilted more than 15 deg: drag it flat along the table away from the divider
  (:func:`~.bar_moves.set_down`), let go if it is still tilted there, and pick it again;
* the left hand holds it: carry it (straight up first if the straight path would drag it over
  the divider) to the handover pose above the divider; there the right hand closes on its end;
* both hold it: once the right hand has been closed a few steps the left hand opens;
* only the right hand holds it: the left hand backs off, the right hand carries the bar over the
  pad, lowers it to the table and opens.

Carries keep the bar's measured pose in the hand and level it modulo its symmetry, so neither
the in-hand offset of a pick nor a bar flipped by a drop is carried to the placement.
:meth:`ObjectHandoverExpert.progress` measures each phase by its own goal for the supervisor.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.envs.experts import register_expert
from hilserl_bench.envs.experts.bar_moves import (
    CLOSE,
    OPEN,
    SET_DOWN_TILT,
    SET_DOWN_XY,
    bottom,
    carry,
    leaning_end,
    lift_first,
    path_length,
    placed,
    set_down,
)
from hilserl_bench.envs.experts.base import Expert, Progress, pose_distance, servo_action
from hilserl_bench.envs.franka_model import GRIPPER_MAX_WIDTH
from hilserl_bench.envs.props import handover as props
from hilserl_bench.envs.tasks.object_handover import TARGET_XY

HANDOVER_BAR = np.array([0.5, 0.0, 0.2])
"""World position of the bar's centre while it changes hands (above the divider)."""
HOVER = 0.06
PICK_TOLERANCE = (0.01, 0.12)
"""(m, rad) off the grasp at which a hand still descends and closes: the fingers open 8 cm around a
3 cm part and centre it as they close, so the grasp needs no more (tighter values made the
expert stall under action noise)."""
HELD_OPENING = (0.5 * props.BAR_SIZE[0] / GRIPPER_MAX_WIDTH, (props.BAR_SIZE[0] + 0.0015) / GRIPPER_MAX_WIDTH)
"""Normalised openings of fingers squeezing the bar (fully closed on it, not closed on nothing)."""
PLACE_CLEARANCE = 0.002
HAND_LEAN = 0.28
"""Angle (rad) the hand leans away from a leaning bar's raised part when it picks it (the box allows 0.3)."""
LEAN_SHIFT = 0.012
"""Metres the grasp of a leaning bar moves toward its low end."""
LEAN_REACH = 0.02
"""Distance (m) from a leaning bar's grasp at which the hand closes: its raised part stops the hand ~1 cm short."""
HELD_RADIUS = (0.02, 0.035)
"""(across, along) the bar's axis (m): how far from a hand's grasp point its TCP may be while holding the bar."""
GRIP_WEIGHT = 0.05
"""Metres of progress distance per unit of normalised gripper opening still to go (closing or opening)."""


PHASES = ("set down", "left pick", "carry", "right grasp", "handover", "right pick", "place", "release")
"""The plan's phases in order (:meth:`ObjectHandoverExpert.phase`); a drop goes back to a pick."""


@register_expert("object_handover")
class ObjectHandoverExpert(Expert):
    """Pick with the left hand, hand over above the divider, place with the right hand, release."""

    sim_only = True
    phases = PHASES

    def reset(self, rng: np.random.Generator) -> None:
        super().reset(rng)
        self.right_closed_steps = 0

    def plan(self, obs: dict[str, Any]) -> np.ndarray:
        task = self.task
        states = self.env.arm_states
        tcps = task.tcp_world(states)
        bar = self.scene().poses["bar"]
        phase = self._phase(states, tcps, bar)
        self.right_closed_steps = self.right_closed_steps + 1 if phase == "handover" else 0
        resting = task.world_reset_poses(self.rng)
        goals: list[np.ndarray] = [resting[0], resting[1]]
        grip = [OPEN, OPEN]
        if phase == "handover":
            goals = [tcps[0], tcps[1]]
            grip = [OPEN if self.right_closed_steps >= 4 else CLOSE, CLOSE]
        elif phase == "place":
            goals[1], grip[1] = self._place(tcps[1], bar)
        elif phase in ("carry", "right grasp"):
            goals[0], grip[0] = carry(tcps[0], bar, lift_first(bar, HANDOVER_BAR)), CLOSE
            if phase == "right grasp":
                goals[1], grip[1] = pick_action(tcps[1], task.grasp_pose(bar, 1), states[1].gripper_pos)
        elif phase in ("left pick", "right pick"):
            i = 0 if phase == "left pick" else 1
            pose = self._pick_pose(bar, i)
            reach = LEAN_REACH if leaning_end(pose[:3] - bar[:3]) else PICK_TOLERANCE[0]
            goals[i], grip[i] = pick_action(tcps[i], pose, states[i].gripper_pos, reach)
        elif phase == "set down":
            i = 0 if self._holds(0, states[0].gripper_pos, tcps[0], bar) else 1
            goals[i], grip[i] = set_down(tcps[i], bar, i)
        scale = task.config.action_scale
        action = []
        for i in range(2):
            twist = servo_action(states[i].pose, task.to_arm(i, goals[i]), scale)
            action.append(np.append(twist, grip[i]))
        return np.concatenate(action)

    # -- where the plan stands, read from the state ------------------------------------------------
    def phase(self, obs: dict[str, Any]) -> str:
        states = self.env.arm_states
        return self._phase(states, self.task.tcp_world(states), self.scene().poses["bar"])

    def _phase(self, states, tcps, bar: np.ndarray) -> str:
        """Who holds the bar decides the phase; nobody: whichever side it lies on picks it, wherever it lies."""
        holds = [self._holds(i, states[i].gripper_pos, tcps[i], bar) for i in range(2)]
        if holds[0] and holds[1]:
            return "handover"
        if any(holds) and abs(geo.quat_to_mat(bar[3:])[2, 1]) > np.sin(SET_DOWN_TILT):
            return "set down"
        if holds[1]:
            return "place"
        if holds[0]:
            at_handover = np.linalg.norm(bar[:3] - HANDOVER_BAR) < 0.015
            return "right grasp" if at_handover else "carry"
        if placed(bar):
            return "release"
        return "left pick" if bar[1] > 0.0 else "right pick"

    def progress(self, obs: dict[str, Any]) -> Progress:
        """Stage of :meth:`phase` and the distance to that phase's goal.

        Picks and the right hand's grasp: the picking TCP's distance to its grasp plus how far its
        fingers have yet to close; carry and place: the bar's remaining path (over the divider's top
        when it must lift first); handover and release: how far the hand that lets go has yet to open.
        Each moves while the expert works, so the supervisor's stall trigger reads the hand-over as
        progress (the task's bar-to-target distance stood still for 20 steps there).
        """
        states = self.env.arm_states
        tcps = self.task.tcp_world(states)
        bar = self.scene().poses["bar"]
        phase = self._phase(states, tcps, bar)
        opening = [float(s.gripper_pos) for s in states]
        if phase in ("left pick", "right pick", "right grasp"):
            i = 0 if phase == "left pick" else 1
            distance = pose_distance(tcps[i], self._pick_pose(bar, i)) + GRIP_WEIGHT * opening[i]
        elif phase == "set down":
            i = 0 if bar[1] > 0 else 1
            distance = bottom(bar) + float(np.linalg.norm(bar[:2] - SET_DOWN_XY[i])) + GRIP_WEIGHT * (1 - max(opening))
        elif phase == "carry":
            distance = path_length(bar, HANDOVER_BAR)
        elif phase == "place":
            distance = path_length(bar, np.array([*TARGET_XY, props.BAR_REST_Z]))
        elif phase == "handover":
            distance = GRIP_WEIGHT * (1.0 - opening[0]) + GRIP_WEIGHT * opening[1]
        else:
            distance = GRIP_WEIGHT * (2.0 - opening[0] - opening[1])
        return Progress(PHASES.index(phase), phase, float(distance))

    def in_hand(self, obs: dict[str, Any]) -> bool:
        return self.phase(obs) in ("carry", "right grasp", "handover", "place")

    def _pick_pose(self, bar: np.ndarray, arm: int) -> np.ndarray:
        """The grasp of :meth:`ObjectHandover.grasp_pose`, or for a bar whose end lies low (leaning on the
        divider) a grasp nearer that end with the hand leaned away from the bar's raised part.

        Straight down, the hand struck the raised part of a bar leaning on the divider 2 cm above the grasp.
        """
        grasp = self.task.grasp_pose(bar, arm)
        end = grasp[:3] - bar[:3]
        end /= np.linalg.norm(end)
        if not leaning_end(end):
            return grasp
        plan = np.array([end[0], end[1], 0.0]) / max(float(np.linalg.norm(end[:2])), 1e-9)
        turn = np.cross([0.0, 0.0, 1.0], plan) * HAND_LEAN
        return np.concatenate([grasp[:3] + LEAN_SHIFT * end, geo.quat_mul(geo.rotvec_to_quat(turn), grasp[3:])])

    def _holds(self, arm: int, opening: float, tcp: np.ndarray, bar: np.ndarray) -> bool:
        """Fingers squeezing something the bar's width, the TCP on the bar's axis near this hand's grasp point.

        Measured across and along the axis rather than as one radius, so a bar gripped 2 cm along from
        the grasp point (a leaning bar grasped low) still counts as held.
        """
        grasp = self.task.grasp_pose(bar, arm)
        axis = (grasp[:3] - bar[:3]) / props.GRASP_OFFSET
        offset = tcp[:3] - grasp[:3]
        along = float(offset @ axis)
        across = float(np.linalg.norm(offset - along * axis))
        squeezing = HELD_OPENING[0] < opening < HELD_OPENING[1]
        return bool(squeezing and across < HELD_RADIUS[0] and abs(along) < HELD_RADIUS[1])

    def _place(self, tcp: np.ndarray, bar: np.ndarray) -> tuple[np.ndarray, float]:
        above = np.array([*TARGET_XY, props.BAR_REST_Z + 0.05])
        down = np.array([*TARGET_XY, props.BAR_REST_Z + PLACE_CLEARANCE])
        xy_error = np.linalg.norm(bar[:2] - TARGET_XY)
        lowering = bar[2] < props.BAR_REST_Z + 0.02 and xy_error < 0.007
        if xy_error > 0.005 and not lowering:
            return carry(tcp, bar, lift_first(bar, above)), CLOSE
        if bar[2] > props.BAR_REST_Z + 0.004:
            return carry(tcp, bar, down), CLOSE
        return tcp, OPEN


def pick_action(tcp: np.ndarray, grasp: np.ndarray, opening: float = 1.0,
                reach: float = PICK_TOLERANCE[0]) -> tuple[np.ndarray, float]:
    """Hover above the grasp, align, descend, close once within ``reach`` (m) of it.

    Hysteresis: once the fingers have started closing (``opening`` below 0.9, but not shut on
    nothing) it keeps closing while the TCP stays within ``reach`` + 5 mm, so action noise cannot
    make it flip between opening and closing.
    """
    if 0.2 < opening < 0.9 and np.linalg.norm(tcp[:3] - grasp[:3]) < reach + 0.005:
        return grasp, CLOSE
    hover = grasp.copy()
    hover[2] += HOVER
    lateral = np.linalg.norm(tcp[:2] - grasp[:2])
    angle = np.linalg.norm(geo.orientation_error(tcp[3:], grasp[3:]))
    if lateral > reach or angle > PICK_TOLERANCE[1]:
        return (hover if tcp[2] > grasp[2] + 0.02 else _raise(tcp, hover)), OPEN
    if np.linalg.norm(tcp[:3] - grasp[:3]) > reach:
        return grasp, OPEN
    return grasp, CLOSE


def _raise(tcp: np.ndarray, hover: np.ndarray) -> np.ndarray:
    """Back straight up first when low and misaligned, so the fingers do not sweep the part."""
    up = tcp.copy()
    up[2] = hover[2]
    return up
