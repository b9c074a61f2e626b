"""``hilserl-bench eval``: roll out a trained run's policy and report success and cycle time."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import gymnasium as gym
import jax
import numpy as np
import tyro

from hilserl_bench.backend_options import BackendOptions
from hilserl_bench.cli_checks import (
    DEFAULT_EPISODES,
    check_positive,
    print_report,
    resolve_obs_mode,
    round_floats,
)
from hilserl_bench.data.learning_env import describe_stack, make_learning_env
from hilserl_bench.errors import UserFacingError
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


class AgentPolicy:
    """A trained agent behind the :class:`~hilserl_bench.policies.Policy` interface, so eval shares rollout's loop.

    Deterministic evaluation takes the policy's mean action; stochastic evaluation samples
    with a JAX key drawn from the episode's generator, so every episode replays alone.
    """

    def __init__(self, agent: Any, deterministic: bool = True) -> None:
        self.agent, self.deterministic = agent, deterministic
        self._key = jax.random.PRNGKey(0)
        self._t = 0

    def reset(self, rng: np.random.Generator) -> None:
        self._key = jax.random.PRNGKey(int(rng.integers(2**31)))
        self._t = 0

    def act(self, obs: Any) -> np.ndarray:
        self._t += 1
        if self.deterministic:
            return self.agent.eval_act(obs)
        return self.agent.act(obs, jax.random.fold_in(self._key, self._t))


def evaluate_run(run_dir: Path, episodes: int = DEFAULT_EPISODES, seed: int = 10_000, deterministic: bool = True,
                 robot: BackendOptions | None = None, progress: bool = False, disturb: str | None = None,
                 records: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Success rate, mean steps, mean cycle time (s, over successes) and the rest of rollout's summary.

    The figures come from :func:`~hilserl_bench.rollout.run_episodes` and
    :func:`~hilserl_bench.rollout.summarize`, so ``eval --json`` and ``rollout --json``
    share their keys. Evaluation seeds start at 10 000 so they never coincide with
    training episodes. ``disturb`` (a kind of the task's ``disturbances``, or ``none``) runs the episodes
    under that disturbance (simulator only, :mod:`hilserl_bench.robustness`), adding its fields to the
    report and one record per episode to ``records``.
    """
    from tqdm import tqdm

    from hilserl_bench.rollout import run_episodes, summarize

    cfg = TrainConfig.load(run_dir)
    env = make_learning_env(cfg.task, obs_mode=cfg.obs_mode, **(robot or BackendOptions()).make_kwargs(),
                            **cfg.pixels.make_kwargs(cfg.obs_mode))
    env = wrap_reward(env, cfg.reward_model)
    try:
        policy = AgentPolicy(load_policy(run_dir, env), deterministic)
        ended = ClassifierEnds(env) if cfg.reward_model.reward == "classifier" else env
        with tqdm(total=episodes, unit="ep", desc=f"eval {cfg.task}", disable=not progress, file=sys.stderr) as bar:
            if disturb is None:
                results = run_episodes(ended, policy, episodes, seed, progress=bar)
            else:
                from hilserl_bench.robustness import run_disturbed, summarize_disturbed

                results, recs = run_disturbed(ended, policy, disturb, episodes, seed, progress=bar)
                (records if records is not None else []).extend(recs)
    finally:
        env.close()
    summary = summarize(results) if disturb is None else summarize_disturbed(disturb, results, recs)
    report = {"run": str(run_dir), "task": cfg.task, "agent": cfg.agent, "obs_mode": cfg.obs_mode, "seed": seed,
              "deterministic": deterministic, **summary}
    if ended is not env:
        report["classifier_ended_rate"] = ended.fired / episodes  # success_rate stays the simulator's truth
    return report


class ClassifierEnds(gym.Wrapper):
    """Counts the episodes a learned reward classifier ended (``info["classifier_success"]``)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.fired = 0
        self._fired_this_episode = False

    def reset(self, **kwargs: Any) -> Any:
        self._fired_this_episode = False
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> Any:
        obs, reward, terminated, truncated, info = self.env.step(action)
        if info.get("classifier_success", False) and not self._fired_this_episode:
            self.fired, self._fired_this_episode = self.fired + 1, True
        return obs, reward, terminated, truncated, info


@dataclass(frozen=True)
class EvalCmd:
    """Evaluate a training run's latest checkpoint (deterministic mean actions by default)."""

    run_dir: Annotated[Path, tyro.conf.arg(name="run", aliases=("--out",))]
    """Run directory written by `hilserl-bench train --out` (`--out` is the same flag, as on train)."""
    episodes: int = DEFAULT_EPISODES
    """Evaluation episodes; episode i uses seed + i (the paper evaluates 100)."""
    seed: int = 10_000
    """Seed of the first evaluation episode (10000 and up never coincide with training episodes)."""
    stochastic: bool = False
    """Sample actions from the policy instead of taking its mean."""
    json: bool = False
    """Print one JSON object (the same keys as `rollout --json`)."""
    robot: Annotated[BackendOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=BackendOptions)
    """Which robot to evaluate on (`--backend real --robot-url URL` for hardware or the emulator)."""
    disturb: str | None = None
    """Evaluate under a disturbance kind of the task (simulator only): a kind name, `all` (every kind beside
    the undisturbed run) or `list` (print the kinds); see docs/robustness.md."""

    def run(self) -> int:
        check_positive(self.episodes, "--episodes")
        if self.disturb is not None:
            from hilserl_bench.robustness_cli import eval_disturbed

            return eval_disturbed(self)
        if not Path(self.run_dir).is_dir():
            raise UserFacingError(f"--run {self.run_dir} is not a folder; give the --out folder of a training run")
        trained = TrainConfig.load(self.run_dir)
        resolve_obs_mode(trained.obs_mode, self.robot, trained.task)
        report = evaluate_run(self.run_dir, self.episodes, self.seed, deterministic=not self.stochastic,
                              robot=self.robot, progress=not self.json)
        if self.json:
            print(json.dumps(round_floats(report)))
        else:
            print_report(report)
        return 0
