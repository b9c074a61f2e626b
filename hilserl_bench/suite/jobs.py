"""The suite's units of work, each run in its own process: record a task's demos, train and evaluate one run.

Each job is a frozen dataclass (picklable, so a spawned worker gets it whole) and its function
returns a small dict. Everything is resumable: demos are topped up to the wanted count,
``train()`` resumes from its checkpoint, and a finished evaluation is cached as
``<run>/suite_eval.json`` together with the settings it was taken with, so re-running the suite
redoes nothing that is already done (a larger budget resumes training and re-evaluates).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hilserl_bench.suite.disturbed import disturbed_evaluations

EVAL_FILE = "suite_eval.json"
"""A finished run's evaluation and the settings it belongs to."""
WINDOW = 20
"""Episodes in the running success average behind `transitions to 95%` (the paper's window)."""


@dataclass(frozen=True)
class DemoJob:
    """Record expert demos of one task in one observation mode (tops up a partial folder)."""

    task: str
    obs_mode: str
    episodes: int
    out_dir: Path
    seed: int = 0


@dataclass(frozen=True)
class RunJob:
    """Train (or resume) one variant of one task and seed, then evaluate it (cached)."""

    task: str
    obs_mode: str
    variant: str
    seed: int
    env_steps: int
    bc_steps: int
    demos: Path
    run_dir: Path
    eval_episodes: int
    eval_seed: int
    video_path: Path | None = None
    disturb_episodes: int = 0

    def settings(self) -> dict[str, Any]:
        """What a cached evaluation must match to be reused."""
        return {"task": self.task, "obs_mode": self.obs_mode, "variant": self.variant, "seed": self.seed,
                "env_steps": self.env_steps, "bc_steps": self.bc_steps, "eval_episodes": self.eval_episodes,
                "eval_seed": self.eval_seed}

    def label(self) -> str:
        return f"{self.task} {self.obs_mode} {self.variant} s{self.seed}"


def record_demos(job: DemoJob) -> dict[str, Any]:
    """Record until ``job.out_dir`` holds ``job.episodes`` demos; report how many were added."""
    from hilserl_bench.data.episode_format import episode_files
    from hilserl_bench.data.recorder import record_episodes

    start = time.monotonic()
    have = len(episode_files(job.out_dir)) if job.out_dir.is_dir() else 0
    if have < job.episodes:
        record_episodes(job.task, episodes=job.episodes - have, out_dir=job.out_dir, seed=job.seed,
                        obs_mode=job.obs_mode)
    return {"task": job.task, "obs_mode": job.obs_mode, "recorded": max(0, job.episodes - have),
            "wall_s": time.monotonic() - start}


def train_config(job: RunJob) -> Any:
    """The TrainConfig of a job (BC collects a single env step: it learns from the demos only)."""
    from hilserl_bench.suite.config import VARIANTS
    from hilserl_bench.training.config import TrainConfig

    env_steps = 1 if job.variant == "bc" else job.env_steps
    return TrainConfig(task=job.task, obs_mode=job.obs_mode, demos=job.demos, seed=job.seed, out=job.run_dir,
                       env_steps=env_steps, bc_steps=job.bc_steps, **VARIANTS[job.variant])


def cached_eval(job: RunJob) -> dict[str, Any] | None:
    """The cached evaluation of a finished run, if it was taken with ``job``'s settings."""
    path = job.run_dir / EVAL_FILE
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None
    return saved if saved.get("settings") == job.settings() else None


def train_and_evaluate(job: RunJob) -> dict[str, Any]:
    """Train (resume) and evaluate one run unless its cached evaluation matches; record its video if asked."""
    from hilserl_bench.training.checkpoint import write_json_atomic
    from hilserl_bench.training.evaluate import evaluate_run
    from hilserl_bench.training.train import train

    start = time.monotonic()
    saved = cached_eval(job)
    status = "cached"
    if saved is None:
        result = train(train_config(job), progress=False)
        if result.interrupted:
            raise KeyboardInterrupt(f"{job.label()} was interrupted; re-run the suite to resume it")
        report = evaluate_run(job.run_dir, episodes=job.eval_episodes, seed=job.eval_seed)
        saved = {"settings": job.settings(), "report": report, **run_figures(job.run_dir),
                 "wall_s": time.monotonic() - start}
        write_json_atomic(job.run_dir / EVAL_FILE, saved)
        status = "ran"
    if job.video_path is not None and not job.video_path.exists():
        record_video(job)
    disturbed = disturbed_evaluations(job) if job.disturb_episodes > 0 else []
    return {**saved, "disturbed": disturbed, "status": status, "label": job.label()}


def run_figures(run_dir: Path) -> dict[str, Any]:
    """Training figures from metrics.csv: env steps, wall time, late intervention rate, transitions to 95%."""
    from hilserl_bench.training.train import read_metrics

    metrics = read_metrics(run_dir)
    if metrics.empty:
        return {"env_steps": 0, "train_wall_s": 0.0, "final_intervention_rate": None, "transitions_to_95": None}
    return {"env_steps": int(metrics["env_steps"].iloc[-1] + metrics["steps"].iloc[-1]),
            "train_wall_s": float(metrics["wall_time_s"].sum()),
            "final_intervention_rate": float(metrics["intervention_rate"].tail(WINDOW).mean()),
            "transitions_to_95": transitions_to(metrics, 0.95)}


def transitions_to(metrics: Any, level: float, window: int = WINDOW) -> int | None:
    """Env steps at the end of the first episode where the running success over ``window`` episodes reaches
    ``level`` (episodes helped by interventions count, as in the paper's training curves); None if never.

    The running average needs ``window`` episodes behind it, so a lucky first episode does not count.
    """
    rolling = metrics["success"].astype(float).rolling(window, min_periods=window).mean()
    hits = metrics.index[rolling >= level]
    if len(hits) == 0:
        return None
    first = hits[0]
    return int(metrics.loc[first, "env_steps"] + metrics.loc[first, "steps"])


def record_video(job: RunJob) -> None:
    """One evaluation episode of the run's policy: a close view beside the policy cameras, small mp4."""
    import hilserl_bench as hb
    from hilserl_bench.data.learning_env import wrap_learning_stack
    from hilserl_bench.pictures import CloseUpView, PictureConfig
    from hilserl_bench.rollout import run_episodes
    from hilserl_bench.training.evaluate import AgentPolicy, load_policy

    raw = hb.make(job.task, obs_mode="state" if job.obs_mode == "noisy_state" else job.obs_mode,
                  render_mode="rgb_array")
    small = PictureConfig(height=160, close_width=200)  # keeps an mp4 at a few hundred KB
    env = wrap_learning_stack(CloseUpView(raw, small), noisy_state=job.obs_mode == "noisy_state")
    try:
        run_episodes(env, AgentPolicy(load_policy(job.run_dir, env)), 1, job.eval_seed, video_path=job.video_path)
    finally:
        env.close()


def as_row(result: dict[str, Any]) -> dict[str, Any]:
    """One flat table row of a run's result (what runs.csv holds)."""
    report = result["report"]
    return {**result["settings"], "eval_success": report["success_rate"],
            "eval_cycle_time_s": report["mean_cycle_time_s"], "eval_mean_steps": report["mean_steps"],
            "env_steps_done": result["env_steps"], "train_wall_min": result["train_wall_s"] / 60.0,
            "final_intervention_rate": result["final_intervention_rate"],
            "transitions_to_95": result["transitions_to_95"], "status": result.get("status", "")}


def job_dict(job: DemoJob | RunJob) -> dict[str, Any]:
    """JSON-able form of a job (for logs)."""
    return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(job).items()}
