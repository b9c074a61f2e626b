"""Network builders shared by the agents: encoders, LayerNorm MLPs, critic ensembles, policy heads.

Every network takes an ``encoder`` module that maps the observation dict to one feature
vector, so image encoders plug in without touching the agents. An encoder is any linen
module called as ``encoder(observations, train=...) -> (B, F)``; the default
:class:`StateEncoder` flattens ``observations["state"]`` and has no parameters.

Critic ensembles stack their heads with ``nn.vmap`` (parameters carry a leading ensemble
axis under ``params["ensemble"]``); the encoder sits outside the vmap so one image encoder
serves every critic. Distributions are written out by hand (no distrax): a tanh-squashed or
plain diagonal Gaussian given by ``(mean, std)``. :func:`to_state_dict` / :func:`from_state_dict`
turn any agent into flat numpy arrays and back (for ``npz`` checkpoints, no pickle).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import serialization, traverse_util
from flax.training.train_state import TrainState

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {"tanh": nn.tanh, "relu": nn.relu, "gelu": nn.gelu}
default_init = nn.initializers.xavier_uniform


class StateEncoder(nn.Module):
    """Default encoder: ``observations["state"]`` flattened to ``(B, D)`` float32 (no parameters)."""

    @nn.compact
    def __call__(self, observations: dict[str, Any], train: bool = False) -> jax.Array:
        state = jnp.asarray(observations["state"], jnp.float32)
        return state.reshape(state.shape[0], -1)


class MLP(nn.Module):
    """Dense -> dropout -> LayerNorm -> activation per hidden layer (the SERL/HIL-SERL layer order)."""

    hidden_dims: Sequence[int]
    activation: str = "tanh"
    layer_norm: bool = True
    dropout_rate: float = 0.0

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        act = ACTIVATIONS[self.activation]
        for size in self.hidden_dims:
            x = nn.Dense(size, kernel_init=default_init())(x)
            if self.dropout_rate > 0:
                x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
            if self.layer_norm:
                x = nn.LayerNorm()(x)
            x = act(x)
        return x


class QHead(nn.Module):
    """One critic head: MLP on ``[features, actions]`` then a scalar (output layer ``q_out``)."""

    hidden_dims: Sequence[int]
    activation: str = "tanh"
    layer_norm: bool = True
    dropout_rate: float = 0.0
    deterministic: bool = True

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = MLP(self.hidden_dims, self.activation, self.layer_norm, self.dropout_rate)(x, train=not self.deterministic)
        return nn.Dense(1, kernel_init=default_init(), name="q_out")(x)[..., 0]


class CriticEnsemble(nn.Module):
    """``ensemble_size`` Q heads on one shared encoder; returns ``(ensemble_size, B)``."""

    encoder: nn.Module
    hidden_dims: Sequence[int]
    ensemble_size: int
    activation: str = "tanh"
    layer_norm: bool = True
    dropout_rate: float = 0.0

    @nn.compact
    def __call__(self, observations: dict[str, Any], actions: jax.Array, train: bool = False) -> jax.Array:
        x = jnp.concatenate([self.encoder(observations, train=train), actions], axis=-1)
        heads = nn.vmap(
            QHead,
            variable_axes={"params": 0},
            split_rngs={"params": True, "dropout": True},
            in_axes=None,
            out_axes=0,
            axis_size=self.ensemble_size,
        )
        return heads(
            hidden_dims=self.hidden_dims,
            activation=self.activation,
            layer_norm=self.layer_norm,
            dropout_rate=self.dropout_rate,
            deterministic=not train,
            name="ensemble",
        )(x)


class DiscreteCritic(nn.Module):
    """Q over ``n_actions`` discrete actions from the observation alone; returns ``(B, n_actions)``."""

    encoder: nn.Module
    hidden_dims: Sequence[int]
    n_actions: int
    activation: str = "tanh"
    layer_norm: bool = True

    @nn.compact
    def __call__(self, observations: dict[str, Any], train: bool = False) -> jax.Array:
        x = MLP(self.hidden_dims, self.activation, self.layer_norm)(self.encoder(observations, train=train), train)
        return nn.Dense(self.n_actions, kernel_init=default_init(), name="q_out")(x)


class GaussianPolicy(nn.Module):
    """Diagonal Gaussian ``(mean, std)`` with ``std = clip(exp(log_std), std_min, std_max)``.

    Whether actions are tanh-squashed is up to the caller (:func:`sample_tanh_gaussian` vs
    :func:`gaussian_log_prob`); the network is the same.
    """

    encoder: nn.Module
    hidden_dims: Sequence[int]
    action_dim: int
    activation: str = "tanh"
    layer_norm: bool = True
    dropout_rate: float = 0.0
    std_min: float = 1e-5
    std_max: float = 5.0

    @nn.compact
    def __call__(self, observations: dict[str, Any], train: bool = False) -> tuple[jax.Array, jax.Array]:
        x = self.encoder(observations, train=train)
        x = MLP(self.hidden_dims, self.activation, self.layer_norm, self.dropout_rate)(x, train)
        mean = nn.Dense(self.action_dim, kernel_init=default_init(), name="mean")(x)
        log_std = nn.Dense(self.action_dim, kernel_init=default_init(), name="log_std")(x)
        return mean, jnp.clip(jnp.exp(log_std), self.std_min, self.std_max)


class Temperature(nn.Module):
    """SAC temperature as a non-negative Lagrange multiplier: ``softplus(param)``, starting at ``initial``."""

    initial: float = 0.01

    @nn.compact
    def __call__(self) -> jax.Array:
        raw = self.param("lagrange", lambda _: jnp.asarray(math.log(math.expm1(self.initial)), jnp.float32))
        return nn.softplus(raw)


def gaussian_log_prob(mean: jax.Array, std: jax.Array, x: jax.Array) -> jax.Array:
    """Log density of a diagonal Gaussian, summed over the last axis."""
    z = (x - mean) / std
    return jnp.sum(-0.5 * z**2 - jnp.log(std) - 0.5 * math.log(2 * math.pi), axis=-1)


def sample_tanh_gaussian(mean: jax.Array, std: jax.Array, rng: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Reparameterised sample ``tanh(mean + std * eps)`` and its log-probability (with the tanh Jacobian)."""
    u = mean + std * jax.random.normal(rng, mean.shape, mean.dtype)
    log_det = jnp.sum(2.0 * (math.log(2.0) - u - nn.softplus(-2.0 * u)), axis=-1)
    return jnp.tanh(u), gaussian_log_prob(mean, std, u) - log_det


@functools.partial(jax.jit, static_argnums=0)
def _init(net: nn.Module, rng: jax.Array, *example_args: Any) -> Any:
    return net.init(rng, *example_args)


@functools.cache
def _adam(learning_rate: float) -> optax.GradientTransformation:
    return optax.adam(learning_rate)


def train_state(net: nn.Module, rng: jax.Array, *example_args: Any, lr: float) -> TrainState:
    """Initialise ``net`` (jitted: one compile instead of one per op) and pair its params with Adam.

    ``apply_fn`` stays ``None``; agents keep module definitions as static fields instead.
    Bound methods and fresh ``optax.adam`` closures compare by identity, so with them every
    new agent would miss the jit cache and recompile; equal configs now share compiled code.
    """
    params = _init(net, rng, *example_args)["params"]
    return TrainState.create(apply_fn=None, params=params, tx=_adam(lr))


def run_steps(step: Callable[[Any, Any], tuple[Any, dict]], agent: Any, batch: Any, scan: bool) -> tuple[Any, dict]:
    """Apply ``step(agent, minibatch)`` to each leading-axis minibatch in order; infos are averaged.

    ``scan`` uses ``lax.scan`` (compiles once); off, the steps are unrolled, which is what
    conv encoders need on CPU (convolutions inside scan run about 12x slower there).
    """
    if scan:
        agent, infos = jax.lax.scan(step, agent, batch)
        return agent, jax.tree.map(jnp.mean, infos)
    infos = []
    for i in range(jax.tree.leaves(batch)[0].shape[0]):
        agent, info = step(agent, jax.tree.map(lambda x, i=i: x[i], batch))
        infos.append(info)
    return agent, jax.tree.map(lambda *v: jnp.mean(jnp.stack(v)), *infos)


def to_state_dict(agent: Any) -> dict[str, np.ndarray]:
    """Every array of an agent (params, target params, optimizer states, RNG) as flat ``a/b/c`` numpy arrays.

    Static fields (configs, module definitions) are not saved: restore into an agent built
    by ``create`` with the same config. The result suits ``np.savez`` (no pickle).
    """
    flat = traverse_util.flatten_dict(serialization.to_state_dict(agent), keep_empty_nodes=True, sep="/")
    return {k: np.asarray(v) for k, v in flat.items() if not _is_empty(v)}


def from_state_dict(template: Any, d: Mapping[str, Any]) -> Any:
    """Inverse of :func:`to_state_dict`: ``template`` with every array replaced by the one in ``d``.

    Raises ``ValueError`` on missing or extra keys and on shape mismatches, so a checkpoint
    from a different config fails loudly instead of loading half.
    """
    flat = traverse_util.flatten_dict(serialization.to_state_dict(template), keep_empty_nodes=True, sep="/")
    wanted = {k for k, v in flat.items() if not _is_empty(v)}
    if wanted != set(d):
        raise ValueError(f"state dict keys differ: missing {sorted(wanted - set(d))}, extra {sorted(set(d) - wanted)}")
    for k in wanted:
        old = np.shape(flat[k])
        if old != np.shape(d[k]):
            raise ValueError(f"shape mismatch at {k}: expected {old}, got {np.shape(d[k])}")
        flat[k] = jnp.asarray(d[k], dtype=jnp.asarray(flat[k]).dtype)
    return serialization.from_state_dict(template, traverse_util.unflatten_dict(flat, sep="/"))


def _is_empty(v: Any) -> bool:
    return v is None or v is traverse_util.empty_node
