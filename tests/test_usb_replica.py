"""The USB replica cannot cheat: grasps never launch the plug, light parts do not sink, the success
predicate refuses impossible states, keying blocks an upside-down plug, a lost plug ends the episode,
and the expert works from any state. Full-size measurements: benchmarks/usb_replica_checks.py.
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

import hilserl_bench as hb
from hilserl_bench import geometry as geo
from hilserl_bench.backend import SceneState
from hilserl_bench.envs.arena import add_arena
from hilserl_bench.envs.experts import make_expert
from hilserl_bench.envs.props import usb
from hilserl_bench.envs.replica_probes import grasp_launch_trial, random_relative_grasp, sinking_under_press
from hilserl_bench.envs.tasks.usb_insertion import PLUG_TIP_X

MM = 1e-3


@pytest.fixture(scope="module")
def env():
    e = hb.make("usb_insertion", obs_mode="state")
    yield e
    e.close()


def _plug_in_port(task, depth: float, dy: float = 0.0, yaw_deg: float = 0.0, roll_deg: float = 0.0) -> np.ndarray:
    """Plug body pose with its tip ``depth`` past the mouth, ``dy`` off axis, turned and rolled."""
    mouth = task.mouth_pose
    turn = geo.euler_to_quat(np.radians([roll_deg, 0.0, yaw_deg]))
    tip = geo.pose_compose(mouth, np.array([depth, dy, 0.0, *turn]))
    return geo.pose_compose(tip, np.array([-PLUG_TIP_X, 0, 0, 0, 0, 0, 1.0]))


def _evaluate_placed(env, plug_pose: np.ndarray):
    """Put the plug at ``plug_pose`` (qpos), run mj_forward, and evaluate the resulting simulator state."""
    raw = env.unwrapped
    backend = raw.backend
    backend._place("usb_plug", plug_pose)
    mujoco.mj_forward(backend.model, backend.data)
    scene = SceneState(poses=backend.scene_state().poses, penetration=backend.penetration())
    return raw.task.evaluate(scene, ())


# -- 1. grasp physics ---------------------------------------------------------------------------------
def test_closing_at_random_relative_poses_never_launches_the_plug(env) -> None:
    """CI subset (24 poses, fixed seed) of the 150-pose benchmark; includes the worst kinds (turned, low, high)."""
    rng = np.random.default_rng(7)
    task = env.unwrapped.task
    speeds = []
    for i in range(24):
        env.reset(seed=500 + i)
        plug = env.unwrapped.backend.scene_state().poses["usb_plug"]
        trial = grasp_launch_trial(env, "usb_plug", random_relative_grasp(task.plug_grasp_pose(plug), rng))
        speeds.append(trial.max_speed)
        assert trial.in_workspace and trial.min_z > -0.001, (i, trial)
    assert max(speeds) < 2.0, np.round(speeds, 2)


@pytest.mark.parametrize("force", [10.0, 20.0])
def test_plug_does_not_sink_into_the_table(force: float) -> None:
    def build(spec: mujoco.MjSpec) -> str:
        add_arena(spec)
        return usb.add_usb_plug(spec, [0.4, 0.1, usb.PLUG_REST_Z, 0, 0, 0, 1]).body

    assert sinking_under_press(build, force, usb.PLUG_REST_Z) < 0.2 * MM


# -- 2. a lost object ends the episode ----------------------------------------------------------------
def test_plug_leaving_the_workspace_ends_the_episode_as_a_failure(env) -> None:
    obs, info = env.reset(seed=3)
    assert info["object_lost"] is False
    plug = env.unwrapped.backend.scene_state().poses["usb_plug"].copy()
    plug[2] = -0.3  # through the table
    env.unwrapped.backend._place("usb_plug", plug)
    obs, reward, terminated, truncated, info = env.step(np.zeros(7, dtype=np.float32))
    assert terminated and not truncated and info["object_lost"] and not info["succeed"] and reward == 0.0


# -- 4. the success predicate -------------------------------------------------------------------------
@pytest.mark.parametrize(("depth_mm", "dy_mm", "yaw_deg", "roll_deg", "expected"), [
    (12.0, 0.0, 0.0, 0.0, True),     # fully seated
    (10.5, 0.2, 1.0, 0.0, True),     # seated within the shell's play
    (8.0, 0.0, 0.0, 0.0, False),     # not deep enough
    (30.0, 0.0, 0.0, 0.0, False),    # through the back of the 12.5 mm receptacle
    (12.0, 0.0, 0.0, 180.0, False),  # upside down: keyed, cannot be in
    (12.0, 0.0, 4.9, 0.0, False),    # crooked beyond the shell's play
    (12.0, 1.0, 0.0, 0.0, False),    # 1 mm off axis: inside the wall
])
def test_evaluate_on_constructed_states(env, depth_mm, dy_mm, yaw_deg, roll_deg, expected) -> None:
    env.reset(seed=0)
    pose = _plug_in_port(env.unwrapped.task, depth_mm * MM, dy_mm * MM, yaw_deg, roll_deg)
    assert _evaluate_placed(env, pose).success is expected


def test_evaluate_refuses_interpenetration(env) -> None:
    """A geometrically seated pose reported with 2 mm of plug/port penetration is not success."""
    env.reset(seed=0)
    task = env.unwrapped.task
    pose = _plug_in_port(task, 12 * MM)
    assert task.evaluate(SceneState(poses={"usb_plug": pose}, penetration=0.0), ()).success
    assert not task.evaluate(SceneState(poses={"usb_plug": pose}, penetration=2 * MM), ()).success


def test_keying_blocks_an_upside_down_plug(env) -> None:
    """Placed upside down just inside the mouth, the plug overlaps the tongue; right side up it does not."""
    env.reset(seed=0)
    task = env.unwrapped.task
    backend = env.unwrapped.backend
    depths = {}
    for roll in (0.0, 180.0):
        backend._place("usb_plug", _plug_in_port(task, 4 * MM, roll_deg=roll))
        mujoco.mj_forward(backend.model, backend.data)
        depths[roll] = backend.penetration()
    assert depths[0.0] < 0.1 * MM and depths[180.0] > 1 * MM, depths


# -- 5. the expert --------------------------------------------------------------------------------------
def _run(env, expert, obs, steps: int) -> dict:
    info = {}
    for _ in range(steps):
        obs, _, terminated, truncated, info = env.step(expert.act(obs))
        if terminated or truncated:
            break
    return info


def test_expert_regrasps_after_a_drop(env) -> None:
    expert = make_expert(env)
    obs, _ = env.reset(seed=11)
    expert.reset(np.random.default_rng(11))
    for _ in range(60):
        if expert.phase(obs) == "align":
            break
        obs, *_ = env.step(expert.act(obs))
    assert expert.in_hand(obs)
    action = np.zeros(7, dtype=np.float32)
    action[6] = 1.0
    for _ in range(8):
        obs, *_ = env.step(action)  # the policy opens the hand: the plug falls
    assert not expert.in_hand(obs) and expert.phase(obs) in ("release", "approach", "descend")
    assert _run(env, expert, obs, 110)["succeed"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_expert_succeeds_after_random_actions(env, seed: int) -> None:
    expert = make_expert(env)
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    expert.reset(rng)
    for _ in range(25):
        obs, *_ = env.step(rng.uniform(-1, 1, size=7).astype(np.float32))
    env.unwrapped._steps = 0  # give the expert a full episode from this state
    assert _run(env, expert, obs, 120)["succeed"]
