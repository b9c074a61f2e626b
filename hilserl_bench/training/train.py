"""``hilserl-bench train``: the training loop, identical for every backend, in one of three modes.

:func:`~hilserl_bench.training.run_setup.prepare_run` builds (or restores) the env,
agent, buffers and log; then the actor and learner roles
(:mod:`hilserl_bench.training.roles`) exchange transitions and parameters. In the
default synchronous mode (here) they alternate in one thread. Checkpoints are taken at
episode boundaries only, so a killed run resumes from a state in which every buffered
transition belongs to a finished episode: the interrupted episode is played again from
the same seeds, nothing is lost and nothing is stored twice. ``--mode async`` and
``--mode ray`` (:mod:`~hilserl_bench.training.async_mode`,
:mod:`~hilserl_bench.training.ray_mode`) keep that guarantee per committed episode.
"""

from __future__ import annotations

import dataclasses
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import tyro
from tqdm import tqdm

from hilserl_bench.cli_checks import check_log_backend, resolve_obs_mode
from hilserl_bench.training.config import TrainConfig
from hilserl_bench.training.roles import Actor, SyncLink
from hilserl_bench.training.run_setup import (  # noqa: F401 (RunMismatchError, build_env: public names of train)
    RunMismatchError,
    RunSetup,
    build_env,
    prepare_run,
)
from hilserl_bench.training.scripted_intervention import ScriptedIntervention


@dataclass
class TrainResult:
    """Where a finished (or interrupted) run stands."""

    run_dir: Path
    env_steps: int
    episodes: int
    learner_steps: int
    resumed_from: int | None
    interrupted: bool


def train(cfg: TrainConfig, progress: bool = True) -> TrainResult:
    """Run (or resume) training until ``cfg.env_steps`` transitions are collected, in ``cfg.mode``."""
    cfg.validate()
    check_log_backend(cfg.log)
    if cfg.mode == "ray":
        from hilserl_bench.training.ray_mode import train_ray

        return train_ray(cfg, progress)
    setup = prepare_run(cfg, progress)
    if cfg.mode == "async":
        from hilserl_bench.training.async_mode import train_async

        return train_async(setup, progress)
    return _train_sync(setup, progress)


def _train_sync(setup: RunSetup, progress: bool) -> TrainResult:
    """Actor and learner alternate in this thread: one learner step per env step, deterministic for a seed."""
    cfg, env, learner, log = setup.cfg, setup.env, setup.learner, setup.log
    if isinstance(env, ScriptedIntervention):
        env.restore(setup.env_steps, log.rows)
    actor = Actor(env, learner.policy(), cfg.seed)
    link = SyncLink(learner, cfg.publish_every)
    interrupted = False
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    bar = tqdm(total=cfg.env_steps, initial=min(setup.env_steps, cfg.env_steps), disable=not progress, unit="step",
               desc=f"{cfg.agent} {cfg.task}", file=sys.stderr)
    try:
        while setup.env_steps < cfg.env_steps:
            stats = actor.run_episode(setup.episodes, setup.env_steps, link, cfg.env_steps)
            setup.env_steps += stats.steps
            setup.episodes += 1
            log.append(stats.row())
            bar.update(stats.steps)
            bar.set_postfix(success=f"{log.recent_success():.2f}", interv=f"{log.recent_intervention_rate():.2f}")
            if setup.episodes % cfg.checkpoint_every == 0:
                setup.save()
        setup.save()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
        signal.signal(signal.SIGTERM, previous)
        setup.close()
    return TrainResult(cfg.out, setup.env_steps, setup.episodes, learner.steps, setup.resumed_from, interrupted)


def default_mode(backend: str) -> str:
    """``--mode auto``: async on a real robot (the control loop must not wait for learner updates), sync in
    simulation (deterministic for a seed)."""
    return "async" if backend == "real" else "sync"


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


def format_result(result: TrainResult, cfg: TrainConfig) -> str:
    """What a person reads when ``train`` ends: where the run is, how far it got, how it did, what next."""
    summary = summarize_metrics(read_metrics(result.run_dir)) if (result.run_dir / "metrics.csv").exists() else None
    state = "interrupted; re-run the same command to resume" if result.interrupted else "done"
    lines = [f"{state}: {cfg.agent} on {cfg.task} ({cfg.obs_mode}) in {result.run_dir}",
             f"  {result.env_steps} env steps, {result.episodes} episodes, {result.learner_steps} learner steps"]
    if summary and summary["episodes"]:
        window = min(20, summary["episodes"])
        lines.append(f"  last {window} episodes: success {100 * summary['recent_success']:.0f}%, intervention rate "
                     f"{summary['recent_intervention_rate']:.2f}, {summary['mean_steps']:.1f} steps per episode")
    lines.append(f"  evaluate: hilserl-bench eval --run {result.run_dir}")
    return "\n".join(lines)


@dataclass(frozen=True)
class TrainCmd(TrainConfig):
    """Train an agent on a task; re-running the same command resumes from the run's latest checkpoint."""

    obs_mode: Literal["state", "pixels", "noisy_state"] | None = None
    """`state`: proprioception + privileged task state (fast, sim and serve-sim only); `pixels`: the paper's
    cameras; `noisy_state`: state with a camera-sized per-episode error (docs/suite.md). Default: state with
    --backend sim, pixels with --backend real."""
    out: Annotated[Path, tyro.conf.arg(aliases=("--run",))] = Path("runs/run")
    """Run directory: config, checkpoints, metrics (`--run` is the same flag, as on eval). Re-running with the
    same directory resumes."""
    mode: Literal["auto", "sync", "async", "ray"] = "auto"
    """`auto`: async with --backend real (the robot keeps its 10 Hz loop while the learner trains), sync
    otherwise; `sync`: actor and learner alternate, deterministic for a seed; `async`: learner on its own
    thread; `ray`: --actors simulated actors and a learner as Ray actors (docs/async_and_ray.md)."""

    def config(self) -> TrainConfig:
        """The run's config, with the backend's default observation mode filled in."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(TrainConfig)}
        values["obs_mode"] = resolve_obs_mode(self.obs_mode, self.robot, self.task)
        values["mode"] = default_mode(self.robot.backend) if self.mode == "auto" else self.mode
        return TrainConfig(**values)

    def run(self) -> int:
        cfg = self.config()
        result = train(cfg)
        print(format_result(result, cfg))
        return 130 if result.interrupted else 0
