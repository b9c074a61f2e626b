"""SAC as RLPD / HIL-SERL run it: LayerNorm critic ensemble, subset-min target, Lagrange temperature.

One ``SACAgent.update(batch)`` call takes a batch whose leaves have a leading axis of
``U`` minibatches (``U = config.critic_actor_ratio`` in the training loop) and does:

1. ``U`` critic steps, minibatch ``i`` for step ``i`` (``lax.scan`` unless
   ``config.scan_updates`` is off), each followed by a polyak update of the target critics;
2. one actor step and one temperature step on the last minibatch, against the updated critics.

The losses are pure functions of ``(params, agent, batch, rng)`` so tests can call them
on hand-built batches. ``masks`` is 0 only at true terminals; time-limit truncation keeps 1.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax import struct
from flax.training.train_state import TrainState

from hilserl_bench.baselines.networks import (
    CriticEnsemble,
    GaussianPolicy,
    StateEncoder,
    Temperature,
    run_steps,
    sample_tanh_gaussian,
    train_state,
)
from hilserl_bench.baselines.presets import SACConfig

Batch = dict[str, Any]


def subset_indices(rng: jax.Array, ensemble_size: int, subset_size: int) -> jax.Array:
    """Distinct critic indices for the target min (all of them, in order, when the subset is the ensemble)."""
    if subset_size >= ensemble_size:
        return jnp.arange(ensemble_size)
    return jax.random.choice(rng, ensemble_size, (subset_size,), replace=False)


def td_target(
    next_qs: jax.Array,
    rewards: jax.Array,
    masks: jax.Array,
    discount: float,
    next_log_probs: jax.Array | None = None,
    temperature: jax.Array | float = 0.0,
    backup_entropy: bool = False,
) -> jax.Array:
    """``r + discount * mask * (min_k next_qs[k] - [temperature * log_prob])`` for ``next_qs`` of shape ``(K, B)``."""
    next_q = next_qs.min(axis=0)
    if backup_entropy:
        next_q = next_q - temperature * next_log_probs
    return rewards + discount * masks * next_q


class SACAgent(struct.PyTreeNode):
    """Immutable SAC learner/actor; build with :meth:`create`."""

    actor: TrainState
    critic: TrainState
    target_critic_params: Any
    temp: TrainState
    rng: jax.Array
    config: SACConfig = struct.field(pytree_node=False)
    actor_def: nn.Module = struct.field(pytree_node=False)
    critic_def: nn.Module = struct.field(pytree_node=False)
    temp_def: nn.Module = struct.field(pytree_node=False)
    target_entropy: float = struct.field(pytree_node=False)

    @classmethod
    def create(
        cls,
        rng: jax.Array,
        obs_example: dict[str, Any],
        action_dim: int,
        config: SACConfig | None = None,
        encoder: nn.Module | None = None,
    ) -> SACAgent:
        """Initialise networks and Adam states; ``obs_example`` is a batched observation dict."""
        config = config or SACConfig()
        encoder = encoder or StateEncoder()
        actor_def = GaussianPolicy(
            encoder, config.hidden_dims, action_dim, config.activation, config.actor_layer_norm,
            std_min=config.std_min, std_max=config.std_max,
        )  # fmt: skip
        critic_def = CriticEnsemble(
            encoder, config.hidden_dims, config.ensemble_size, config.activation, config.critic_layer_norm
        )
        rng, k_actor, k_critic, k_temp = jax.random.split(rng, 4)
        actions = jnp.zeros((jax.tree.leaves(obs_example)[0].shape[0], action_dim), jnp.float32)
        critic = train_state(critic_def, k_critic, obs_example, actions, lr=config.critic_lr)
        temp_def = Temperature(config.init_temperature)
        return cls(
            actor=train_state(actor_def, k_actor, obs_example, lr=config.actor_lr),
            critic=critic,
            target_critic_params=critic.params,
            temp=train_state(temp_def, k_temp, lr=config.temperature_lr),
            rng=rng,
            config=config,
            actor_def=actor_def,
            critic_def=critic_def,
            temp_def=temp_def,
            target_entropy=-action_dim / 2 if config.target_entropy is None else config.target_entropy,
        )

    def temperature(self) -> jax.Array:
        """Current temperature (a scalar)."""
        return self.temp_def.apply({"params": self.temp.params})

    def policy(
        self, actor_params: Any, observations: dict, train: bool = False, rng: jax.Array | None = None
    ) -> tuple[jax.Array, jax.Array]:
        """``(mean, std)`` of the pre-tanh Gaussian; with ``share_encoder`` the critic's encoder is used."""
        params = actor_params
        if self.config.share_encoder and "encoder" in self.critic.params:
            params = {**actor_params, "encoder": jax.lax.stop_gradient(self.critic.params["encoder"])}
        rngs = {"dropout": rng} if rng is not None else None
        return self.actor_def.apply({"params": params}, observations, train=train, rngs=rngs)

    @jax.jit
    def sample_actions(self, observations: dict, rng: jax.Array) -> jax.Array:
        """Stochastic actions in ``[-1, 1]`` for exploration, shape ``(B, action_dim)``."""
        mean, std = self.policy(self.actor.params, observations)
        return sample_tanh_gaussian(mean, std, rng)[0]

    @jax.jit
    def eval_actions(self, observations: dict) -> jax.Array:
        """Deterministic actions ``tanh(mean)`` for evaluation."""
        return jnp.tanh(self.policy(self.actor.params, observations)[0])

    def critic_target(self, batch: Batch, rng: jax.Array) -> tuple[jax.Array, dict[str, jax.Array]]:
        """TD target ``(B,)``; the next action comes from the current actor, the values from target critics."""
        k_act, k_sub = jax.random.split(rng)
        mean, std = self.policy(self.actor.params, batch["next_observations"])
        next_actions, next_log_probs = sample_tanh_gaussian(mean, std, k_act)
        cfg = self.config
        idx = subset_indices(k_sub, cfg.ensemble_size, cfg.subset_size)
        params = dict(self.target_critic_params)
        if cfg.subset_size < cfg.ensemble_size:
            params["ensemble"] = jax.tree.map(lambda p: p[idx], params["ensemble"])
        target_def = self.critic_def.clone(ensemble_size=min(cfg.subset_size, cfg.ensemble_size))
        next_qs = target_def.apply({"params": params}, batch["next_observations"], next_actions)
        temperature, rewards, masks = self.temperature(), batch["rewards"], batch["masks"]
        target = td_target(next_qs, rewards, masks, cfg.discount, next_log_probs, temperature, cfg.backup_entropy)
        if cfg.target_bounds is not None:
            target = jnp.clip(target, *cfg.target_bounds)
        return target, {"subset": idx, "next_log_probs": next_log_probs, "next_qs": next_qs}

    def critic_loss(self, critic_params: Any, batch: Batch, rng: jax.Array) -> tuple[jax.Array, dict]:
        """Mean squared TD error over every critic and sample."""
        k_target, k_drop = jax.random.split(rng)
        target = jax.lax.stop_gradient(self.critic_target(batch, k_target)[0])
        qs = self.critic_def.apply(
            {"params": critic_params}, batch["observations"], batch["actions"], train=True, rngs={"dropout": k_drop}
        )
        loss = jnp.mean((qs - target) ** 2)
        return loss, {"critic_loss": loss, "q": qs.mean(), "target_q": target.mean()}

    def actor_loss(self, actor_params: Any, batch: Batch, rng: jax.Array) -> tuple[jax.Array, dict]:
        """``temperature * log_prob - mean_ensemble Q`` with reparameterised actions."""
        k_drop, k_act = jax.random.split(rng)
        mean, std = self.policy(actor_params, batch["observations"], train=True, rng=k_drop)
        actions, log_probs = sample_tanh_gaussian(mean, std, k_act)
        qs = self.critic_def.apply({"params": self.critic.params}, batch["observations"], actions)
        loss = jnp.mean(self.temperature() * log_probs - qs.mean(axis=0))
        return loss, {"actor_loss": loss, "entropy": -log_probs.mean(), "std": std.mean()}

    def temperature_loss(self, temp_params: Any, entropy: jax.Array) -> tuple[jax.Array, dict]:
        """``temperature * (entropy - target)``: descending it raises the temperature when entropy < target."""
        temperature = self.temp_def.apply({"params": temp_params})
        loss = temperature * (jax.lax.stop_gradient(entropy) - self.target_entropy)
        return loss, {"temperature": temperature, "temperature_loss": loss}

    def critic_step(self, batch: Batch) -> tuple[SACAgent, dict]:
        """One critic gradient step and polyak update of the targets."""
        rng, key = jax.random.split(self.rng)
        grads, info = jax.grad(self.critic_loss, has_aux=True)(self.critic.params, batch, key)
        critic = self.critic.apply_gradients(grads=grads)
        target = optax.incremental_update(critic.params, self.target_critic_params, self.config.tau)
        return self.replace(critic=critic, target_critic_params=target, rng=rng), info

    def actor_step(self, batch: Batch) -> tuple[SACAgent, dict]:
        """One actor step, then one temperature step on that step's policy entropy."""
        rng, key = jax.random.split(self.rng)
        grads, info = jax.grad(self.actor_loss, has_aux=True)(self.actor.params, batch, key)
        agent = self.replace(actor=self.actor.apply_gradients(grads=grads), rng=rng)
        grads, temp_info = jax.grad(agent.temperature_loss, has_aux=True)(agent.temp.params, info["entropy"])
        return agent.replace(temp=agent.temp.apply_gradients(grads=grads)), {**info, **temp_info}

    @jax.jit
    def update(self, batch: Batch) -> tuple[SACAgent, dict[str, jax.Array]]:
        """``U`` critic steps (one per leading-axis minibatch), then one actor + temperature step."""
        agent, critic_info = run_steps(SACAgent.critic_step, self, batch, self.config.scan_updates)
        agent, actor_info = agent.actor_step(jax.tree.map(lambda x: x[-1], batch))
        return agent, {**critic_info, **actor_info}
