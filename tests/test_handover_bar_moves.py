"""The handover expert's bar geometry: levelling modulo the bar's symmetry, clearing the divider, set-down height."""

from __future__ import annotations

import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.envs.experts.bar_moves import CLEAR_Z, bottom, level, lift_first, strikes_the_wall
from hilserl_bench.envs.experts.object_handover import HANDOVER_BAR
from hilserl_bench.envs.props import handover as props


def _bar(xyz, euler=(0.0, 0.0, 0.0)) -> np.ndarray:
    return np.concatenate([np.asarray(xyz, dtype=float), geo.euler_to_quat(np.asarray(euler, dtype=float))])


def test_level_keeps_a_flipped_bar_and_turns_a_tilted_one_the_least_way():
    flipped = _bar([0.5, 0.2, 0.015], (np.pi, 0.0, 0.0))
    assert np.linalg.norm(geo.orientation_error(flipped[3:], level(flipped[3:]))) < 1e-9
    tilted = _bar([0.5, 0.2, 0.1], (0.5, 0.0, 0.3))
    levelled = level(tilted[3:])
    axis = geo.quat_to_mat(levelled)[:, 1]
    assert abs(abs(axis[1]) - 1.0) < 1e-9
    turn = np.linalg.norm(geo.orientation_error(tilted[3:], levelled))
    assert turn < np.hypot(0.5, 0.3) + 1e-6  # no half turn about the long axis


def test_a_low_bar_near_the_divider_is_lifted_first_and_a_high_one_goes_straight():
    low = _bar([0.5, 0.15, props.BAR_REST_Z])
    assert strikes_the_wall(low, HANDOVER_BAR)
    np.testing.assert_allclose(lift_first(low, HANDOVER_BAR), [0.5, 0.15, CLEAR_Z])
    at_handover = _bar(HANDOVER_BAR)
    above_pad = np.array([0.5, -0.3, props.BAR_REST_Z + 0.05])
    assert not strikes_the_wall(at_handover, above_pad)
    np.testing.assert_allclose(lift_first(at_handover, above_pad), above_pad)
    on_divider = _bar([0.5, 0.0, props.DIVIDER_HEIGHT + props.BAR_SIZE[2] / 2])
    assert strikes_the_wall(on_divider, above_pad)


def test_bottom_is_the_lowest_corner_of_a_tilted_bar():
    assert abs(bottom(_bar([0.5, 0.2, props.BAR_REST_Z]))) < 1e-9
    leaning = _bar([0.5, 0.1, 0.07], (-1.0, 0.0, 0.0))
    rot = geo.quat_to_mat(leaning[3:])
    corners = [leaning[:3] + rot @ (np.array(s) * np.asarray(props.BAR_SIZE) / 2)
               for s in np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1])).T.reshape(-1, 3)]
    assert abs(bottom(leaning) - min(c[2] for c in corners)) < 1e-9
