"""Jenga whipping: the success predicate on constructed towers, full-length episodes, a standing tower."""

import mujoco
import numpy as np
import pytest

import hilserl_bench
from hilserl_bench import geometry as geo
from hilserl_bench.backend import SceneState
from hilserl_bench.envs.experts import make_expert
from hilserl_bench.envs.props.jenga import LAYERS, block_name
from hilserl_bench.envs.tasks.jenga_whipping import FREE_LAYERS, TARGET, JengaWhipping, nominal_tower_pose


def tower_scene(task: JengaWhipping, moves: dict | None = None, base=None) -> SceneState:
    """The nominal tower as a scene, with some blocks moved by (dx, dy, dz) in the tower frame."""
    base = nominal_tower_pose() if base is None else base
    poses = {"jenga_base": base}
    for (layer, slot), rel in task._offsets.items():
        if layer < LAYERS - FREE_LAYERS:
            continue
        rel = rel.copy()
        rel[:3] += (moves or {}).get((layer, slot), 0.0)
        poses[block_name(layer, slot)] = geo.pose_compose(base, rel)
    return SceneState(poses=poses)


def test_standing_tower_is_not_success():
    task = JengaWhipping()
    assert not task.evaluate(tower_scene(task), ()).success


def test_target_out_and_others_in_place_is_success():
    task = JengaWhipping()
    assert task.evaluate(tower_scene(task, {TARGET: np.array([0.0, 0.08, -0.2])}), ()).success


@pytest.mark.parametrize(("moves", "why"), [
    ({TARGET: np.array([0.0, 0.03, 0.0])}, "target only part way out"),
    ({TARGET: np.array([0.0, 0.08, -0.2]), (LAYERS - 2, 1): np.array([0.015, 0.0, 0.0])}, "a block below slid"),
    ({TARGET: np.array([0.0, 0.08, -0.2]), (LAYERS - 1, 1): np.array([0.0, 0.0, -0.01])}, "a top block dropped"),
])
def test_not_success(moves, why):
    task = JengaWhipping()
    assert not task.evaluate(tower_scene(task, moves), ()).success, why


def test_toppled_tower_is_not_success():
    task = JengaWhipping()
    tilted = geo.pose_compose(nominal_tower_pose(), np.array([0, 0, 0, *geo.euler_to_quat(np.array([0.3, 0, 0]))]))
    assert not task.evaluate(tower_scene(task, {TARGET: np.array([0.0, 0.08, -0.2])}, base=tilted), ()).success


def test_full_length_episode_rewarded_only_at_the_end_and_the_lash_never_tunnels():
    """The expert's episode runs 20 steps, is paid only at the last; at every physics step of it, every
    lash-block contact stays outside the block (the snapping tip crosses 12 mm per step: without the lash's
    contact margin it was first seen up to 9 mm inside the target)."""
    env = hilserl_bench.make("jenga_whipping", obs_mode="state")
    backend, task = env.unwrapped.backend, env.unwrapped.task
    m, d = backend.model, backend.data
    expert = make_expert(env)
    obs, _ = env.reset(seed=2)  # a seed the expert wins (benchmarks/dynamic_checks.py has its rate)
    expert.reset(np.random.default_rng(2))
    lash = np.isin(np.arange(m.ngeom), [m.geom(name).id for name in task.lash_geoms()])
    blocks = np.isin(np.arange(m.ngeom), [m.geom(name).id for name in task.tight_fit_geoms()[1]])
    advance, nearest = backend.advance, [np.inf]

    def advance_watching_contacts(nstep: int) -> float:
        deepest = 0.0
        for _ in range(nstep):
            deepest = max(deepest, advance(1))
            g1, g2 = d.contact.geom1, d.contact.geom2
            pairs = (lash[g1] & blocks[g2]) | (lash[g2] & blocks[g1])
            if pairs.any():
                nearest[0] = min(nearest[0], float(d.contact.dist[pairs].min()))
        return deepest

    backend.advance = advance_watching_contacts
    rewards, ends = [], []
    for _ in range(20):
        obs, reward, term, trunc, info = env.step(expert.act(obs))
        rewards.append(reward)
        ends.append(term or trunc)
    assert ends == [False] * 19 + [True]
    assert rewards[:-1] == [0.0] * 19 and rewards[-1] == 1.0 and info["target_out"] == 1.0
    print(f"closest lash-block contact: {nearest[0] * 1e3:.2f} mm")
    assert -2e-4 < nearest[0] < 0.012, "the lash must meet a block (within its margin) and never sink into it"
    env.close()


def test_tower_left_alone_stays_put_with_sleep_off():
    env = hilserl_bench.make("jenga_whipping", obs_mode="state")
    backend = env.unwrapped.backend
    env.reset(seed=1)
    m, d = backend.model, backend.data
    m.opt.enableflags &= ~int(mujoco.mjtEnableBit.mjENBL_SLEEP)
    names = ["jenga_base", *(block_name(LAYERS - 1 - i, s) for i in range(FREE_LAYERS) for s in range(3))]
    ids = [m.body(n).id for n in names]
    start = d.xpos[ids].copy()
    mujoco.mj_step(m, d, nstep=500)
    drift = float(np.abs(d.xpos[ids] - start).max())
    print(f"tower drift over 1 s awake: {drift * 1e3:.4f} mm")
    assert drift < 1e-4
    env.close()


def test_reset_moves_the_tower_across_its_radial_range_and_the_observation_shows_it():
    """The tower's distance from the hand varies over most of +/-tower_radial, and obs["task"] reports it."""
    env = hilserl_bench.make("jenga_whipping", obs_mode="state")
    task = env.unwrapped.task
    hand = task.reset_pose[:2]
    nominal = float(np.linalg.norm(nominal_tower_pose()[:2] - hand))
    radials, seen = [], []
    for seed in range(12):
        obs, _ = env.reset(seed=seed)
        base = env.unwrapped.backend.scene_state().poses["jenga_base"]
        radials.append(float(np.linalg.norm(base[:2] - hand)) - nominal)
        seen.append(float(obs["task"]["target_from_hand"][0]))
    env.close()
    half = task.config.tower_radial
    assert max(np.abs(radials)) <= half + 1e-9
    assert max(radials) - min(radials) > half, radials
    assert np.allclose(np.array(seen) - radials, seen[0] - radials[0], atol=1e-3)
