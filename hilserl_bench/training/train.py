"""``hilserl-bench train``: the synchronous training loop, identical for every backend.

The loop builds the learning env (``make_learning_env``), optionally wraps it in the
scripted supervisor, fills the demo buffer from recorded episodes, and alternates the
actor and learner roles (:mod:`hilserl_bench.training.roles`). Checkpoints are taken
at episode boundaries only, so a killed run resumes from a state in which every
buffered transition belongs to a finished episode: the interrupted episode is played
again from the same seeds, nothing is lost and nothing is stored twice.
"""

from __future__ import annotations

import json
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from hilserl_bench.data.episode_format import load_dataset
from hilserl_bench.data.learning_env import describe_stack, make_learning_env
from hilserl_bench.errors import UserFacingError
from hilserl_bench.training import checkpoint as ckpt
from hilserl_bench.training.agent_factory import build_agent, make_buffers
from hilserl_bench.training.config import TrainConfig
from hilserl_bench.training.metrics_log import MetricsLog
from hilserl_bench.training.pixels import wrap_domain_randomisation, wrap_reward
from hilserl_bench.training.roles import Actor, Learner
from hilserl_bench.training.scripted_intervention import ScriptedIntervention

RESUMABLE_CHANGES = {"env_steps", "checkpoint_every", "log"}
"""Config fields a resumed run may change (extend the budget, checkpoint more often)."""


class RunMismatchError(UserFacingError):
    """The run directory belongs to a run with other settings."""


@dataclass
class TrainResult:
    """Where a finished (or interrupted) run stands."""

    run_dir: Path
    env_steps: int
    episodes: int
    learner_steps: int
    resumed_from: int | None
    interrupted: bool


def _check_run_dir(cfg: TrainConfig) -> None:
    cfg.out.mkdir(parents=True, exist_ok=True)
    path = cfg.out / "config.json"
    if path.exists():
        saved = json.loads(path.read_text())
        current = cfg.to_json()
        changed = sorted(k for k in set(saved) | set(current)
                         if saved.get(k) != current.get(k) and k not in RESUMABLE_CHANGES)
        if changed:
            diff = ", ".join(f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in changed)
            raise RunMismatchError(f"{cfg.out} holds a run with other settings ({diff}); "
                                   "use another --out or the original settings")
    ckpt.write_json_atomic(path, cfg.to_json())


def build_env(cfg: TrainConfig) -> Any:
    """The learning env, with the scripted supervisor outermost or a person's device innermost when asked."""
    if cfg.interventions == "human":
        import hilserl_bench
        from hilserl_bench.wrappers.human_intervention import HumanInterventionConfig, human_intervention_env

        raw = hilserl_bench.make(cfg.task, obs_mode=cfg.obs_mode, **cfg.robot.make_kwargs(),
                                 **cfg.pixels.make_kwargs(cfg.obs_mode))
        return wrap_reward(human_intervention_env(raw, cfg.device, HumanInterventionConfig(hold_s=cfg.hold_s)),
                           cfg.reward_model)
    env = make_learning_env(cfg.task, obs_mode=cfg.obs_mode, **cfg.robot.make_kwargs(),
                            **cfg.pixels.make_kwargs(cfg.obs_mode))
    env = wrap_reward(wrap_domain_randomisation(env, cfg.pixels), cfg.reward_model)
    if cfg.interventions == "scripted":
        from hilserl_bench.envs.experts import make_expert

        env = ScriptedIntervention(env, make_expert(env.unwrapped), cfg.supervisor, seed=cfg.seed)
    return env


def train(cfg: TrainConfig, progress: bool = True) -> TrainResult:
    """Run (or resume) training until ``cfg.env_steps`` transitions are collected."""
    cfg.validate()
    _check_run_dir(cfg)
    env = build_env(cfg)
    stack = describe_stack(env)
    demos = load_dataset(cfg.demos, expect=stack) if cfg.demos is not None else []
    obs_example, _ = env.reset(seed=cfg.seed)
    agent = build_agent(cfg, obs_example, env.action_space.shape[0], stack)
    online, prior, sampler = make_buffers(cfg, stack, agent)
    for episode in demos:
        prior.insert_episode(episode)
    learner = Learner(agent, online, prior, sampler, cfg.batch_size, cfg.utd, cfg.start_training, cfg.seed)
    log = MetricsLog(cfg.out, cfg.log, cfg.to_json())
    env_steps = episodes = 0
    resumed_from = None
    latest = ckpt.latest_checkpoint(cfg.out)
    if latest is not None:
        arrays, meta = ckpt.load_checkpoint(latest)
        if meta.get("task") != cfg.task:
            raise RunMismatchError(f"checkpoint {latest} is for task {meta.get('task')!r}, not {cfg.task!r}")
        agent.load_state_dict(arrays)
        online, prior, sampler = make_buffers(cfg, stack, agent, latest)
        learner.online, learner.prior, learner.sampler = online, prior, sampler
        env_steps, episodes, learner.steps = meta["env_steps"], meta["episodes"], meta["learner_steps"]
        log.restore(meta["metrics"])
        resumed_from = episodes
    elif cfg.agent in ("bc", "hgdagger"):
        agent.pretrain(prior, cfg.bc_steps, cfg.batch_size, cfg.seed)
    if isinstance(env, ScriptedIntervention):
        env.env_steps = env_steps
    actor = Actor(env, learner.policy(), cfg.seed)

    def save() -> None:
        ckpt.save_checkpoint(cfg.out, episodes, agent.state_dict(), {
            "task": cfg.task, "env_steps": env_steps, "episodes": episodes, "learner_steps": learner.steps,
            "metrics": log.rows, "saved_at": time.time(),
        }, {"online": online.save, "prior": prior.save})

    interrupted = False
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    bar = tqdm(total=cfg.env_steps, initial=min(env_steps, cfg.env_steps), disable=not progress, unit="step",
               desc=f"{cfg.agent} {cfg.task}")
    try:
        while env_steps < cfg.env_steps:
            stats = actor.run_episode(episodes, env_steps, learner, cfg.publish_every, cfg.env_steps)
            env_steps += stats.steps
            episodes += 1
            log.append(stats.row())
            bar.update(stats.steps)
            bar.set_postfix(success=f"{log.recent_success():.2f}", interv=f"{log.recent_intervention_rate():.2f}")
            if episodes % cfg.checkpoint_every == 0:
                save()
        save()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
        signal.signal(signal.SIGTERM, previous)
        env.close()
        log.close()
    return TrainResult(cfg.out, env_steps, episodes, learner.steps, resumed_from, interrupted)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def read_metrics(run_dir: Path) -> pd.DataFrame:
    """metrics.csv of a run as a DataFrame."""
    return pd.read_csv(Path(run_dir) / "metrics.csv")


def summarize_metrics(df: pd.DataFrame, window: int = 20) -> dict[str, float]:
    """Success and intervention rate over the last ``window`` episodes (the paper's running average)."""
    tail = df.tail(window)
    total = int(df["env_steps"].iloc[-1] + df["steps"].iloc[-1]) if len(df) else 0
    return {"episodes": int(len(df)), "env_steps": total,
            "recent_success": float(tail["success"].mean()) if len(tail) else 0.0,
            "recent_intervention_rate": float(tail["intervention_rate"].mean()) if len(tail) else 0.0,
            "mean_steps": float(np.mean(tail["steps"])) if len(tail) else 0.0}


@dataclass(frozen=True)
class TrainCmd(TrainConfig):
    """Train an agent on a task; re-running the same command resumes from the run's latest checkpoint."""

    def run(self) -> int:
        result = train(self)
        summary = summarize_metrics(read_metrics(result.run_dir)) if (result.run_dir / "metrics.csv").exists() else {}
        state = "interrupted (resume by re-running the command)" if result.interrupted else "done"
        print(f"{state}: {result.env_steps} env steps, {result.episodes} episodes, {result.learner_steps} "
              f"learner steps; last 20 episodes: {summary}")
        return 130 if result.interrupted else 0
