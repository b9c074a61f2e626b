"""The policy interface rollouts, benchmarks and the CLI share, plus the random baseline.

A policy is anything with ``reset(rng)`` and ``act(obs)``: scripted experts
(:func:`hilserl_bench.envs.experts.make_expert`), the uniform random policy here, and
trained agents wrapped the same way. Randomness comes only from the generator given
to ``reset`` so that episode ``i`` of a seeded rollout is reproducible on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    import gymnasium as gym

PolicyName = Literal["expert", "random"]


@runtime_checkable
class Policy(Protocol):
    """Maps observations to actions in [-1, 1]; reseeded at the start of every episode."""

    def reset(self, rng: np.random.Generator) -> None:
        """Start a new episode drawing any randomness from ``rng``."""

    def act(self, obs: Any) -> np.ndarray:
        """Action for ``obs`` (shape and dtype of the env's action space)."""


class RandomPolicy:
    """Uniform actions in [-1, 1] per dimension: the floor every learned policy must beat.

    Only the action space's shape and dtype are used; bounds are taken as [-1, 1]
    because every task normalises its actions to that box.
    """

    def __init__(self, action_space: gym.spaces.Box) -> None:
        self.shape = tuple(action_space.shape)
        self.dtype = np.dtype(action_space.dtype)
        self._rng = np.random.default_rng(0)

    def reset(self, rng: np.random.Generator) -> None:
        """Use ``rng`` for this episode's actions."""
        self._rng = rng

    def act(self, obs: Any) -> np.ndarray:
        """A fresh uniform sample; ``obs`` is ignored."""
        del obs
        return self._rng.uniform(-1.0, 1.0, size=self.shape).astype(self.dtype)


def make_policy(name: PolicyName, env: gym.Env, noise: float = 0.0) -> Policy:
    """Build a named policy for ``env``.

    ``noise`` is passed to the scripted expert (action noise scale); the random policy
    ignores it. The expert module is imported lazily so that random rollouts work even
    while a task has no expert.
    """
    if name == "random":
        return RandomPolicy(env.action_space)
    if name == "expert":
        from hilserl_bench.envs.experts import make_expert

        return make_expert(env, noise=noise)
    raise ValueError(f"unknown policy {name!r}; choose one of ['expert', 'random']")
