"""Actor and learner: the two roles of HIL-SERL training, joined by a narrow interface.

Transitions flow one way (actor -> learner.ingest), parameters the other
(learner.policy() -> actor.set_policy). The actor never sees the learner itself, only a
*link* with two calls: ``ingest(transition)`` after each env step and ``after_step(actor)``
(where parameters may arrive). :class:`SyncLink` is the default synchronous mode: both roles
in one process, alternating deterministically. The asynchronous transports (a learner thread,
Ray actors) are other links (:mod:`hilserl_bench.training.transport`); the roles do not change.

Every random stream is derived from a counter, never carried as hidden state: the
actor's sampling key from (seed, env step), the learner's batch sampling from
(seed, learner step). A run resumed from a checkpoint at an episode boundary
therefore replays exactly what the killed run would have done.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import jax
import numpy as np

from hilserl_bench.data.replay_buffer import route_transition, transition_from_step
from hilserl_bench.training.agent_factory import AgentHandle


@dataclass
class EpisodeStats:
    """What one episode adds to metrics.csv."""

    episode: int
    env_steps: int
    steps: int = 0
    return_: float = 0.0
    success: bool = False
    cycle_time_s: float | None = None
    intervened_steps: int = 0
    interventions: int = 0
    learner_steps: int = 0
    overruns: int = 0
    """Control ticks that came late (``info["overrun_s"] > 0``; a real robot's 10 Hz loop missed, 0 in sim)."""
    max_overrun_s: float = 0.0
    wall_time_s: float = 0.0
    losses: dict[str, float] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """A flat metrics row."""
        return {
            "episode": self.episode, "env_steps": self.env_steps, "steps": self.steps, "return": self.return_,
            "success": self.success, "cycle_time_s": self.cycle_time_s,
            "intervention_rate": self.intervened_steps / max(1, self.steps),
            "interventions": self.interventions, "learner_steps": self.learner_steps,
            "overruns": self.overruns, "max_overrun_s": self.max_overrun_s,
            "wall_time_s": self.wall_time_s, **self.losses,
        }


class Learner:
    """Owns the agent and the buffers; turns transitions into parameter updates."""

    def __init__(self, agent: AgentHandle, online: Any, prior: Any, sampler: Any, batch_size: int, utd: int,
                 start_training: int, seed: int) -> None:
        self.agent, self.online, self.prior, self.sampler = agent, online, prior, sampler
        self.batch_size, self.utd, self.start_training, self.seed = batch_size, utd, start_training, seed
        self.steps = 0
        self.last_info: dict[str, float] = {}

    def ingest(self, transition: dict[str, Any]) -> None:
        """HIL-SERL routing (:func:`route_transition`): interventions go to both buffers when the agent
        learns from them, the policy's own steps to the online one."""
        route_transition(transition, self.online, self.prior if self.agent.learns_from_interventions else None)

    def ready(self) -> bool:
        return len(self.online) >= self.start_training and self.agent.trains_online

    def step(self) -> None:
        """``utd`` agent updates, each on a freshly sampled batch.

        For RLPD one update is ``critic_actor_ratio`` critic steps and one actor and
        temperature step, so an env step costs ``utd * ratio`` critic steps.
        """
        for _ in range(self.utd):
            rng = np.random.default_rng([self.seed, 104729, self.steps])
            self.last_info = self.agent.update(self.sampler(rng, self.batch_size))
            self.steps += 1

    def policy(self) -> AgentHandle:
        """The parameters the actor should act with (an immutable snapshot)."""
        return self.agent.snapshot()


class SyncLink:
    """The synchronous transport: every env step feeds the learner in-process and then trains it one step,
    publishing parameters to the actor every ``publish_every`` learner steps (deterministic for a seed)."""

    def __init__(self, learner: Learner, publish_every: int) -> None:
        self.learner, self.publish_every = learner, publish_every

    def ingest(self, transition: dict[str, Any]) -> None:
        self.learner.ingest(transition)

    def after_step(self, actor: Actor) -> None:
        if self.learner.ready():
            self.learner.step()
            if self.learner.steps % self.publish_every == 0:
                actor.set_policy(self.learner.policy())

    @property
    def learner_steps(self) -> int:
        return self.learner.steps

    @property
    def losses(self) -> dict[str, float]:
        return self.learner.last_info


class Actor:
    """Owns the env; acts with the latest published policy and reports transitions."""

    def __init__(self, env: Any, policy: AgentHandle, seed: int) -> None:
        self.env, self.policy, self.seed = env, policy, seed

    def set_policy(self, policy: AgentHandle) -> None:
        self.policy = policy

    def run_episode(self, episode: int, env_steps: int, link: Any, max_env_steps: int) -> EpisodeStats:
        """Play one episode, handing every transition to ``link`` as it happens.

        ``episode`` picks the reset seed, ``env_steps`` the first sampling key; the episode stops early
        when ``env_steps`` plus its steps reaches ``max_env_steps``.
        """
        start = time.perf_counter()
        stats = EpisodeStats(episode=episode, env_steps=env_steps)
        obs, _ = self.env.reset(seed=self.seed * 100_003 + episode)
        base_key = jax.random.PRNGKey(self.seed)
        in_takeover = False
        while True:
            key = jax.random.fold_in(base_key, env_steps + stats.steps)
            action = self.policy.act(obs, key)
            next_obs, reward, terminated, truncated, info = self.env.step(action)
            transition = transition_from_step(obs, action, next_obs, reward, terminated, truncated, info)
            intervened = transition["intervened"]
            link.ingest(transition)
            stats.steps += 1
            stats.return_ += float(reward)
            stats.intervened_steps += int(intervened)
            stats.interventions += int(intervened and not in_takeover)
            in_takeover = intervened
            overrun = float(info.get("overrun_s", 0.0))
            stats.overruns += int(overrun > 0.0)
            stats.max_overrun_s = max(stats.max_overrun_s, overrun)
            link.after_step(self)
            obs = next_obs
            if terminated or truncated or info.get("human_reset") or env_steps + stats.steps >= max_env_steps:
                break
        stats.success = bool(info.get("succeed", False))
        if stats.success:
            stats.cycle_time_s = stats.steps * float(self.env.unwrapped.control_dt)
        stats.learner_steps = link.learner_steps
        stats.losses = {k: float(v) for k, v in link.losses.items()}
        stats.wall_time_s = time.perf_counter() - start
        return stats
