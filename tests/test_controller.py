"""The simulated impedance controller behaves like the real one (robot_server.md)."""

from __future__ import annotations

import numpy as np
import pytest

from hilserl_bench import geometry as geo
from hilserl_bench.backend import ResetPlan
from hilserl_bench.env import FrankaEnv
from hilserl_bench.envs.sim_backend import SimBackend
from hilserl_bench.robot_types import ImpedanceParams, uniform_clips
from hilserl_bench.task import Evaluation, SafetyBox, Task

DOWN = np.array([np.pi, 0.0, 0.0])
BLOCK_TOP = 0.10


class PressTask(Task):
    """A fixed block under the gripper: enough to test tracking and contact forces."""

    task_id = "press_test"

    @property
    def target_pose(self):
        return geo.pose_from_6d(np.concatenate([[0.5, 0.0, BLOCK_TOP], DOWN]))

    @property
    def reset_pose(self):
        return geo.pose_from_6d(np.concatenate([[0.5, 0.0, BLOCK_TOP + 0.03], DOWN]))

    @property
    def safety_box(self):
        return SafetyBox(np.array([0.3, -0.2, 0.0, np.pi - 0.3, -0.3, -0.5]),
                         np.array([0.7, 0.2, 0.4, np.pi, 0.3, 0.5]))

    @property
    def episode_params(self):
        return ImpedanceParams(**uniform_clips((0.0075, 0.0016, 0.0055, 0.002, 0.0016, 0.005), (0.05,) * 6))

    def build_scene(self, spec):
        spec.worldbody.add_geom(name="block", type=6, size=[0.05, 0.05, BLOCK_TOP / 2],
                                pos=[0.5, 0.0, BLOCK_TOP / 2], contype=1, conaffinity=3)

    def reset_plan(self, rng):
        return ResetPlan(self.reset_pose, gripper_closed=True)

    def evaluate(self, scene, arms):
        return Evaluation(False)

    def task_state(self, scene, arms):
        return {}

    def task_state_dims(self):
        return {}


@pytest.fixture(scope="module")
def env():
    task = PressTask()
    e = FrankaEnv(task, SimBackend(task), obs_mode="state")
    yield e
    e.close()


def test_reset_reaches_planned_pose(env):
    obs, _ = env.reset(seed=0)
    pose = obs["state"]["tcp_pose"].astype(np.float64)
    assert np.linalg.norm(pose[:3] - env.task.reset_pose[:3]) < 1e-3
    assert np.linalg.norm(geo.orientation_error(pose[3:], env.task.reset_pose[3:])) < 5e-3


def test_free_space_motion_follows_actions(env):
    obs, _ = env.reset(seed=0)
    start = obs["state"]["tcp_pose"][:3].copy()
    for _ in range(15):
        obs, *_ = env.step(np.array([0.0, 1.0, 0.0, 0.0, 0.0, 0.0]))
    moved = obs["state"]["tcp_pose"][:3] - start
    assert moved[1] > 0.02, moved
    assert abs(moved[0]) < 0.003 and abs(moved[2]) < 0.003, moved


def test_reference_limiting_caps_the_pressing_force(env):
    """Pressing into the block: force ~ K * clip_neg_z = 2000 * 0.005 = 10 N, reported +z in the TCP frame."""
    env.reset(seed=0)
    for _ in range(30):
        obs, *_ = env.step(np.array([0.0, 0.0, -1.0, 0.0, 0.0, 0.0]))
    force = obs["state"]["tcp_force"]
    # The TCP z axis points down: pushing down on the block reads as +z, like the Franka's K_F_ext_hat_K.
    assert 7.0 < force[2] < 12.5, force
    assert np.all(np.abs(force[:2]) < 2.0), force


def test_stiffer_clip_presses_harder(env):
    env.reset(seed=0)
    arm = env.backend.arms[0]
    arm.update_params(env.task.episode_params.replace(translational_clip_neg_z=0.01))
    for _ in range(30):
        obs, *_ = env.step(np.array([0.0, 0.0, -1.0, 0.0, 0.0, 0.0]))
    assert 16.0 < obs["state"]["tcp_force"][2] < 23.0


def test_forces_read_zero_in_free_space(env):
    env.reset(seed=0)
    for _ in range(5):
        obs, *_ = env.step(np.zeros(6))
    assert np.linalg.norm(obs["state"]["tcp_force"]) < 0.5


def test_update_params_rejects_out_of_range_values():
    with pytest.raises(ValueError, match="translational_stiffness"):
        ImpedanceParams(translational_stiffness=7000.0)
    with pytest.raises(ValueError, match="unknown impedance parameter"):
        ImpedanceParams.from_dict({"stiffness": 1.0})


def test_random_actions_stay_stable(env):
    """Uniform random twists for 300 steps: joints never whip around (the nullspace refresh is stable)."""
    rng = np.random.default_rng(0)
    fastest = 0.0
    for episode in range(3):
        env.reset(seed=episode)
        for _ in range(100):
            env.step(rng.uniform(-1, 1, 6))
            fastest = max(fastest, float(np.abs(env.backend.data.qvel[env.backend.arms[0].dof_addrs]).max()))
    assert fastest < 3.0, fastest
