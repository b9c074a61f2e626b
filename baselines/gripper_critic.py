"""Discrete gripper critic for learned-gripper tasks (HIL-SERL's grasp critic), one or two arms.

Each arm's gripper command is one of three actions, index 0 close (-1), 1 stay (0), 2 open
(+1); a continuous command maps to ``<= -0.5`` close, ``>= 0.5`` open, else stay (the
rule the env and the gripper penalty use). Arms combine into ``3 ** n_arms`` joint actions,
arm 0 the most significant base-3 digit. The critic is an MLP from the observation to one Q
per joint action, trained DQN-style with a double-DQN target and a polyak target network
on ``reward + grasp_penalty``; targets are clipped to the possible returns and widened by
advantage learning, and exploration (Boltzmann or epsilon-greedy) decays with training.

``GripperAgent.update`` takes the same leading-axis batch as ``SACAgent.update`` with
``actions`` holding only the gripper dims ``(U, B, n_arms)`` and does ``U`` steps.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax import struct
from flax.training.train_state import TrainState

from hilserl_bench.baselines.networks import DiscreteCritic, StateEncoder, run_steps, train_state
from hilserl_bench.baselines.presets import GripperConfig

Batch = dict[str, Any]


def gripper_to_index(gripper: jax.Array) -> jax.Array:
    """Per-arm discrete index of continuous gripper commands: 0 close, 1 stay, 2 open."""
    gripper = jnp.asarray(gripper)
    return jnp.where(gripper <= -0.5, 0, jnp.where(gripper >= 0.5, 2, 1)).astype(jnp.int32)


def index_to_gripper(index: jax.Array) -> jax.Array:
    """Continuous command of per-arm indices: -1 close, 0 stay, +1 open."""
    return jnp.asarray(index).astype(jnp.float32) - 1.0


def joint_index(gripper: jax.Array) -> jax.Array:
    """Joint action index of continuous commands ``(..., n_arms)`` (arm 0 most significant)."""
    digits = gripper_to_index(gripper)
    n_arms = digits.shape[-1]
    return jnp.sum(digits * 3 ** jnp.arange(n_arms - 1, -1, -1), axis=-1)


def joint_to_gripper(index: jax.Array, n_arms: int) -> jax.Array:
    """Continuous commands ``(..., n_arms)`` of joint action indices."""
    digits = (jnp.asarray(index)[..., None] // 3 ** jnp.arange(n_arms - 1, -1, -1)) % 3
    return index_to_gripper(digits)


def double_dqn_target(
    next_q_online: jax.Array, next_q_target: jax.Array, rewards: jax.Array, masks: jax.Array, discount: float
) -> jax.Array:
    """``r + discount * mask * Q_target(s', argmax_a Q_online(s', a))`` for Q tables ``(B, n_actions)``."""
    best = jnp.argmax(next_q_online, axis=-1)
    next_q = jnp.take_along_axis(next_q_target, best[:, None], axis=-1)[:, 0]
    return rewards + discount * masks * next_q


def _shrink_output(params: Any, scale: float) -> Any:
    """Params with the Q head's kernel times ``scale`` and its bias zero, so every Q starts near 0.

    A default-initialised head starts with Q values of std ~0.86 (tanh + LayerNorm features),
    and the max over the three actions in the first targets then averages +0.75: the critic
    reported 0.83 to 1.12 from the first episode, before any reward could have propagated.
    """
    head = params["q_out"]
    return {**params, "q_out": {"kernel": head["kernel"] * scale, "bias": jnp.zeros_like(head["bias"])}}


class GripperAgent(struct.PyTreeNode):
    """Immutable discrete gripper critic for ``n_arms`` arms; build with :meth:`create`."""

    critic: TrainState
    target_params: Any
    rng: jax.Array
    config: GripperConfig = struct.field(pytree_node=False)
    critic_def: nn.Module = struct.field(pytree_node=False)
    n_arms: int = struct.field(pytree_node=False)
    discount: float = struct.field(pytree_node=False)
    scan_updates: bool = struct.field(pytree_node=False, default=True)

    @classmethod
    def create(
        cls,
        rng: jax.Array,
        obs_example: dict[str, Any],
        n_arms: int,
        discount: float,
        config: GripperConfig | None = None,
        encoder: nn.Module | None = None,
        scan_updates: bool = True,
    ) -> GripperAgent:
        """Initialise the critic and its target; ``obs_example`` is a batched observation dict."""
        config = config or GripperConfig()
        net = DiscreteCritic(
            encoder or StateEncoder(), config.hidden_dims, 3**n_arms, config.activation, config.layer_norm
        )
        rng, key = jax.random.split(rng)
        critic = train_state(net, key, obs_example, lr=config.lr)
        critic = critic.replace(params=_shrink_output(critic.params, config.init_output_scale))
        return cls(critic, critic.params, rng, config, net, n_arms, discount, scan_updates)

    def q_values(self, params: Any, observations: dict, train: bool = False, rng: jax.Array | None = None) -> jax.Array:
        """Q table ``(B, 3 ** n_arms)``."""
        rngs = {"dropout": rng} if rng is not None else None
        return self.critic_def.apply({"params": params}, observations, train=train, rngs=rngs)

    def loss(self, params: Any, batch: Batch, rng: jax.Array) -> tuple[jax.Array, dict]:
        """Squared error of the taken joint action's Q against the clipped, gap-widened double-DQN target.

        The bootstrapped target ``r + penalty + discount * mask * Q'(s', a*)`` is clipped into
        ``config.target_bounds`` (no return can leave it), then lowered by the advantage-learning
        term ``gap_alpha * (max_a Q'(s, a) - Q'(s, a_taken))`` (zero for the greedy action).
        """
        c = self.config
        rewards = batch["rewards"] + batch.get("grasp_penalty", 0.0)
        next_obs = batch["next_observations"]
        target = double_dqn_target(
            self.q_values(self.critic.params, next_obs),
            self.q_values(self.target_params, next_obs),
            rewards, batch["masks"], self.discount,
        )  # fmt: skip
        target = jnp.clip(target, *c.target_bounds)
        taken_index = joint_index(batch["actions"])[:, None]
        if c.gap_alpha > 0:
            q_here = self.q_values(self.target_params, batch["observations"])
            gap = jnp.max(q_here, axis=-1) - jnp.take_along_axis(q_here, taken_index, axis=-1)[:, 0]
            target = target - c.gap_alpha * gap
        qs = self.q_values(params, batch["observations"], train=True, rng=rng)
        taken = jnp.take_along_axis(qs, taken_index, axis=-1)[:, 0]
        loss = jnp.mean((taken - jax.lax.stop_gradient(target)) ** 2)
        sorted_q = jnp.sort(qs, axis=-1)
        return loss, {"gripper_loss": loss, "gripper_q": taken.mean(), "gripper_q_max": qs.max(),
                      "gripper_gap": jnp.mean(sorted_q[:, -1] - sorted_q[:, -2])}

    def step(self, batch: Batch) -> tuple[GripperAgent, dict]:
        """One gradient step and polyak update of the target."""
        rng, key = jax.random.split(self.rng)
        grads, info = jax.grad(self.loss, has_aux=True)(self.critic.params, batch, key)
        critic = self.critic.apply_gradients(grads=grads)
        target = optax.incremental_update(critic.params, self.target_params, self.config.tau)
        return self.replace(critic=critic, target_params=target, rng=rng), info

    @jax.jit
    def update(self, batch: Batch) -> tuple[GripperAgent, dict[str, jax.Array]]:
        """One step per leading-axis minibatch; info is averaged over them."""
        return run_steps(GripperAgent.step, self, batch, self.scan_updates)

    @jax.jit
    def eval_actions(self, observations: dict) -> jax.Array:
        """Greedy gripper commands ``(B, n_arms)`` in {-1, 0, +1}."""
        return joint_to_gripper(jnp.argmax(self.q_values(self.critic.params, observations), axis=-1), self.n_arms)

    def exploration(self) -> jax.Array:
        """Current epsilon or temperature: linear from the start to the final value over ``explore_decay_steps``."""
        c = self.config
        frac = jnp.minimum(1.0, self.critic.step / max(1, c.explore_decay_steps))
        start, end = (c.epsilon, c.final_epsilon) if c.exploration == "epsilon" else (c.temperature,
                                                                                     c.final_temperature)
        return start + (end - start) * frac

    @jax.jit
    def sample_actions(self, observations: dict, rng: jax.Array) -> jax.Array:
        """Exploring gripper commands ``(B, n_arms)`` (``config.exploration``; see :meth:`exploration`)."""
        c = self.config
        qs = self.q_values(self.critic.params, observations)
        greedy = jnp.argmax(qs, axis=-1)
        if c.exploration == "greedy":
            return joint_to_gripper(greedy, self.n_arms)
        k_coin, k_rand = jax.random.split(rng)
        if c.exploration == "boltzmann":
            temperature = jnp.maximum(self.exploration(), 1e-6)
            choice = jax.random.categorical(k_rand, (qs - qs.max(axis=-1, keepdims=True)) / temperature)
            return joint_to_gripper(choice, self.n_arms)
        random = jax.random.randint(k_rand, greedy.shape, 0, 3**self.n_arms)
        explore = jax.random.uniform(k_coin, greedy.shape) < self.exploration()
        return joint_to_gripper(jnp.where(explore, random, greedy), self.n_arms)
