"""Every task as a ``dm_env.Environment``, for code written against DeepMind's RL interface (Acme, dm_control users).

``hilserl_bench.dm_env_adapter.make("ram_insertion", obs_mode="state")`` returns an
environment with proper specs: observations are a flat dict keyed ``state/tcp_pose``,
``task/...`` (state mode) or ``images/<camera>`` (pixels mode), each an
``Array``/``BoundedArray`` with the env's shape and dtype; actions are a
``BoundedArray`` in [-1, 1]; rewards are float64 scalars and discounts are
``BoundedArray`` [0, 1]. Episode ends follow dm_env's conventions: success is a
termination (discount 0, the critic's mask), the time limit a truncation (discount 1,
bootstrap), and ``step()`` after a LAST step (or on a fresh environment) starts a new
episode. ``info`` is not part of dm_env's TimeStep; the latest one is kept as
:attr:`DmEnvAdapter.last_info`.

Needs the ``dm_env`` package: ``pip install 'hilserl-bench[dm-control]'``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

try:
    import dm_env
    from dm_env import specs
except ImportError as exc:  # pragma: no cover  (depends on the extra being installed)
    raise ImportError("hilserl_bench.dm_env_adapter needs dm_env: pip install 'hilserl-bench[dm-control]'") from exc


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}/"))
        else:
            out[name] = value
    return out


def _spec(name: str, space: gym.spaces.Box) -> specs.Array:
    low, high = np.broadcast_to(space.low, space.shape), np.broadcast_to(space.high, space.shape)
    if np.all(np.isfinite(low)) and np.all(np.isfinite(high)):
        return specs.BoundedArray(space.shape, space.dtype, low, high, name=name)
    return specs.Array(space.shape, space.dtype, name=name)


def observation_specs(space: gym.spaces.Dict) -> dict[str, specs.Array]:
    """One spec per leaf of a (nested) gymnasium Dict of Boxes, keyed by its ``/``-joined path."""
    leaves = _flatten({k: _space_tree(v) for k, v in space.spaces.items()})
    return {name: _spec(name, box) for name, box in leaves.items()}


def _space_tree(space: gym.Space) -> Any:
    if isinstance(space, gym.spaces.Dict):
        return {k: _space_tree(v) for k, v in space.spaces.items()}
    if not isinstance(space, gym.spaces.Box):
        raise TypeError(f"dm_env adapter supports Box and Dict spaces, got {type(space).__name__}")
    return space


class DmEnvAdapter(dm_env.Environment):
    """A hilserl-bench (gymnasium) env behind the ``dm_env.Environment`` interface."""

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        self.env = env
        self._obs_specs = observation_specs(env.observation_space)
        box = env.action_space
        self._action_spec = specs.BoundedArray(box.shape, box.dtype, box.low, box.high, name="action")
        self._seed = seed
        self._needs_reset = True
        self.last_info: dict[str, Any] = {}
        """``info`` of the latest reset or step (success, penetration, interventions)."""

    def _observation(self, obs: Mapping[str, Any]) -> dict[str, np.ndarray]:
        flat = _flatten(obs)
        return {name: np.asarray(flat[name], dtype=spec.dtype).reshape(spec.shape)
                for name, spec in self._obs_specs.items()}

    def reset(self) -> dm_env.TimeStep:
        obs, self.last_info = self.env.reset(seed=self._seed)
        self._seed = None
        self._needs_reset = False
        return dm_env.restart(self._observation(obs))

    def step(self, action: Any) -> dm_env.TimeStep:
        if self._needs_reset:
            return self.reset()
        obs, reward, terminated, truncated, self.last_info = self.env.step(np.asarray(action))
        observation, reward = self._observation(obs), float(reward)
        if terminated:
            self._needs_reset = True
            return dm_env.termination(reward, observation)
        if truncated:
            self._needs_reset = True
            return dm_env.truncation(reward, observation)
        return dm_env.transition(reward, observation)

    def observation_spec(self) -> dict[str, specs.Array]:
        return dict(self._obs_specs)

    def action_spec(self) -> specs.BoundedArray:
        return self._action_spec

    def reward_spec(self) -> specs.Array:
        return specs.Array((), np.float64, name="reward")

    def discount_spec(self) -> specs.BoundedArray:
        return specs.BoundedArray((), np.float64, 0.0, 1.0, name="discount")

    def close(self) -> None:
        self.env.close()


def make(task_id: str, seed: int | None = None, **kwargs: Any) -> DmEnvAdapter:
    """``hilserl_bench.make(task_id, **kwargs)`` as a dm_env environment; ``seed`` seeds the first reset."""
    import hilserl_bench

    return DmEnvAdapter(hilserl_bench.make(task_id, **kwargs), seed=seed)
