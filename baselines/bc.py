"""Behaviour cloning, which is also the HG-DAgger learner.

BC fits a non-squashed diagonal Gaussian (MLP 512x3, LayerNorm, tanh, dropout 0.25) to
demo actions by negative log-likelihood; idle (all-zero) demo actions are dropped first
with :func:`drop_idle`. Actions are clipped to ``[-1, 1]`` when acting.

HG-DAgger uses this same class: pretrain on demos for ``config.train_steps`` updates, then
roll the policy out while a person intervenes; only intervention transitions (the person's
``info["intervene_action"]``) join the training set, and the agent keeps calling ``update``
on batches drawn from demos + interventions. No separate agent, only a different data loop.

``update(batch)`` is one gradient step on a plain ``(B, ...)`` batch (no leading UTD
axis); only ``observations`` and ``actions`` are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from flax.training.train_state import TrainState

from hilserl_bench.baselines.networks import GaussianPolicy, StateEncoder, gaussian_log_prob, train_state
from hilserl_bench.baselines.presets import BCConfig

Batch = dict[str, Any]


def nonidle_mask(actions: np.ndarray) -> np.ndarray:
    """``True`` for transitions whose action has any non-zero entry (teleop idle steps record zeros)."""
    actions = np.asarray(actions)
    return np.any(actions != 0, axis=tuple(range(1, actions.ndim)))


def drop_idle(transitions: Mapping[str, Any]) -> dict[str, Any]:
    """``transitions`` (a dict of arrays or nested dicts of arrays, leading axis N) without idle-action rows."""
    keep = nonidle_mask(transitions["actions"])
    return jax.tree.map(lambda x: np.asarray(x)[keep], dict(transitions))


class BCAgent(struct.PyTreeNode):
    """Immutable Gaussian BC policy; build with :meth:`create`."""

    policy: TrainState
    rng: jax.Array
    config: BCConfig = struct.field(pytree_node=False)
    policy_def: nn.Module = struct.field(pytree_node=False)

    @classmethod
    def create(
        cls,
        rng: jax.Array,
        obs_example: dict[str, Any],
        action_dim: int,
        config: BCConfig | None = None,
        encoder: nn.Module | None = None,
    ) -> BCAgent:
        """Initialise the policy and its Adam state; ``obs_example`` is a batched observation dict."""
        config = config or BCConfig()
        net = GaussianPolicy(
            encoder or StateEncoder(), config.hidden_dims, action_dim, config.activation, config.layer_norm,
            config.dropout_rate, config.std_min, config.std_max,
        )  # fmt: skip
        rng, key = jax.random.split(rng)
        return cls(train_state(net, key, obs_example, lr=config.lr), rng, config, net)

    def distribution(
        self, params: Any, observations: dict, train: bool = False, rng: jax.Array | None = None
    ) -> tuple[jax.Array, jax.Array]:
        """``(mean, std)`` of the action Gaussian."""
        rngs = {"dropout": rng} if rng is not None else None
        return self.policy_def.apply({"params": params}, observations, train=train, rngs=rngs)

    def loss(self, params: Any, batch: Batch, rng: jax.Array) -> tuple[jax.Array, dict]:
        """Mean negative log-likelihood of the batch actions (dropout on)."""
        mean, std = self.distribution(params, batch["observations"], train=True, rng=rng)
        nll = -jnp.mean(gaussian_log_prob(mean, std, batch["actions"]))
        mse = jnp.mean((mean - batch["actions"]) ** 2)
        return nll, {"bc_nll": nll, "bc_mse": mse, "bc_std": std.mean()}

    @jax.jit
    def update(self, batch: Batch) -> tuple[BCAgent, dict[str, jax.Array]]:
        """One gradient step on a ``(B, ...)`` batch."""
        rng, key = jax.random.split(self.rng)
        grads, info = jax.grad(self.loss, has_aux=True)(self.policy.params, batch, key)
        return self.replace(policy=self.policy.apply_gradients(grads=grads), rng=rng), info

    @jax.jit
    def sample_actions(self, observations: dict, rng: jax.Array) -> jax.Array:
        """Sampled actions clipped to ``[-1, 1]``, shape ``(B, action_dim)``."""
        mean, std = self.distribution(self.policy.params, observations)
        return jnp.clip(mean + std * jax.random.normal(rng, mean.shape), -1.0, 1.0)

    @jax.jit
    def eval_actions(self, observations: dict) -> jax.Array:
        """The Gaussian mean clipped to ``[-1, 1]``."""
        return jnp.clip(self.distribution(self.policy.params, observations)[0], -1.0, 1.0)
