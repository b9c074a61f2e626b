"""Build the agent and buffers a training config asks for, behind one small handle.

:class:`AgentHandle` is the only mutable object around an agent: it holds the
current immutable agent pytree, batches single observations for acting, and turns
agents into flat numpy arrays for checkpoints. The loop talks to every agent kind
(RLPD with or without the gripper critic, BC, HG-DAgger) through it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import numpy as np

from hilserl_bench.baselines.bc import BCAgent, drop_idle
from hilserl_bench.baselines.networks import from_state_dict, to_state_dict
from hilserl_bench.baselines.presets import PRESETS, BCConfig
from hilserl_bench.baselines.rlpd import RLPDAgent
from hilserl_bench.data.learning_env import obs_spec
from hilserl_bench.data.replay_buffer import MixedSampler, ReplayBuffer


def _batched(obs: dict[str, Any]) -> dict[str, Any]:
    return jax.tree.map(lambda x: np.asarray(x)[None], obs)


class AgentHandle:
    """A mutable holder of an immutable agent; see the module docstring."""

    def __init__(self, kind: str, agent: Any, ratio: int = 1) -> None:
        self.kind, self.agent, self.ratio = kind, agent, ratio

    @property
    def trains_online(self) -> bool:
        """BC never updates during rollouts; RLPD and HG-DAgger do."""
        return self.kind != "bc"

    @property
    def learns_from_interventions(self) -> bool:
        return self.kind in ("rlpd", "hgdagger")

    def act(self, obs: dict[str, Any], key: jax.Array) -> np.ndarray:
        return np.asarray(self.agent.sample_actions(_batched(obs), key)[0])

    def eval_act(self, obs: dict[str, Any]) -> np.ndarray:
        return np.asarray(self.agent.eval_actions(_batched(obs))[0])

    def update(self, batch: dict[str, Any]) -> dict[str, float]:
        self.agent, info = self.agent.update(batch)
        return {k: float(v) for k, v in info.items()}

    def snapshot(self) -> AgentHandle:
        """A handle on the current parameters that later updates do not change."""
        return AgentHandle(self.kind, self.agent, self.ratio)

    def state_dict(self) -> dict[str, np.ndarray]:
        return to_state_dict(self.agent)

    def load_state_dict(self, arrays: dict[str, np.ndarray]) -> None:
        self.agent = from_state_dict(self.agent, arrays)

    def pretrain(self, prior: ReplayBuffer, steps: int, batch_size: int, seed: int,
                 progress: Callable[[int], Any] | None = None) -> None:
        """BC / HG-DAgger pretraining on the demo buffer; ``progress(1)`` after each update (a progress bar)."""
        if len(prior) == 0:
            raise ValueError("BC needs demonstrations but the demo buffer is empty")
        for step in range(steps):
            batch = prior.sample(np.random.default_rng([seed, 15485863, step]), batch_size)
            self.update(batch)
            if progress is not None:
                progress(1)


def build_agent(cfg: Any, obs_example: dict[str, Any], action_dim: int, stack: dict[str, Any]) -> AgentHandle:
    """The agent of ``cfg.agent`` with the task's discount, initialised from ``cfg.seed``."""
    from hilserl_bench import registry

    key = jax.random.PRNGKey(cfg.seed)
    task_config = registry.task_class(cfg.task).default_config()
    example = _batched(obs_example)
    encoder = weights = None
    if cfg.obs_mode == "pixels":
        from hilserl_bench.training.pixels import make_encoder

        encoder, weights = make_encoder(cfg.pixels, stack)
    if cfg.agent == "rlpd":
        preset = PRESETS[cfg.preset]
        sac = dataclasses.replace(preset.sac, discount=task_config.discount,
                                  scan_updates=cfg.obs_mode != "pixels")
        config = dataclasses.replace(preset, sac=sac)
        agent, ratio = RLPDAgent.create(key, example, action_dim, config, encoder), sac.critic_actor_ratio
    else:
        agent, ratio = BCAgent.create(key, example, action_dim, BCConfig(), encoder), 1
    if cfg.obs_mode == "pixels":
        from hilserl_bench.training.pixels import prepare_agent

        agent = prepare_agent(agent, cfg.pixels, weights, cfg.seed)
    return AgentHandle(cfg.agent, agent, ratio)


def make_buffers(cfg: Any, stack: dict[str, Any], agent: AgentHandle, checkpoint: Path | None = None):
    """(online, prior, sampler): fresh, or exactly as a checkpoint left them.

    RLPD batches carry a leading axis of ``critic_actor_ratio`` minibatches (one agent
    update); BC and HG-DAgger batches come from the demo+intervention buffer alone.
    """
    if checkpoint is not None:
        online, prior = ReplayBuffer.load(checkpoint / "online.npz"), ReplayBuffer.load(checkpoint / "prior.npz")
    else:
        spec = obs_spec(stack)
        online = ReplayBuffer(cfg.buffer_capacity, spec, stack["action_dim"])
        prior = ReplayBuffer(cfg.buffer_capacity, spec, stack["action_dim"])
    if agent.kind == "rlpd":
        mixed = MixedSampler(online, prior)

        def sampler(rng: np.random.Generator, batch: int) -> dict[str, Any]:
            return mixed.sample(rng, batch, utd=agent.ratio)
    else:
        def sampler(rng: np.random.Generator, batch: int) -> dict[str, Any]:
            return prior.sample(rng, batch)
    return online, prior, sampler


__all__ = ["AgentHandle", "build_agent", "drop_idle", "make_buffers"]
