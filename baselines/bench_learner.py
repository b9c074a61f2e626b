"""How fast the SAC learner updates, against the same update written as plainly as possible.

For each preset (``hilserl``, ``rlpd``) this times ``SACAgent.update`` calls on a state-only
batch (``U = critic_actor_ratio`` minibatches of ``batch`` transitions, so one call is one
learner step: ``U`` critic steps + one actor/temperature step). The reference is a file-local
jitted function on raw parameter dicts that does the same math for the ``hilserl`` preset
(same ensemble, widths, activations, LayerNorm, Adam, polyak, unrolled critic steps);
``ratio = hilserl updates/s / reference updates/s`` shows what the agent abstractions cost
(1.0 means nothing). Timings alternate between the two and keep each one's best round,
because the CPU is shared.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
import optax

from hilserl_bench.baselines.presets import PRESETS, SACConfig
from hilserl_bench.baselines.sac import SACAgent

_ACT = {"tanh": jnp.tanh, "relu": jax.nn.relu, "gelu": jax.nn.gelu}
_ROUNDS = 3


def _mlp_init(key: jax.Array, sizes: list[int]) -> list[dict[str, jax.Array]]:
    glorot = jax.nn.initializers.xavier_uniform()
    keys = jax.random.split(key, len(sizes) - 1)
    return [
        {"w": glorot(k, (n_in, n_out)), "b": jnp.zeros(n_out), "s": jnp.ones(n_out), "c": jnp.zeros(n_out)}
        for k, n_in, n_out in zip(keys, sizes[:-1], sizes[1:], strict=True)
    ]


def _mlp(layers: list[dict[str, jax.Array]], x: jax.Array, act: str, layer_norm: bool) -> jax.Array:
    for layer in layers[:-1]:
        x = x @ layer["w"] + layer["b"]
        if layer_norm:
            mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
            x = (x - mean) * jax.lax.rsqrt(var + 1e-6) * layer["s"] + layer["c"]
        x = _ACT[act](x)
    return x @ layers[-1]["w"] + layers[-1]["b"]


def reference_sac(cfg: SACConfig, obs_dim: int, action_dim: int, seed: int = 0) -> tuple[Any, Any]:
    """``(state, step)``: plain SAC parameters/optimiser states and one jitted learner step."""
    hidden, adam = list(cfg.hidden_dims), optax.adam(cfg.critic_lr)

    @jax.jit
    def init(key):
        k_actor, k_critic, rng = jax.random.split(key, 3)
        actor = _mlp_init(k_actor, [obs_dim, *hidden, 2 * action_dim])
        critic = jax.vmap(lambda k: _mlp_init(k, [obs_dim + action_dim, *hidden, 1]))(
            jax.random.split(k_critic, cfg.ensemble_size)
        )
        temp = jnp.asarray(math.log(math.expm1(cfg.init_temperature)), jnp.float32)
        return (actor, critic, critic, temp), (adam.init(actor), adam.init(critic), adam.init(temp)), rng

    def pi(actor, obs, key):
        mean, log_std = jnp.split(_mlp(actor, obs, cfg.activation, cfg.actor_layer_norm), 2, axis=-1)
        std = jnp.clip(jnp.exp(log_std), cfg.std_min, cfg.std_max)
        u = mean + std * jax.random.normal(key, mean.shape)
        logp = jnp.sum(-0.5 * ((u - mean) / std) ** 2 - jnp.log(std) - 0.5 * math.log(2 * math.pi), -1)
        return jnp.tanh(u), logp - jnp.sum(2.0 * (math.log(2.0) - u - jax.nn.softplus(-2.0 * u)), -1)

    def q(critic, obs, a):
        x = jnp.concatenate([obs, a], -1)
        return jax.vmap(lambda p: _mlp(p, x, cfg.activation, cfg.critic_layer_norm)[..., 0])(critic)

    def critic_loss(critic, obs, a, y):
        return jnp.mean((q(critic, obs, a) - y) ** 2)

    @jax.jit
    def step(state, batch):
        (actor, critic, target, temp), (opt_a, opt_c, opt_t), rng = state
        alpha = jax.nn.softplus(temp)
        for i in range(batch["actions"].shape[0]):
            mb = jax.tree.map(lambda x, i=i: x[i], batch)
            rng, k_next = jax.random.split(rng)
            next_a, _ = pi(actor, mb["next_observations"]["state"], k_next)
            next_q = q(target, mb["next_observations"]["state"], next_a).min(0)
            y = mb["rewards"] + cfg.discount * mb["masks"] * next_q
            grads = jax.grad(critic_loss)(critic, mb["observations"]["state"], mb["actions"], y)
            updates, opt_c = adam.update(grads, opt_c)
            critic = optax.apply_updates(critic, updates)
            target = jax.tree.map(lambda t, c: (1 - cfg.tau) * t + cfg.tau * c, target, critic)
        rng, k_pi = jax.random.split(rng)
        obs = mb["observations"]["state"]

        def actor_loss(actor):
            a, logp = pi(actor, obs, k_pi)
            return jnp.mean(alpha * logp - q(critic, obs, a).mean(0)), -logp.mean()

        grads, entropy = jax.grad(actor_loss, has_aux=True)(actor)
        updates, opt_a = adam.update(grads, opt_a)
        actor = optax.apply_updates(actor, updates)
        grad_t = jax.grad(lambda t: jax.nn.softplus(t) * (entropy + action_dim / 2))(temp)
        updates, opt_t = adam.update(grad_t, opt_t)
        return (actor, critic, target, optax.apply_updates(temp, updates)), (opt_a, opt_c, opt_t), rng

    return init(jax.random.PRNGKey(seed)), step


def _batch(utd: int, batch: int, obs_dim: int, action_dim: int) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    obs = rng.normal(size=(utd, batch, obs_dim)).astype(np.float32)
    return jax.device_put(
        {
            "observations": {"state": obs},
            "next_observations": {"state": obs + np.float32(0.01)},
            "actions": rng.uniform(-1, 1, (utd, batch, action_dim)).astype(np.float32),
            "rewards": rng.normal(size=(utd, batch)).astype(np.float32),
            "masks": np.ones((utd, batch), np.float32),
        }
    )


def _timed(step: Any, state: Any, batch: Any, n: int) -> tuple[Any, float]:
    start = time.perf_counter()
    for _ in range(n):
        state = step(state, batch)
    jax.block_until_ready(state)
    return state, (time.perf_counter() - start) / n


def bench_learner(
    obs_dim: int = 20,
    action_dim: int = 7,
    batch: int = 256,
    steps: int = 30,
    hidden_dims: tuple[int, ...] | None = None,
    presets: tuple[str, ...] = ("hilserl", "rlpd"),
) -> dict[str, Any]:
    """Learner steps/s of each preset and of the plain reference (see the module docstring).

    ``hidden_dims`` overrides the presets' widths (tests use tiny ones); the reference and
    ``ratio`` come with the ``hilserl`` preset.
    """
    result: dict[str, Any] = {"obs_dim": obs_dim, "action_dim": action_dim, "batch": batch, "steps": steps}
    rounds = max(1, min(_ROUNDS, steps))
    for name in presets:
        preset = PRESETS[name]
        cfg = preset.sac if hidden_dims is None else SACConfig(**{**vars(preset.sac), "hidden_dims": hidden_dims})
        data = _batch(cfg.critic_actor_ratio, batch, obs_dim, action_dim)
        steppers = {name: (SACAgent.create(jax.random.PRNGKey(0), {"state": data["observations"]["state"][0]},
                                           action_dim, cfg), lambda a, b: a.update(b)[0])}  # fmt: skip
        if name == "hilserl":
            steppers["reference"] = reference_sac(cfg, obs_dim, action_dim)
        best: dict[str, float] = {}
        for key, (state, step) in steppers.items():
            start = time.perf_counter()
            state = jax.block_until_ready(step(state, data))
            steppers[key] = (state, step)
            result[key] = {"compile_s": time.perf_counter() - start, "ensemble_size": cfg.ensemble_size,
                           "critic_actor_ratio": cfg.critic_actor_ratio}  # fmt: skip
        for _ in range(rounds):
            for key, (state, step) in steppers.items():
                state, dt = _timed(step, state, data, max(1, steps // rounds))
                steppers[key], best[key] = (state, step), min(best.get(key, math.inf), dt)
        for key, dt in best.items():
            result[key].update(updates_per_s=1 / dt, critic_steps_per_s=cfg.critic_actor_ratio / dt)
    if "reference" in result:
        result["ratio"] = result["hilserl"]["updates_per_s"] / result["reference"]["updates_per_s"]
    return result


@dataclass(frozen=True)
class BenchLearnerCmd:
    """Learner updates/s of the hilserl and rlpd presets (state obs) against a plain one-function SAC."""

    steps: int = 30
    """Timed learner steps per preset (one step = critic_actor_ratio critic updates + one actor update)."""
    json: bool = False
    """Print one JSON object instead of a table."""
    obs_mode: Literal["state", "pixels"] = "state"
    """`pixels`: RLPD with the paper's image encoder at --batch on --image-size frames with 2 and 3 cameras,
    frozen ResNet-10 images/s and replay bytes per transition (see baselines/bench_pixels.py)."""
    batch: int = 256
    """Pixels mode: transitions per minibatch."""
    image_size: int = 128
    """Pixels mode: frame side in pixels."""

    def run(self) -> int:
        """Run the benchmark and print the result; returns the exit code."""
        if self.obs_mode == "pixels":
            from hilserl_bench.baselines.bench_pixels import bench_pixels, format_pixels

            result = bench_pixels(self.image_size, self.batch, self.steps)
            print(json.dumps(result) if self.json else format_pixels(result))
            return 0
        result = bench_learner(steps=self.steps)
        if self.json:
            print(json.dumps(result))
            return 0
        print(f"batch {result['batch']}, obs_dim {result['obs_dim']}, action_dim {result['action_dim']}")
        print(f"{'learner':<10} {'critics':>7} {'c:a':>4} {'updates/s':>10} {'critic steps/s':>15} {'compile s':>10}")
        for key in ("hilserl", "reference", "rlpd"):
            r = result[key]
            print(f"{key:<10} {r['ensemble_size']:>7} {r['critic_actor_ratio']:>4} {r['updates_per_s']:>10.1f} "
                  f"{r['critic_steps_per_s']:>15.1f} {r['compile_s']:>10.1f}")  # fmt: skip
        print(f"ratio (hilserl / reference updates/s): {result['ratio']:.2f}")
        return 0
