"""Object flipping: the success predicate on constructed states, the 3-way class, the expert from odd states."""

import numpy as np
import pytest

import hilserl_bench
from hilserl_bench import geometry as geo
from hilserl_bench.backend import SceneState
from hilserl_bench.devices.fake import FakeDevice
from hilserl_bench.envs.experts import make_expert
from hilserl_bench.envs.tasks.object_flipping import EGG_RADIUS, OBJECT_CLASSES, ObjectFlipping
from hilserl_bench.robot_types import ArmState
from hilserl_bench.wrappers.human_intervention import HumanIntervention, HumanInterventionConfig

PAN = np.array([0.77, 0.0, 0.52, 0.0, 0.0, 0.0, 1.0])
MARK_UP = geo.euler_to_quat(np.array([0.0, 0.0, np.pi / 2]))
MARK_DOWN = geo.quat_mul(geo.euler_to_quat(np.array([0.0, np.pi, 0.0])), MARK_UP)


def arm(t: float) -> ArmState:
    zeros = np.zeros(7)
    return ArmState(pose=zeros, vel=np.zeros(6), force=np.zeros(3), torque=np.zeros(3), q=zeros, dq=zeros,
                    gripper_pos=0.0, timestamp=t)


def scene(egg_xyz, quat, pan=PAN) -> SceneState:
    egg = geo.pose_compose(pan, np.concatenate([egg_xyz, quat]))
    return SceneState(poses={"pan": pan, "egg": egg})


def run(task, states, dt=0.1):
    task.reset_plan(np.random.default_rng(0))
    return [task.evaluate(s, (arm(i * dt),)) for i, s in enumerate(states)]


def test_flipped_and_still_for_half_a_second_succeeds_only_then():
    task = ObjectFlipping()
    rest = scene([0.03, 0.0, EGG_RADIUS], MARK_DOWN)
    results = run(task, [rest] * 7)
    assert [r.success for r in results] == [False] * 6 + [True]
    assert results[-1].terms["object_class"] == OBJECT_CLASSES.index("flipped")


@pytest.mark.parametrize(("egg", "quat", "why"), [
    ([0.03, 0.0, EGG_RADIUS], MARK_UP, "mark up"),
    ([0.085, 0.0, EGG_RADIUS], MARK_DOWN, "propped against the far wall"),
    ([0.03, 0.0, EGG_RADIUS + 0.03], MARK_DOWN, "in the air"),
    ([0.03, 0.0, EGG_RADIUS], geo.quat_mul(geo.euler_to_quat(np.array([0.0, 1.2, 0.0])), MARK_UP), "mark sideways"),
])
def test_not_success(egg, quat, why):
    results = run(ObjectFlipping(), [scene(egg, quat)] * 8)
    assert not any(r.success for r in results), why


def test_a_rolling_egg_is_not_resting():
    states = [scene([0.03 + 0.003 * i, 0.0, EGG_RADIUS], MARK_DOWN) for i in range(8)]
    assert not any(r.success for r in run(ObjectFlipping(), states))


def test_object_classes():
    task = ObjectFlipping()
    assert task.object_class(scene([0.0, 0.0, EGG_RADIUS], MARK_UP)) == 0
    assert task.object_class(scene([0.0, 0.0, EGG_RADIUS], MARK_DOWN)) == 1
    assert task.object_class(scene([0.2, 0.0, -0.05], MARK_UP)) == 2
    assert task.object_class(scene([0.0, 0.0, 0.15], MARK_DOWN)) == 1


def test_info_exposes_the_class_and_reset_is_up():
    env = hilserl_bench.make("object_flipping", obs_mode="state")
    _, info = env.reset(seed=1)
    assert info["object_class"] == 0 and info["mark_down_cos"] < -0.9
    env.close()


def test_expert_recovers_from_random_states():
    env = hilserl_bench.make("object_flipping", obs_mode="state")
    expert = make_expert(env)
    rng = np.random.default_rng(0)
    wins = 0
    for seed in range(3):
        obs, _ = env.reset(seed=seed)
        expert.reset(np.random.default_rng(seed))
        for step in range(100):
            action = rng.uniform(-1, 1, 3) if step < 15 else expert.act(obs)
            obs, _, term, trunc, info = env.step(action)
            if term or trunc:
                break
        wins += bool(info["succeed"])
    assert wins >= 2, wins
    env.close()


def test_interventions_hold_half_a_second_after_the_last_input():
    env = hilserl_bench.make("object_flipping", obs_mode="state")
    device = FakeDevice([[]])
    wrapped = HumanIntervention(env, device, HumanInterventionConfig(realtime=False))
    assert wrapped.hold_s == 0.5
    assert HumanIntervention(env, device, HumanInterventionConfig(hold_s=0.0, realtime=False)).hold_s == 0.0
    env.close()
