"""Every registered task's supervisor recovers from the states a random policy leaves behind.

Registry-driven, so a new task with an expert is covered without editing this file.
Two situations a supervisor meets during training:

* the policy flails from the reset and the supervisor then takes over for good
  (through :class:`ScriptedIntervention`, frames and "stay" labels included);
* the expert is half way through its plan (it has been queried every step, as the
  supervisor does) when the policy flails for a while, e.g. drops a grasped part; the
  expert must read its phase from the state and recover, not continue a stale plan.
"""

from __future__ import annotations

import numpy as np
import pytest

import hilserl_bench
from hilserl_bench.data.learning_env import make_learning_env
from hilserl_bench.envs.experts import make_expert
from hilserl_bench.training.intervention_budget import BudgetConfig
from hilserl_bench.training.scripted_intervention import ScriptedIntervention, StallCounter, SupervisorConfig

EPISODES, RANDOM_STEPS, MIN_SUCCESS = 6, 15, 0.65


def _tasks() -> list[str]:
    return sorted(hilserl_bench.tasks())


def _solo_length(task: str) -> int:
    """Steps the expert alone takes on seed 0 (where "half way through its plan" is)."""
    env = make_learning_env(task, obs_mode="state")
    raw, expert = env.unwrapped, make_expert(env.unwrapped)
    to_tcp = env.get_wrapper_attr("to_tcp")
    env.reset(seed=0)
    expert.reset(np.random.default_rng(0))
    for step in range(raw.task.config.max_steps):
        _, _, terminated, truncated, _ = env.step(np.clip(to_tcp(expert.act(raw.last_obs)), -1.0, 1.0))
        if terminated or truncated:
            return step + 1
    return raw.task.config.max_steps


@pytest.mark.parametrize("task", _tasks())
def test_supervisor_takes_over_after_random_steps(task: str):
    config = SupervisorConfig(warmup_steps=RANDOM_STEPS, disagreement_threshold=-1.0, disagreement_steps=1,
                              budget=BudgetConfig(floor=1.0, probe_every=0))
    env = make_learning_env(task, obs_mode="state")
    sup = ScriptedIntervention(env, make_expert(env.unwrapped), config, seed=0)
    successes = []
    for episode in range(EPISODES):
        sup.reset(seed=1000 + episode)
        rng = np.random.default_rng(episode)
        info, done, steps = {}, False, 0
        while not done:
            _, _, terminated, truncated, info = sup.step(rng.uniform(-1, 1, size=env.action_space.shape))
            assert info.get("is_intervention", False) == (steps >= RANDOM_STEPS)
            done, steps = terminated or truncated, steps + 1
        successes.append(bool(info.get("succeed", False)))
    assert np.mean(successes) >= MIN_SUCCESS, f"{task}: supervisor succeeded {successes} after random steps"


def _mid_plan_recovery(task: str) -> list[bool]:
    env = make_learning_env(task, obs_mode="state")
    raw, expert = env.unwrapped, make_expert(env.unwrapped)
    to_tcp = env.get_wrapper_attr("to_tcp")
    start = _solo_length(task) // 2
    successes = []
    for episode in range(EPISODES):
        env.reset(seed=2000 + episode)
        expert.reset(np.random.default_rng(episode))
        rng = np.random.default_rng(episode)
        info, done, steps = {}, False, 0
        while not done:
            action = np.clip(to_tcp(expert.act(raw.last_obs)), -1.0, 1.0)
            if start <= steps < start + RANDOM_STEPS:
                action = rng.uniform(-1, 1, size=env.action_space.shape)
            _, _, terminated, truncated, info = env.step(action)
            done, steps = terminated or truncated, steps + 1
        successes.append(bool(info.get("succeed", False)))
    return successes


@pytest.mark.parametrize("task", _tasks())
def test_expert_recovers_when_the_policy_flails_mid_plan(task: str):
    successes = _mid_plan_recovery(task)
    assert np.mean(successes) >= MIN_SUCCESS, f"{task}: expert succeeded {successes} after a mid-plan disturbance"


@pytest.mark.parametrize("task", _tasks())
def test_the_experts_own_episodes_never_look_stalled(task: str):
    """Per-phase progress: the stall trigger must stay quiet while the expert itself works (grasping included)."""
    env = make_learning_env(task, obs_mode="state")
    raw, expert = env.unwrapped, make_expert(env.unwrapped)
    to_tcp = env.get_wrapper_attr("to_tcp")
    limit = SupervisorConfig().stall_steps
    for episode in range(3):
        env.reset(seed=3000 + episode)
        expert.reset(np.random.default_rng(episode))
        counter, longest, done, info = StallCounter(SupervisorConfig().progress_tol), 0, False, {}
        while not done:
            reading = expert.progress(raw.last_obs)
            if reading is not None:
                longest = max(longest, counter.update(reading))
            _, _, terminated, truncated, info = env.step(np.clip(to_tcp(expert.act(raw.last_obs)), -1.0, 1.0))
            done = terminated or truncated
        assert info.get("succeed", False)
        assert longest < limit, f"{task}: {longest} steps without progress during the expert's own episode"
