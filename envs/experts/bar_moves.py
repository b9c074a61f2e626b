"""How the handover expert moves the bar: level it, carry it over the divider, set a tilted bar down.

Pure geometry on world poses (the bar's pose and a TCP pose); :mod:`.object_handover` decides
which move the state calls for.
"""

from __future__ import annotations

import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.envs.props import handover as props
from hilserl_bench.envs.tasks.object_handover import PLACE_TOLERANCE, TARGET_XY, TILT_TOLERANCE, YAW_TOLERANCE

OPEN, CLOSE = 1.0, -1.0
CLEAR_Z = props.DIVIDER_HEIGHT + 0.05
"""Height (m) of the bar's centre at which it clears the divider's top whatever its place."""
WALL_MARGIN = 0.015
"""A bar end this close (m) to the divider's centre plane is over the divider (half its thickness plus 1 cm)."""
SET_DOWN_TILT = np.deg2rad(15.0)
"""A held bar tilted more than this is set down and picked again; a lying bar's end this much lower is leaning."""
SET_DOWN_XY = (np.array([0.5, 0.2]), np.array([0.5, -0.2]))
"""Where (world xy) each hand sets a tilted bar down: on its own side, well away from the divider."""


def leaning_end(end: np.ndarray) -> bool:
    """Whether the direction ``end`` from the bar's centre to a grasp points down more than :data:`SET_DOWN_TILT`."""
    return bool(end[2] < -np.sin(SET_DOWN_TILT) * np.linalg.norm(end))


def bottom(bar: np.ndarray) -> float:
    """Height (m) of the bar's lowest point above the table (its lower end when tilted)."""
    rot = geo.quat_to_mat(bar[3:])
    return float(bar[2] - 0.5 * np.abs(rot[2]) @ np.asarray(props.BAR_SIZE))


def set_down(tcp: np.ndarray, bar: np.ndarray, arm: int) -> tuple[np.ndarray, float]:
    """Lower a bar held tilted onto the table and drag it along the table away from the divider.

    A bar leaning on the divider, held by its low end, flattens as it is dragged (its top slides
    down the divider; the grasp pivots); one tilted in the air pivots flat as its low end touches
    down. If it is still tilted on the spot, let go so it falls flat to be picked again.
    """
    goal = tcp.copy()
    goal[:2] += SET_DOWN_XY[arm] - bar[:2]
    goal[2] -= bottom(bar) - 0.002
    there = np.linalg.norm(bar[:2] - SET_DOWN_XY[arm]) < 0.03
    return goal, (OPEN if there and bottom(bar) < 0.006 else CLOSE)


def lift_first(bar: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Where the bar's centre goes next on its way to ``centre``: straight up to :data:`CLEAR_Z` first
    when the straight path would drag the bar over the divider's top, else straight to ``centre``.

    A bar re-picked near the divider and carried in a straight line struck the divider's top with
    its far end and pivoted in the hand. The test looks ahead along the path (no memory), so the
    nominal moves, which clear the divider, are unchanged.
    """
    if strikes_the_wall(bar, centre):
        return np.array([bar[0], bar[1], CLEAR_Z])
    return centre


def strikes_the_wall(bar: np.ndarray, centre: np.ndarray) -> bool:
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


def path_length(bar: np.ndarray, centre: np.ndarray) -> float:
    """Length (m) of the bar centre's path to ``centre`` via :func:`lift_first`'s waypoint."""
    waypoint = lift_first(bar, centre)
    return float(np.linalg.norm(waypoint - bar[:3]) + np.linalg.norm(centre - waypoint))


def carry(tcp: np.ndarray, bar: np.ndarray, centre: np.ndarray) -> np.ndarray:
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


def placed(bar: np.ndarray) -> bool:
    """Resting on the pad within the task's tolerances (a bar dropped crooked there is picked again)."""
    rot = geo.quat_to_mat(bar[3:])
    along = abs(rot[1, 1]) / max(float(np.linalg.norm(rot[:2, 1])), 1e-9)
    return bool(np.linalg.norm(bar[:2] - TARGET_XY) < PLACE_TOLERANCE and bar[2] < props.BAR_REST_Z + 0.002
                and abs(rot[2, 1]) < np.sin(TILT_TOLERANCE) and along > np.cos(YAW_TOLERANCE))
