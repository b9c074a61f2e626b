"""JAX agents: loss math on hand-built batches, tiny learning problems, checkpoints, arm layouts."""

from __future__ import annotations

import io

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hilserl_bench.baselines import (
    BCAgent,
    BCConfig,
    GripperAgent,
    RLPDAgent,
    SACAgent,
    drop_idle,
    from_state_dict,
    gripper_to_index,
    index_to_gripper,
    joint_index,
    joint_to_gripper,
    preset,
    to_state_dict,
)
from hilserl_bench.baselines.bench_learner import bench_learner
from hilserl_bench.baselines.gripper_critic import double_dqn_target
from hilserl_bench.baselines.sac import subset_indices, td_target

TINY = (16, 16)


@pytest.fixture(autouse=True, scope="module")
def _fast_compiles():
    """Tiny networks: XLA compile time dominates these tests, so skip its optimisations here."""
    previous = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", True)
    yield
    jax.config.update("jax_disable_most_optimizations", previous)


def _batch(rng: np.random.Generator, n: int, obs_dim: int, actions: np.ndarray, rewards: np.ndarray) -> dict:
    obs = rng.normal(size=(n, obs_dim)).astype(np.float32)
    return {
        "observations": {"state": obs},
        "next_observations": {"state": obs + 0.1},
        "actions": actions.astype(np.float32),
        "rewards": rewards.astype(np.float32),
        "masks": np.array([1.0, 0.0, 1.0][:n] + [1.0] * max(0, n - 3), np.float32),
    }


def _constant_q(params: dict, values: np.ndarray) -> dict:
    """Copy of ``params`` whose output layer ignores its input and returns ``values``."""
    out = dict(params)
    if "ensemble" in out:
        ens = dict(out["ensemble"])
        ens["q_out"] = {"kernel": jnp.zeros_like(ens["q_out"]["kernel"]), "bias": jnp.asarray(values)[:, None]}
        out["ensemble"] = ens
    else:
        out["q_out"] = {"kernel": jnp.zeros_like(out["q_out"]["kernel"]), "bias": jnp.asarray(values)}
    return out


def test_td_target_by_hand():
    next_qs = jnp.array([[1.0, 5.0], [3.0, 2.0], [2.0, 4.0]])
    rewards, masks = jnp.array([1.0, 2.0]), jnp.array([1.0, 0.0])
    np.testing.assert_allclose(td_target(next_qs, rewards, masks, 0.9), [1.9, 2.0], rtol=1e-6)
    soft = td_target(next_qs, rewards, masks, 0.9, jnp.array([2.0, -1.0]), 0.5, backup_entropy=True)
    np.testing.assert_allclose(soft, [1.0, 2.0], rtol=1e-6)


@pytest.mark.parametrize("backup_entropy", [False, True])
def test_critic_target_uses_min_over_chosen_subset(backup_entropy):
    cfg = preset("rlpd", hidden_dims=TINY, ensemble_size=4, subset_size=2, discount=0.9, backup_entropy=backup_entropy)
    batch = _batch(np.random.default_rng(0), 3, 5, np.zeros((3, 6)), np.array([1.0, 2.0, -1.0]))
    agent = SACAgent.create(jax.random.PRNGKey(0), batch["observations"], 6, cfg.sac)
    values = np.array([1.0, -2.0, 3.0, 0.5], np.float32)
    agent = agent.replace(target_critic_params=_constant_q(agent.target_critic_params, values))
    rng = jax.random.PRNGKey(7)
    target, info = jax.jit(SACAgent.critic_target)(agent, batch, rng)
    idx = np.asarray(subset_indices(jax.random.split(rng)[1], 4, 2))
    np.testing.assert_array_equal(np.asarray(info["subset"]), idx)
    assert len(set(idx.tolist())) == 2
    entropy_term = float(agent.temperature()) * np.asarray(info["next_log_probs"]) if backup_entropy else 0.0
    next_q = values[idx].min() - entropy_term
    expected = np.clip(batch["rewards"] + 0.9 * batch["masks"] * next_q, -1.0, 1.0)  # cfg.sac.target_bounds
    np.testing.assert_allclose(np.asarray(target), expected, rtol=1e-5, atol=1e-6)
    picks = {tuple(sorted(np.asarray(subset_indices(jax.random.PRNGKey(s), 4, 2)).tolist())) for s in range(20)}
    assert len(picks) > 1


def test_temperature_rises_when_entropy_below_target():
    cfg = preset("hilserl", hidden_dims=TINY).sac
    agent = SACAgent.create(jax.random.PRNGKey(0), {"state": jnp.zeros((1, 3))}, 4, cfg)
    assert agent.target_entropy == -2.0
    np.testing.assert_allclose(float(agent.temperature()), 0.01, rtol=1e-5)
    for entropy, sign in [(-3.0, 1), (-1.0, -1)]:
        loss, _ = agent.temperature_loss(agent.temp.params, jnp.asarray(entropy))
        np.testing.assert_allclose(float(loss), 0.01 * (entropy + 2.0), rtol=1e-5)
        grads = jax.grad(lambda p, e=entropy: agent.temperature_loss(p, jnp.asarray(e))[0])(agent.temp.params)
        stepped = agent.replace(temp=agent.temp.apply_gradients(grads=grads))
        assert sign * (float(stepped.temperature()) - 0.01) > 0


def test_double_dqn_target_by_hand():
    online = jnp.array([[1.0, 3.0, 2.0], [5.0, 0.0, 1.0]])
    target_net = jnp.array([[10.0, 20.0, 30.0], [7.0, 8.0, 9.0]])
    out = double_dqn_target(online, target_net, jnp.array([0.5, 1.0]), jnp.array([1.0, 0.0]), 0.9)
    np.testing.assert_allclose(out, [0.5 + 0.9 * 20.0, 1.0], rtol=1e-6)


def test_gripper_loss_uses_online_argmax_target_value_and_penalty():
    batch = _batch(np.random.default_rng(1), 3, 4, np.array([[-1.0], [0.1], [0.9]]), np.array([1.0, 0.0, 0.5]))
    batch["grasp_penalty"] = np.array([-0.02, 0.0, -0.02], np.float32)
    agent = GripperAgent.create(jax.random.PRNGKey(0), batch["observations"], n_arms=1, discount=0.9)
    online, target = np.array([1.0, 3.0, 2.0], np.float32), np.array([10.0, 20.0, 30.0], np.float32)
    agent = agent.replace(
        critic=agent.critic.replace(params=_constant_q(agent.critic.params, online)),
        target_params=_constant_q(agent.target_params, target),
    )
    loss, _ = agent.loss(agent.critic.params, batch, jax.random.PRNGKey(0))
    td = np.clip(batch["rewards"] + batch["grasp_penalty"] + 0.9 * batch["masks"] * 20.0, -1.0, 1.0)
    y = td - 0.5 * (target.max() - target[[0, 1, 2]])  # advantage learning widens the non-greedy gaps
    np.testing.assert_allclose(float(loss), np.mean((online[[0, 1, 2]] - y) ** 2), rtol=1e-5)


def test_gripper_index_round_trip():
    x = jnp.array([-1.0, -0.6, -0.5, -0.4, 0.0, 0.4, 0.5, 1.0])
    np.testing.assert_array_equal(gripper_to_index(x), [0, 0, 0, 1, 1, 1, 2, 2])
    np.testing.assert_array_equal(index_to_gripper(gripper_to_index(x)), [-1, -1, -1, 0, 0, 0, 1, 1])
    for n_arms in (1, 2):
        idx = jnp.arange(3**n_arms)
        np.testing.assert_array_equal(joint_index(joint_to_gripper(idx, n_arms)), idx)
    np.testing.assert_array_equal(joint_to_gripper(jnp.array(5), 2), [0.0, 1.0])


def test_bc_nll_decreases_and_mean_approaches_data():
    rng = np.random.default_rng(0)
    actions = np.clip(rng.normal([0.3, -0.2], 0.05, size=(256, 2)), -1, 1)
    actions[:32] = 0.0
    data = drop_idle(_batch(rng, 256, 3, actions, np.zeros(256)))
    assert len(data["actions"]) == 224 and len(data["observations"]["state"]) == 224
    cfg = BCConfig(hidden_dims=TINY, lr=3e-3)
    agent = BCAgent.create(jax.random.PRNGKey(0), data["observations"], 2, cfg)
    first, _ = agent.loss(agent.policy.params, data, jax.random.PRNGKey(1))
    for _ in range(300):
        agent, info = agent.update(data)
    assert float(info["bc_nll"]) < float(first) - 1.0
    mean_action = np.asarray(agent.eval_actions(data["observations"])).mean(axis=0)
    np.testing.assert_allclose(mean_action, [0.3, -0.2], atol=0.05)


def test_sac_learns_one_step_bandit():
    cfg = preset("hilserl", hidden_dims=(32, 32)).sac
    obs = {"state": np.zeros((2, 64, 1), np.float32)}
    agent = SACAgent.create(jax.random.PRNGKey(0), {"state": obs["state"][0]}, 1, cfg)
    rng = np.random.default_rng(0)
    for _ in range(600):
        actions = rng.uniform(-1, 1, size=(2, 64, 1)).astype(np.float32)
        batch = {"observations": obs, "next_observations": obs, "actions": actions,
                 "rewards": -np.abs(actions[..., 0] - 0.5), "masks": np.zeros((2, 64), np.float32)}  # fmt: skip
        agent, info = agent.update(batch)
    assert np.isfinite(float(info["critic_loss"]))
    assert abs(float(agent.eval_actions({"state": np.zeros((1, 1), np.float32)})[0, 0]) - 0.5) < 0.15


def _rlpd_batch(action_dim: int, utd: int = 2, n: int = 8) -> dict:
    rng = np.random.default_rng(0)
    batch = _batch(rng, utd * n, 5, rng.uniform(-1, 1, (utd * n, action_dim)), rng.normal(size=utd * n))
    batch["grasp_penalty"] = np.full(utd * n, -0.02, np.float32)
    return jax.tree.map(lambda x: x.reshape(utd, n, *x.shape[1:]), batch)


def test_fixed_gripper_actions_have_no_gripper_critic():
    agent = RLPDAgent.create(jax.random.PRNGKey(0), {"state": np.zeros((1, 5), np.float32)}, 12, preset("hilserl"))
    assert agent.gripper is None and agent.n_arms == 2 and agent.sac.actor_def.action_dim == 12
    assert list(agent.twist_dims) == list(range(12)) and len(agent.gripper_dims) == 0
    with pytest.raises(ValueError, match="blocks of 6"):
        RLPDAgent.create(jax.random.PRNGKey(0), {"state": np.zeros((1, 5), np.float32)}, 9, preset("hilserl"))


@pytest.mark.parametrize("action_dim,n_arms,gripper_dims", [(7, 1, [6]), (14, 2, [6, 13])])
def test_one_agent_for_one_or_two_arms(action_dim, n_arms, gripper_dims):
    batch = _rlpd_batch(action_dim)
    obs = jax.tree.map(lambda x: x[0], batch["observations"])
    agent = RLPDAgent.create(jax.random.PRNGKey(0), obs, action_dim, preset("hilserl", hidden_dims=TINY))
    assert agent.n_arms == n_arms and list(agent.gripper_dims) == gripper_dims
    assert agent.gripper is not None and agent.gripper.n_arms == n_arms
    assert list(agent.twist_dims) == [i for i in range(action_dim) if i not in gripper_dims]
    assert agent.sac.actor_def.action_dim == 6 * n_arms
    agent, info = agent.update(batch)
    assert all(np.isfinite(float(v)) for v in info.values())
    assert "gripper_loss" in info
    actions = np.asarray(agent.sample_actions(obs, jax.random.PRNGKey(1)))
    assert actions.shape == (8, action_dim) and np.all(np.abs(actions) <= 1)
    assert set(np.unique(actions[:, gripper_dims])) <= {-1.0, 0.0, 1.0}
    assert agent.eval_actions(obs).shape == (8, action_dim)


def test_state_dict_round_trip():
    batch = _rlpd_batch(14)
    obs = jax.tree.map(lambda x: x[0], batch["observations"])
    cfg = preset("hilserl", hidden_dims=TINY)
    agent, _ = RLPDAgent.create(jax.random.PRNGKey(0), obs, 14, cfg).update(batch)
    buf = io.BytesIO()
    np.savez(buf, **to_state_dict(agent))
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as npz:
        state = dict(npz)
    assert any("opt_state" in k for k in state) and "sac/rng" in state
    restored = from_state_dict(RLPDAgent.create(jax.random.PRNGKey(1), obs, 14, cfg), state)
    for a, b in zip(jax.tree.leaves(agent), jax.tree.leaves(restored), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(agent.eval_actions(obs), restored.eval_actions(obs))
    key = jax.random.PRNGKey(3)
    np.testing.assert_array_equal(agent.sample_actions(obs, key), restored.sample_actions(obs, key))
    with pytest.raises(ValueError, match="keys differ"):
        from_state_dict(restored, {k: v for k, v in state.items() if k != "sac/rng"})


def test_bench_learner_reports_preset_and_reference():
    # Same shapes and config as the bandit test, so the agent update is already compiled.
    from hilserl_bench.baselines.presets import PRESETS

    result = bench_learner(obs_dim=1, action_dim=1, batch=64, steps=2, hidden_dims=(32, 32), presets=("hilserl",))
    sac = PRESETS["hilserl"].sac
    assert (result["obs_dim"], result["action_dim"], result["batch"], result["steps"]) == (1, 1, 64, 2)
    for key in ("hilserl", "reference"):
        r = result[key]
        assert (r["ensemble_size"], r["critic_actor_ratio"]) == (sac.ensemble_size, sac.critic_actor_ratio)
        assert r["critic_steps_per_s"] == pytest.approx(sac.critic_actor_ratio * r["updates_per_s"])
    assert result["ratio"] == pytest.approx(result["hilserl"]["updates_per_s"] / result["reference"]["updates_per_s"])
    # Both do the same math on the same shapes: a ratio off by 10x means one recompiles or skips work.
    assert 0.1 < result["ratio"] < 10.0, result
