"""Timing belt: the success predicate on constructed states, the expert, random actions, stability."""

from __future__ import annotations

import numpy as np
import pytest
from dual_arm_http import sim_and_http_traces

import hilserl_bench
from hilserl_bench.backend import SceneState
from hilserl_bench.envs.experts import make_expert
from hilserl_bench.envs.props import timing_belt as tb
from hilserl_bench.envs.tasks.timing_belt import SEAT_RADIUS, TimingBelt
from hilserl_bench.robot_types import ArmState

TASK = TimingBelt()
FIXTURE = TASK.nominal_fixture
N = tb.VERTICES


def _stadium(pull: float, radius: float = SEAT_RADIUS) -> np.ndarray:
    """N fixture-frame (x, y) points around both hubs, pulley B pulled ``pull`` toward A."""
    a, b = tb.PULLEY_Y, -tb.PULLEY_Y + pull
    span, arc = a - b, np.pi * radius
    s = np.linspace(0.0, 2 * (span + arc), N, endpoint=False)
    points = []
    for u in s:
        if u < span:
            points.append([radius, b + u])
        elif u < span + arc:
            t = (u - span) / radius
            points.append([radius * np.cos(t), a + radius * np.sin(t)])
        elif u < 2 * span + arc:
            points.append([-radius, a - (u - span - arc)])
        else:
            t = (u - 2 * span - arc) / radius
            points.append([-radius * np.cos(t), b - radius * np.sin(t)])
    return np.array(points)


def _scene(pull: float = 0.005, z: float | np.ndarray = tb.GROOVE_Z, points: np.ndarray | None = None) -> SceneState:
    points = _stadium(pull) if points is None else points
    zs = np.broadcast_to(z, (N,))
    poses = {"belt_fixture": FIXTURE, "tensioner": np.array([*FIXTURE[:2], 0.015, 0, 0, 0, 1.0])}
    poses["tensioner"][1] += -tb.PULLEY_Y + pull
    for name, (x, y), zz in zip(TASK.belt, points, zs, strict=True):
        poses[name] = np.array([FIXTURE[0] + x, FIXTURE[1] + y, zz, 0, 0, 0, 1.0])
    return SceneState(poses=poses)


def _arms(lift: float = 0.08, inward: float = 0.0) -> tuple[ArmState, ...]:
    """Both hands over their hook points, ``lift`` above release height, ``inward`` along the pulley line."""
    arms = []
    for i in range(2):
        world = TASK.hook_pose(FIXTURE, i, lift)
        world[1] -= inward if i == 0 else -inward
        arms.append(ArmState(pose=TASK.to_arm(i, world), vel=np.zeros(6), force=np.zeros(3), torque=np.zeros(3),
                             q=np.zeros(7), dq=np.zeros(7), gripper_pos=1.0))
    return tuple(arms)


def _raised_at_a(dz: float) -> np.ndarray:
    """Heights with the loop's wrap around pulley A (and the spans' last 2 cm before it) raised by ``dz``."""
    z = np.full(N, tb.GROOVE_Z)
    z[_stadium(0.005)[:, 1] > tb.PULLEY_Y - 0.02] += dz
    return z


def _pushed_out_at_a(dr: float) -> np.ndarray:
    points = _stadium(0.005)
    on_a = points[:, 1] > tb.PULLEY_Y
    offset = points[on_a] - [0.0, tb.PULLEY_Y]
    points[on_a] += dr * offset / np.linalg.norm(offset, axis=1, keepdims=True)
    return points


@pytest.mark.parametrize(("scene", "arms", "expected"), [
    (_scene(), _arms(), True),                                                  # seated, tensioned, hands clear
    (_scene(z=tb.GROOVE_Z - 0.0025), _arms(), True),                            # resting on the lower flanges
    (_scene(z=_raised_at_a(tb.GROOVE_HIGH + tb.FLANGE_THICKNESS + tb.BELT_RADIUS - tb.GROOVE_Z)), _arms(), False),
    (_scene(points=_pushed_out_at_a(0.007)), _arms(), False),                   # A's wrap outside the flange rim
    (_scene(pull=0.0), _arms(), False),                                         # seated, but tensioner on its stop
    (_scene(pull=0.001), _arms(), False),                                       # tensioner moved only 1 mm
    (_scene(z=tb.GROOVE_Z + 0.01), _arms(), False),                             # held in the air 1 cm above
    (_scene(z=tb.GROOVE_Z + 0.004), _arms(), False),                            # 4 mm up: on top of the flanges
    (_scene(), _arms(lift=0.0, inward=0.028), False),                           # seated, fingers still in the loop
    (_scene(points=_stadium(0.005, SEAT_RADIUS - 0.003)), _arms(), False),      # 3 mm inside the hubs
])
def test_success_is_seated_all_around_tensioned_and_let_go(scene, arms, expected):
    assert TASK.evaluate(scene, arms).success is expected


def test_span_sag_is_tolerated_only_between_the_pulleys():
    points = _stadium(0.005)
    span = np.abs(points[:, 1] - 0.0025) < 0.05
    sag = np.where(span, tb.GROOVE_Z - 0.005, tb.GROOVE_Z)
    assert TASK.evaluate(_scene(z=sag), _arms()).success
    assert not TASK.evaluate(_scene(z=np.where(span, tb.GROOVE_Z - 0.012, tb.GROOVE_Z)), _arms()).success


@pytest.fixture(scope="module")
def env():
    e = hilserl_bench.make("timing_belt", obs_mode="state")
    yield e
    e.close()


def test_expert_seats_the_belt_and_it_stays_when_the_hands_are_gone(env):
    raw = env.unwrapped
    expert = make_expert(env)
    for seed in (3, 11):
        obs, _ = env.reset(seed=seed)
        expert.reset(np.random.default_rng(seed))
        for _ in range(raw.task.config.max_steps):
            obs, _, term, trunc, info = env.step(expert.act(obs))
            if term or trunc:
                break
        assert info["succeed"], (seed, info)
        for _ in range(10):
            raw.backend.wait_for_next_step()
        scene = raw.backend.scene_state()
        assert raw.task.evaluate(scene, tuple(a.get_state() for a in raw.backend.arms)).success
        assert raw.task.tensioner_offset(scene) > 0.003


def test_random_actions_stay_stable_and_never_seat_the_belt(env):
    """Random twists for a whole episode: no divergence, the belt stays near the cell and below 3 m/s."""
    raw = env.unwrapped
    belt = [raw.backend.model.body(v).id for v in raw.task.belt]
    rng = np.random.default_rng(5)
    env.reset(seed=5)
    fastest = 0.0
    for _ in range(raw.task.config.max_steps):
        _, _, term, trunc, info = env.step(rng.uniform(-1, 1, env.action_space.shape))
        assert np.all(np.isfinite(raw.backend.data.qpos))
        fastest = max(fastest, float(np.linalg.norm(raw.backend.data.cvel[belt][:, 3:], axis=1).max()))
        assert not info["succeed"]
        if term or trunc:
            break
    assert not info["object_lost"]
    assert fastest < 3.0, fastest
    assert info["penetration"] < 1e-3


def test_sim_and_http_emulator_trajectories_agree():
    """serve-sim path: both arms over HTTP (one server each) follow the simulator's expert trajectory."""
    sim, http, _ = sim_and_http_traces("timing_belt", 15, ("belt_centroid", "tensioner"))
    np.testing.assert_allclose(sim, http, atol=1e-6)
