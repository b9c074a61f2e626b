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
from hilserl_bench.envs.experts.base import Expert, Progress, pose_distance, servo_action
from hilserl_bench.envs.franka_model import GRIPPER_MAX_WIDTH
from hilserl_bench.envs.props import handover as props
from hilserl_bench.envs.tasks.object_handover import PLACE_TOLERANCE, TARGET_XY, TILT_TOLERANCE, YAW_TOLERANCE

OPEN, CLOSE, KEEP = 1.0, -1.0, 0.0
HANDOVER_BAR = np.array([0.5, 0.0, 0.2])
"""World position of the bar's centre while it changes hands (above the divider)."""
CLEAR_Z = props.DIVIDER_HEIGHT + 0.05
"""Height (m) of the bar's centre at which it clears the divider's top whatever its place."""
HOVER = 0.06
PICK_TOLERANCE = (0.01, 0.12)
"""(m, rad) off the grasp at which a hand still descends and closes: the fingers open 8 cm around a
3 cm part and centre it as they close, so the grasp needs no more (tighter values made the
expert stall under action noise)."""
HELD_OPENING = (0.5 * props.BAR_SIZE[0] / GRIPPER_MAX_WIDTH, (props.BAR_SIZE[0] + 0.0015) / GRIPPER_MAX_WIDTH)
"""Normalised openings of fingers squeezing the bar (fully closed on it, not closed on nothing)."""
PLACE_CLEARANCE = 0.002
SET_DOWN_TILT = np.deg2rad(15.0)
"""A held bar tilted more than this is set down and picked again; a lying bar's end this much lower is leaning."""
SET_DOWN_XY = (np.array([0.5, 0.2]), np.array([0.5, -0.2]))
"""Where (world xy) each hand sets a tilted bar down: on its own side, well away from the divider."""
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
WALL_MARGIN = 0.015
"""A bar end this close (m) to the divider's centre plane is over the divider (half its thickness plus 1 cm)."""


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
            goals[0], grip[0] = _carry(tcps[0], bar, _lift_first(bar, HANDOVER_BAR)), CLOSE
            if phase == "right grasp":
                goals[1], grip[1] = pick_action(tcps[1], task.grasp_pose(bar, 1), states[1].gripper_pos)
        elif phase in ("left pick", "right pick"):
            i = 0 if phase == "left pick" else 1
            pose = self._pick_pose(bar, i)
            reach = LEAN_REACH if _leaning_end(pose[:3] - bar[:3]) else PICK_TOLERANCE[0]
            goals[i], grip[i] = pick_action(tcps[i], pose, states[i].gripper_pos, reach)
        elif phase == "set down":
            i = 0 if self._holds(0, states[0].gripper_pos, tcps[0], bar) else 1
            goals[i], grip[i] = _set_down(tcps[i], bar, i)
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
        if _placed(bar):
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
            distance = _bottom(bar) + float(np.linalg.norm(bar[:2] - SET_DOWN_XY[i])) + GRIP_WEIGHT * (1 - max(opening))
        elif phase == "carry":
            distance = _path_length(bar, HANDOVER_BAR)
        elif phase == "place":
            distance = _path_length(bar, np.array([*TARGET_XY, props.BAR_REST_Z]))
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
        if not _leaning_end(end):
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
            return _carry(tcp, bar, _lift_first(bar, above)), CLOSE
        if bar[2] > props.BAR_REST_Z + 0.004:
            return _carry(tcp, bar, down), CLOSE
        return tcp, OPEN


def _leaning_end(end: np.ndarray) -> bool:
    """Whether the direction ``end`` from the bar's centre to a grasp points down more than :data:`SET_DOWN_TILT`."""
    return bool(end[2] < -np.sin(SET_DOWN_TILT) * np.linalg.norm(end))


def _bottom(bar: np.ndarray) -> float:
    """Height (m) of the bar's lowest point above the table (its lower end when tilted)."""
    rot = geo.quat_to_mat(bar[3:])
    return float(bar[2] - 0.5 * np.abs(rot[2]) @ np.asarray(props.BAR_SIZE))


def _set_down(tcp: np.ndarray, bar: np.ndarray, arm: int) -> tuple[np.ndarray, float]:
    """Lower a bar held tilted onto the table and drag it along the table away from the divider.

    A bar leaning on the divider, held by its low end, flattens as it is dragged (its top slides
    down the divider; the grasp pivots); one tilted in the air pivots flat as its low end touches
    down. If it is still tilted on the spot, let go so it falls flat to be picked again.
    """
    goal = tcp.copy()
    goal[:2] += SET_DOWN_XY[arm] - bar[:2]
    goal[2] -= _bottom(bar) - 0.002
    there = np.linalg.norm(bar[:2] - SET_DOWN_XY[arm]) < 0.03
    return goal, (OPEN if there and _bottom(bar) < 0.006 else CLOSE)


def _lift_first(bar: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Where the bar's centre goes next on its way to ``centre``: straight up to :data:`CLEAR_Z` first
    when the straight path would drag the bar over the divider's top, else straight to ``centre``.

    A bar re-picked near the divider and carried in a straight line struck the divider's top with
    its far end and pivoted in the hand. The test looks ahead along the path (no memory), so the
    nominal moves, which clear the divider, are unchanged.
    """
    if _strikes_the_wall(bar, centre):
        return np.array([bar[0], bar[1], CLEAR_Z])
    return centre


def _strikes_the_wall(bar: np.ndarray, centre: np.ndarray) -> bool:
    """Whether the bar, moved in a straight line to ``centre``, passes over the divider lower than its top."""
    axis = geo.quat_to_mat(bar[3:])[:, 1]
    half = 0.5 * props.BAR_SIZE[1]
    for t in np.linspace(0.0, 1.0, 11):
        c = bar[:3] + t * (centre - bar[:3])
        ends = c[1] + np.array([-1.0, 1.0]) * half * axis[1]
        over = ends[0] * ends[1] < 0 or np.min(np.abs(ends)) < WALL_MARGIN
        bottom = c[2] - 0.5 * props.BAR_SIZE[2] - half * abs(axis[2])
        if over and bottom < props.DIVIDER_HEIGHT + 0.005:
            return True
    return False


def _path_length(bar: np.ndarray, centre: np.ndarray) -> float:
    """Length (m) of the bar centre's path to ``centre`` via :func:`_lift_first`'s waypoint."""
    waypoint = _lift_first(bar, centre)
    return float(np.linalg.norm(waypoint - bar[:3]) + np.linalg.norm(centre - waypoint))


def _carry(tcp: np.ndarray, bar: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """TCP pose that puts the held bar's centre at ``centre``, level and along world y (see :func:`level`),
    keeping the bar's measured pose in the hand."""
    tcp_in_bar = geo.pose_compose(geo.pose_inverse(bar), tcp)
    return geo.pose_compose(np.concatenate([centre, level(bar[3:])]), tcp_in_bar)


def level(bar_quat: np.ndarray) -> np.ndarray:
    """The bar's orientation turned the least way that lays its long axis along world +-y.

    The bar is a box: a bar flipped over by a drop is as good as an upright one, so the goal keeps
    its roll about the long axis and the end that points left (a fixed goal orientation asked a
    flipped bar to turn half a turn, the wrist hit its limits and the tilted bar struck the divider).
    """
    axis = geo.quat_to_mat(bar_quat)[:, 1]
    target = np.array([0.0, 1.0 if axis[1] >= 0 else -1.0, 0.0])
    turn = np.cross(axis, target)
    angle = float(np.arctan2(np.linalg.norm(turn), axis @ target))
    if angle < 1e-9:
        return bar_quat
    return geo.quat_mul(geo.rotvec_to_quat(turn / np.linalg.norm(turn) * angle), bar_quat)


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


def _placed(bar: np.ndarray) -> bool:
    """Resting on the pad within the task's tolerances (a bar dropped crooked there is picked again)."""
    rot = geo.quat_to_mat(bar[3:])
    along = abs(rot[1, 1]) / max(float(np.linalg.norm(rot[:2, 1])), 1e-9)
    return bool(np.linalg.norm(bar[:2] - TARGET_XY) < PLACE_TOLERANCE and bar[2] < props.BAR_REST_Z + 0.002
                and abs(rot[2, 1]) < np.sin(TILT_TOLERANCE) and along > np.cos(YAW_TOLERANCE))
