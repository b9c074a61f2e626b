"""IKEA shelf stages: the success predicate on constructed states, the chain's carry-over, one expert episode."""

from __future__ import annotations

import numpy as np
import pytest

from hilserl_bench import geometry as geo
from hilserl_bench.backend import SceneState
from hilserl_bench.envs.props import ikea_shelf as shelf
from hilserl_bench.envs.tasks.ikea_shelf import SidePanel1, SidePanel2, TopPanel, side_seat, top_seat


def _moved(pose: np.ndarray, dxyz=(0.0, 0.0, 0.0), tilt=(0.0, 0.0, 0.0)) -> np.ndarray:
    """``pose`` shifted by ``dxyz`` (world) and turned by extrinsic ``tilt`` (rad) about its own origin."""
    out = pose.copy()
    out[:3] += dxyz
    out[3:] = geo.quat_mul(geo.euler_to_quat(np.asarray(tilt, dtype=float)), pose[3:])
    return out


def _scene(**overrides: np.ndarray) -> SceneState:
    poses = {"side_panel_1": side_seat("side_panel_1"), "side_panel_2": side_seat("side_panel_2")}
    poses["top_panel"] = top_seat(poses["side_panel_1"], poses["side_panel_2"])
    poses.update(overrides)
    return SceneState(poses=poses)


S1 = side_seat("side_panel_1")
ALONG = geo.quat_to_mat(S1[3:])[:, 0]
"""World direction of side panel 1's length (its dowel row)."""
ACROSS = geo.quat_to_mat(S1[3:])[:, 1]


@pytest.mark.parametrize(("pose", "expected"), [
    (S1, True),
    (_moved(S1, (0, 0, 0.0008)), True),                          # 0.8 mm proud: within 1 mm of full depth
    (_moved(S1, (0, 0, 0.0015)), False),                         # 1.5 mm short of full depth
    (_moved(S1, (0, 0, 0.012)), False),                          # dowel tips resting on the hole mouths
    (_moved(S1, 0.02 * ACROSS - [0, 0, 0.0]), False),            # dowels beside their holes, panel flush
    (_moved(S1, 0.006 * ALONG), False),                          # dowels 6 mm along the row: in the board
    (_moved(S1, (0, 0, -0.004)), False),                         # panel 4 mm through the base (and pins past the floor)
    (_moved(S1, (0, 0, 0.003), (np.radians(3), 0, 0)), False),   # tilted 3 degrees, one edge lifted
    (_moved(S1, (0, 0, 0.0), (0, 0, np.radians(2))), False),     # turned 2 degrees: far dowel out of its hole
])
def test_side_panel_success_is_every_dowel_at_depth_and_flush(pose, expected):
    task = SidePanel1()
    assert task.evaluate(_scene(side_panel_1=pose), ()).success is expected


def test_side_panel_2_needs_side_panel_1_still_seated():
    task = SidePanel2()
    assert task.evaluate(_scene(), ()).success
    assert not task.evaluate(_scene(side_panel_1=_moved(S1, (0, 0, 0.01))), ()).success


def test_top_panel_needs_all_four_dowels_and_both_sides():
    task = TopPanel()
    seated = _scene()
    assert task.evaluate(seated, ()).success
    top = seated.poses["top_panel"]
    assert not task.evaluate(_scene(top_panel=_moved(top, (0, 0, 0.002))), ()).success
    assert not task.evaluate(_scene(top_panel=_moved(top, 0.01 * ALONG)), ()).success
    tilted = _moved(top, (0, 0, 0.0), (0, np.radians(1.5), 0))
    assert not task.evaluate(_scene(top_panel=tilted), ()).success
    assert not task.evaluate(_scene(side_panel_2=_moved(side_seat("side_panel_2"), (0, 0, 0.01))), ()).success


def test_top_panel_follows_side_panels_where_they_stand():
    """A top panel seated on side panels that stand 0.3 mm off nominal (inside the hole clearance) succeeds."""
    s1 = _moved(S1, 0.0003 * ACROSS)
    s2 = _moved(side_seat("side_panel_2"), 0.0003 * ACROSS)
    scene = _scene(side_panel_1=s1, side_panel_2=s2, top_panel=top_seat(s1, s2))
    assert TopPanel().evaluate(scene, ()).success


def test_reset_starts_from_earlier_stages_and_carries_over_what_they_left():
    rng = np.random.default_rng(0)
    plan = SidePanel2().reset_plan(rng)
    np.testing.assert_allclose(plan.object_poses["side_panel_1"], S1)
    assert "side_panel_2" in plan.held_objects
    task = TopPanel()
    left = _moved(S1, (0, 0, 0.005))
    task.carry_over({"side_panel_1": left})
    plan = task.reset_plan(rng)
    np.testing.assert_allclose(plan.object_poses["side_panel_1"], left)
    with pytest.raises(ValueError, match="carries over only"):
        SidePanel1().carry_over({"top_panel": left})


def test_reset_randomisation_covers_the_stated_ranges():
    task = SidePanel1()
    seat = task.seat_pose()
    starts = np.array([task.start_pose(np.random.default_rng(s)) for s in range(300)])
    offsets = starts[:, :2] - seat[:2]
    assert 0.035 < np.abs(offsets).max() <= task.config.random_xy + 1e-9
    yaws = [geo.orientation_error(seat[3:], p[3:])[2] for p in starts]
    assert 0.8 * task.config.random_yaw < np.max(np.abs(yaws)) <= task.config.random_yaw + 1e-9
    assert TopPanel().config.random_xy == pytest.approx(0.015) and TopPanel().config.max_steps == 150


def test_fit_geometry_is_a_dowel_in_a_clearance_hole():
    assert 0.0002 <= shelf.CLEARANCE <= 0.0004
    assert shelf.HOLE_DEPTH > shelf.DOWEL_OUT
    assert 0.3 < shelf.SIDE_MASS < 0.6 and 0.4 < shelf.TOP_MASS < 0.9


@pytest.mark.slow
def test_expert_seats_side_panel_1_in_the_simulator():
    import hilserl_bench as hb
    from hilserl_bench.envs.experts import make_expert

    env = hb.make("side_panel_1", obs_mode="state")
    expert = make_expert(env)
    obs, _ = env.reset(seed=0)
    expert.reset(np.random.default_rng(0))
    assert env.action_space.shape == (12,)
    for _ in range(100):
        obs, reward, term, trunc, info = env.step(expert.act(obs))
        if term or trunc:
            break
    assert info["succeed"] and reward == 1.0
    env.close()


def test_chain_rejects_bad_arguments_with_a_clear_message():
    from hilserl_bench.ikea_chain import run_chain

    with pytest.raises(ValueError, match="must be >= 1"):
        run_chain(("expert",), trials=0)
    with pytest.raises(ValueError, match="3 run directories"):
        run_chain(("runs/a", "runs/b"), trials=1)
