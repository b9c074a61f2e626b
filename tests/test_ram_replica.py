"""RAM insertion's success predicate, tested on constructed states, and its keying, tested physically.

Each state is built by placing the stick (free joint) and the contact bed (slide joint)
in the slot frame, running ``mj_forward`` and calling ``task.evaluate`` on the
backend's scene, so the predicate is tested on its own, away from the episode loop.
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

import hilserl_bench
from hilserl_bench import geometry as geo
from hilserl_bench.envs.experts import make_expert
from hilserl_bench.envs.props.motherboard import DimmSlotConfig
from hilserl_bench.envs.props.ram_stick import RAM_HEIGHT

MM = 1e-3
SLOT = DimmSlotConfig()


@pytest.fixture(scope="module")
def env():
    env = hilserl_bench.make("ram_insertion", obs_mode="state")
    yield env
    env.close()


def _place(env, shift=(0.0, 0.0, 0.0), euler=(0.0, 0.0, 0.0), bed_pressed: bool = True):
    """Evaluate the stick with its bottom-edge centre at the seat + ``shift`` (slot frame), turned by ``euler``
    about that point; the bed at its hard stop unless ``bed_pressed`` is False. Returns (evaluation, penetration)."""
    backend, task = env.unwrapped.backend, env.unwrapped.task
    env.reset(seed=0)
    model, data = backend.model, backend.data
    slot = backend.scene_state().poses["dimm_slot"]
    rotation = geo.euler_to_quat(np.asarray(euler, dtype=float))
    bottom = np.array([0.0, 0.0, -SLOT.depth]) + np.asarray(shift, dtype=float)
    centre = bottom + geo.quat_to_mat(rotation) @ np.array([0.0, 0.0, RAM_HEIGHT / 2])
    pose = geo.pose_compose(slot, np.concatenate([centre, rotation]))
    joint = model.joint("ram_stick_joint")
    data.qpos[joint.qposadr[0]:joint.qposadr[0] + 7] = np.concatenate([pose[:3], geo.quat_to_mujoco(pose[3:])])
    data.qvel[joint.dofadr[0]:joint.dofadr[0] + 6] = 0.0
    bed = model.joint("dimm_bed_slide")
    data.qpos[bed.qposadr[0]] = -SLOT.bed_travel if bed_pressed else 0.0
    mujoco.mj_forward(model, data)
    scene = backend.scene_state()
    return task.evaluate(scene, tuple(arm.get_state() for arm in backend.arms)), scene.penetration


@pytest.mark.parametrize(("shift_mm", "euler_deg"), [
    ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
    ((0.0, 0.2, 0.0), (0.0, 0.0, 0.0)),
    ((0.0, -0.2, 0.0), (0.0, 0.0, 0.0)),
    ((0.4, 0.0, 0.0), (0.0, 0.0, 0.0)),
    ((-0.4, 0.0, 0.5), (0.0, 0.0, 0.0)),
    ((0.0, 0.0, 0.0), (1.5, 0.0, 0.0)),
    ((0.0, 0.0, 0.3), (0.0, 0.2, 0.1)),
])
def test_seated_states_succeed(env, shift_mm, euler_deg):
    evaluation, penetration = _place(env, np.array(shift_mm) * MM, np.radians(euler_deg))
    assert evaluation.success, (evaluation.terms, penetration)


@pytest.mark.parametrize(("case", "shift_mm", "euler_deg", "bed_pressed"), [
    ("0.95 mm into a wall", (0.0, 0.95, 0.0), (0.0, 0.0, 0.0), True),
    ("0.95 mm into the other wall", (0.0, -0.95, 0.0), (0.0, 0.0, 0.0), True),
    ("leaning 20 deg", (0.0, 0.0, 0.0), (20.0, 0.0, 0.0), True),
    ("shifted 5 mm through the end block", (5.0, 0.0, 0.0), (0.0, 0.0, 0.0), True),
    ("turned 180 deg (notch over solid slot)", (0.0, 0.0, 0.0), (0.0, 0.0, 180.0), True),
    ("upside down", (0.0, 0.0, 0.0), (180.0, 0.0, 0.0), True),
    ("0.9 mm below the seat", (0.0, 0.0, -0.9), (0.0, 0.0, 0.0), True),
    ("3 mm beyond the bottom", (0.0, 0.0, -3.0), (0.0, 0.0, 0.0), True),
    ("1.5 mm into the unpressed contact bed", (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), False),
    ("2 mm proud", (0.0, 0.0, 2.0), (0.0, 0.0, 0.0), True),
])
def test_impossible_or_unseated_states_fail(env, case, shift_mm, euler_deg, bed_pressed):
    evaluation, penetration = _place(env, np.array(shift_mm) * MM, np.radians(euler_deg), bed_pressed)
    assert not evaluation.success, (case, evaluation.terms, penetration)


def test_penetration_alone_is_refused(env):
    """Aligned, at depth, but through the resting bed: only the contact-depth guard can catch it."""
    evaluation, penetration = _place(env, bed_pressed=False)
    assert abs(evaluation.terms["seat_gap_left_mm"]) < 0.01 and evaluation.terms["tilt_deg"] < 0.01
    assert penetration > 1.0 * MM and not evaluation.success


def test_reversed_stick_is_flagged_by_heading_and_key(env):
    evaluation, penetration = _place(env, euler=(0.0, 0.0, np.pi))
    assert evaluation.terms["heading_deg"] == pytest.approx(180.0, abs=0.1)
    assert penetration > 1.0 * MM, "the key ridge overlaps the reversed stick's solid edge"


@pytest.mark.parametrize("seed", range(4))
def test_expert_final_states_are_physically_seated(env, seed):
    """The predicate's verdict agrees with independent physical facts: sites, bed travel, contact depth."""
    backend, data = env.unwrapped.backend, env.unwrapped.backend.data
    obs, _ = env.reset(seed=seed)
    expert = make_expert(env, noise=0.05)
    expert.reset(np.random.default_rng(seed))
    for _ in range(env.unwrapped.task.config.max_steps):
        obs, _, term, trunc, info = env.step(expert.act(obs))
        if term or trunc:
            break
    assert info["succeed"]
    for end in ("left", "right"):
        stick_site, slot_site = f"ram_bottom_{end}", f"dimm_slot_seat_{end}"
        assert np.linalg.norm(data.site(stick_site).xpos - data.site(slot_site).xpos) < 1.0 * MM
    assert data.joint("dimm_bed_slide").qpos[0] < -0.7 * SLOT.bed_travel
    notch_over_key = data.site("ram_notch").xpos - data.site("dimm_key_top").xpos
    assert 0.0 < notch_over_key[2] < 1.0 * MM and abs(notch_over_key[0]) < 0.8 * MM
    assert backend.penetration() < 0.5 * MM


def test_expert_succeeds_and_pushing_straight_down_fails(env):
    """Known figures on a sample: the expert seats it; pushing down from the randomised start does not."""
    expert = make_expert(env)
    down = np.array([0.0, 0.0, -1.0, 0.0, 0.0, 0.0])
    wins = {"expert": 0, "down": 0}
    for seed in range(5):
        for name in wins:
            obs, _ = env.reset(seed=100 + seed)
            expert.reset(np.random.default_rng(seed))
            for _ in range(env.unwrapped.task.config.max_steps):
                obs, _, term, trunc, info = env.step(expert.act(obs) if name == "expert" else down)
                if term or trunc:
                    break
            wins[name] += info["succeed"]
    assert wins == {"expert": 5, "down": 0}


def test_expert_stays_under_the_clearance(env):
    """Penetration over every physics step of the expert's insertions stays under the 0.25 mm clearance."""
    expert = make_expert(env)
    deepest = 0.0
    for seed in range(5):
        obs, _ = env.reset(seed=200 + seed)
        expert.reset(np.random.default_rng(seed))
        for _ in range(env.unwrapped.task.config.max_steps):
            obs, _, term, trunc, info = env.step(expert.act(obs))
            deepest = max(deepest, info["penetration"])
            if term or trunc:
                break
    assert 0.0 < deepest < SLOT.clearance, deepest
