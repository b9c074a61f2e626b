"""Cable clipping: the success predicate on constructed states, retention, stability and the expert."""

from __future__ import annotations

import numpy as np
import pytest

import hilserl_bench
from hilserl_bench import geometry as geo
from hilserl_bench.backend import SceneState
from hilserl_bench.envs.experts import make_expert
from hilserl_bench.envs.props import cable as usb_cable
from hilserl_bench.envs.tasks.cable_clipping import CABLE, CABLE_PREFIX, PLUG, CableClipping

MM = 1e-3
SEGMENTS = usb_cable.segment_names(CABLE_PREFIX, CABLE.segments)


@pytest.fixture(scope="module")
def task() -> CableClipping:
    return CableClipping()


def _straight_scene(task: CableClipping, shift=(0.0, 0.0, 0.0), yaw: float = 0.0, lip_open: float = 0.0,
                    lift_far_end: float = 0.0, penetration: float = 0.0) -> SceneState:
    """A straight cable seated along the channel (clip frame shifted by ``shift``), lips as given."""
    plug = geo.pose_compose(task.clip_pose, geo.pose_compose(
        np.concatenate([shift, geo.euler_to_quat(np.array([0.0, 0.0, yaw]))]),
        geo.pose_compose(geo.pose_inverse(task.clip_pose), task.seated_plug)))
    poses = {PLUG: plug}
    seg = geo.pose_compose(plug, np.array([-usb_cable.PLUG_SIZE[0] / 2, 0, 0, 0, 0, 1.0, 0.0]))
    for i, name in enumerate(SEGMENTS):
        pose = seg.copy()
        if i >= 1:
            pose[2] += lift_far_end
        poses[name] = pose
        seg = geo.pose_compose(seg, np.array([CABLE.length / CABLE.segments, 0, 0, 0, 0, 0, 1.0]))
    for sign, name in zip((1.0, -1.0), task.clip.lip_bodies, strict=True):
        rest = np.array([0.0, sign * (task.clip.half_width + lip_open), task.clip.lip_bottom, 0, 0, 0, 1.0])
        poses[name] = geo.pose_compose(task.clip_pose, rest)
    return SceneState(poses=poses, penetration=penetration)


def test_seated_cable_succeeds(task: CableClipping) -> None:
    ev = task.evaluate(_straight_scene(task), ())
    assert ev.success, ev.terms
    assert abs(ev.terms["cable_off_axis_mm"]) < 1e-6 and abs(ev.terms["cable_height_mm"]) < 1e-6


@pytest.mark.parametrize(("name", "kwargs"), [
    ("resting on top of the lips", {"shift": (0, 0, 3.0 * MM)}),
    ("half way past the lips", {"shift": (0, 0, 1.0 * MM)}),
    ("1 mm sideways (through a wall)", {"shift": (0, 1.0 * MM, 0)}),
    ("sunk 1 mm through the floor", {"shift": (0, 0, -1.0 * MM)}),
    ("yawed 5 deg across the channel", {"yaw": np.deg2rad(5.0)}),
    ("lips still pushed open", {"lip_open": 0.4 * MM}),
    ("far end of the channel lifted out", {"lift_far_end": 3.0 * MM}),
    ("lying across the clip", {"yaw": np.pi / 2}),
    ("seated but interpenetrating 1 mm", {"penetration": 1.0 * MM}),
])
def test_wrong_states_fail(task: CableClipping, name: str, kwargs: dict) -> None:
    ev = task.evaluate(_straight_scene(task, **kwargs), ())
    assert not ev.success, (name, ev.terms)


def _expert_episode(env, seed: int, noise: float = 0.0):
    expert = make_expert(env, noise)
    obs, _ = env.reset(seed=seed)
    expert.reset(np.random.default_rng(seed))
    info = {}
    for _ in range(env.unwrapped.task.config.max_steps):
        obs, _, term, trunc, info = env.step(expert.act(obs))
        if term or trunc:
            break
    return obs, info


def test_clipped_cable_stays_when_let_go() -> None:
    """After the expert clips the cable, open the gripper and pull the hand 5 cm up: it stays clipped."""
    env = hilserl_bench.make("cable_clipping", obs_mode="state")
    obs, info = _expert_episode(env, seed=0)
    assert info["succeed"], info
    for _ in range(8):
        obs, _, _, _, info = env.step(np.array([0, 0, 0, 0, 0, 0, 1.0]))
    for _ in range(6):
        obs, _, _, _, info = env.step(np.array([0, 0, 1.0, 0, 0, 0, 1.0]))
    for _ in range(5):
        obs, _, _, _, info = env.step(np.array([0, 0, 0, 0, 0, 0, 1.0]))
    assert info["succeed"], info
    env.close()


def test_cable_is_stable_under_random_actions() -> None:
    """Random twists and gripper commands: no NaN, no cable body faster than 2 m/s, none below the table."""
    env = hilserl_bench.make("cable_clipping", obs_mode="state")
    data = env.unwrapped.backend.data
    ids = [env.unwrapped.backend.model.body(b).id for b in SEGMENTS]
    rng = np.random.default_rng(0)
    fastest, lowest = 0.0, np.inf
    for seed in range(2):
        env.reset(seed=seed)
        for _ in range(120):
            env.step(rng.uniform(-1, 1, 7))
            assert np.all(np.isfinite(data.qpos))
            fastest = max(fastest, float(np.linalg.norm(data.cvel[ids, 3:], axis=1).max()))
            lowest = min(lowest, float(data.xpos[ids, 2].min()))
    env.close()
    assert fastest < 2.0, fastest
    assert lowest > CABLE.radius - 0.5 * MM, lowest


def test_expert_starts_from_random_states() -> None:
    """After 30 random steps (the gripper may have let go) the expert still finishes."""
    env = hilserl_bench.make("cable_clipping", obs_mode="state")
    rng = np.random.default_rng(1)
    wins = 0
    for seed in range(3):
        expert = make_expert(env)
        obs, _ = env.reset(seed=seed)
        for _ in range(30):
            obs, *_ = env.step(rng.uniform(-1, 1, 7))
        expert.reset(np.random.default_rng(seed))
        info = {}
        for _ in range(90):
            obs, _, term, _, info = env.step(expert.act(obs))
            if term:
                break
        wins += bool(info["succeed"])
    env.close()
    assert wins >= 2, wins
