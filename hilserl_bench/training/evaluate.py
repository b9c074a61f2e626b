"""``hilserl-bench eval``: roll out a trained run's policy and report success and cycle time."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import jax
import numpy as np
import tyro

from hilserl_bench.backend_options import BackendOptions
from hilserl_bench.data.learning_env import describe_stack, make_learning_env
from hilserl_bench.training import checkpoint as ckpt
from hilserl_bench.training.agent_factory import build_agent
from hilserl_bench.training.config import TrainConfig
from hilserl_bench.training.pixels import wrap_reward


def load_policy(run_dir: Path, env: Any) -> Any:
    """The agent of a run's latest checkpoint, built for ``env``."""
    cfg = TrainConfig.load(run_dir)
    latest = ckpt.latest_checkpoint(run_dir)
    if latest is None:
        raise FileNotFoundError(f"{run_dir} has no checkpoint yet; train longer or check --run")
    arrays, meta = ckpt.load_checkpoint(latest)
    if meta.get("task") != env.unwrapped.task.task_id:
        raise ckpt.CheckpointError(f"checkpoint {latest} is for task {meta.get('task')!r}, "
                                   f"not {env.unwrapped.task.task_id!r}")
    obs, _ = env.reset(seed=0)
    agent = build_agent(cfg, obs, env.action_space.shape[0], describe_stack(env))
    agent.load_state_dict(arrays)
    return agent


def evaluate_run(run_dir: Path, episodes: int = 100, seed: int = 10_000, deterministic: bool = True,
                 robot: BackendOptions | None = None) -> dict[str, Any]:
    """Success rate, mean cycle time (s, over successes) and mean steps of the run's policy.

    Evaluation seeds start at 10 000 so they never coincide with training episodes.
    """
    cfg = TrainConfig.load(run_dir)
    env = make_learning_env(cfg.task, obs_mode=cfg.obs_mode, **(robot or BackendOptions()).make_kwargs(),
                            **cfg.pixels.make_kwargs(cfg.obs_mode))
    env = wrap_reward(env, cfg.reward_model)
    try:
        agent = load_policy(run_dir, env)
        successes, steps, cycle, fired = 0, [], [], 0
        for i in range(episodes):
            obs, _ = env.reset(seed=seed + i)
            key = jax.random.PRNGKey(seed + i)
            for t in range(env.unwrapped.task.config.max_steps):
                action = agent.eval_act(obs) if deterministic else agent.act(obs, jax.random.fold_in(key, t))
                obs, _, terminated, truncated, info = env.step(action)
                if terminated or truncated:
                    break
            steps.append(t + 1)
            fired += int(bool(info.get("classifier_success", False)))
            if info.get("succeed", False):
                successes += 1
                cycle.append((t + 1) * float(env.unwrapped.control_dt))
    finally:
        env.close()
    report = {"run": str(run_dir), "task": cfg.task, "agent": cfg.agent, "episodes": episodes,
              "success_rate": successes / episodes, "mean_cycle_time_s": float(np.mean(cycle)) if cycle else None,
              "mean_steps": float(np.mean(steps)), "deterministic": deterministic}
    if cfg.reward_model.reward == "classifier":
        report["classifier_ended_rate"] = fired / episodes  # episodes the classifier ended; success_rate is the truth
    return report


@dataclass(frozen=True)
class EvalCmd:
    """Evaluate a training run's latest checkpoint (deterministic mean actions by default)."""

    run_dir: Annotated[Path, tyro.conf.arg(name="run")]
    """Run directory written by `hilserl-bench train --out`."""
    episodes: int = 100
    """Evaluation episodes (seeds 10000, 10001, ...)."""
    stochastic: bool = False
    """Sample actions from the policy instead of taking its mean."""
    json: bool = False
    """Print one JSON object."""
    robot: Annotated[BackendOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=BackendOptions)
    """Which robot to evaluate on (`--backend real --robot-url URL` for hardware or the emulator)."""

    def run(self) -> int:
        if self.episodes < 1:
            raise ValueError(f"--episodes must be >= 1, got {self.episodes}")
        report = evaluate_run(self.run_dir, self.episodes, deterministic=not self.stochastic, robot=self.robot)
        if self.json:
            print(json.dumps(report))
        else:
            for key, value in report.items():
                print(f"{key:<20} {value}")
        return 0
