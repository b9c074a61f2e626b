"""The main job: every task's scripted expert and random policy, rolled out and recorded.

``hilserl-bench run`` is the one command that shows the benchmark works end to end
on a fresh machine: each task builds, resets, steps, reports success through the
one ``evaluate()``, and its expert solves it where the random policy does not. It
writes, atomically:

- ``<out>/rollouts.csv``: one row per episode (task, policy, seed, success, steps,
  cycle time, return, worst penetration in mm),
- ``<out>/summary.csv``: one row per task and policy (what the terminal table shows),
- ``<out>/<task>.mp4``: the first expert episode seen by the overview camera.

``render_readme`` makes the per-task pictures the README shows.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

import pandas as pd

import hilserl_bench as hb
from hilserl_bench.policies import PolicyName, make_policy
from hilserl_bench.rendering import require_renderer
from hilserl_bench.rollout import atomic_output, run_episodes, summarize, write_png

SUMMARY_COLUMNS = ["task", "policy", "episodes", "success_rate", "mean_steps", "mean_cycle_time_s",
                   "mean_return", "max_penetration_mm"]


@dataclass(frozen=True)
class RunConfig:
    """The main job: roll out every task's expert and random policy; write CSVs and one mp4 per task."""

    out: Path = Path("results")
    """Folder for rollouts.csv, summary.csv and one mp4 per task."""
    episodes: int = 20
    """Episodes per task and policy (20 keeps every task within a few minutes on 2 CPU cores)."""
    seed: int = 0
    """Episode i of each task and policy uses seed + i."""
    tasks: tuple[str, ...] = ()
    """Task ids to run; empty runs every registered task."""
    policies: tuple[PolicyName, ...] = ("expert", "random")
    """Policies to roll out for each task."""
    noise: float = 0.0
    """Action-noise scale passed to the scripted experts."""
    video: bool = True
    """Record the first expert episode of each task to <out>/<task>.mp4 (needs headless OpenGL)."""
    baselines: bool = True
    """Also run the quick baseline stage: BC on 10 expert demos per task (2000 steps), evaluated like the policies."""
    baseline_steps: int = 2000
    """BC gradient steps in the quick baseline stage (the paper's BC uses 20k; this fits a 2-core CPU)."""


def resolve_tasks(tasks: tuple[str, ...] | list[str]) -> list[str]:
    """Requested ids checked against the registry (all ids when empty), before any work starts."""
    from hilserl_bench import registry

    if not tasks:
        return list(hb.tasks())
    for task in tasks:
        registry.task_class(task)
    return list(tasks)


def run_main_job(config: RunConfig, stream: TextIO | None = None) -> pd.DataFrame:
    """Run the job described by ``config``; returns the per-task, per-policy summary table."""
    from tqdm import tqdm

    stream = stream or sys.stdout
    if config.episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {config.episodes}")
    task_ids = resolve_tasks(config.tasks)
    if config.video:
        require_renderer()
    rows, summaries = [], []
    total = len(task_ids) * len(config.policies) * config.episodes
    with tqdm(total=total, unit="ep", dynamic_ncols=True) as bar:
        for task in task_ids:
            for name in config.policies:
                bar.set_description(f"{task} [{name}]")
                record = config.video and name == "expert"
                env = hb.make(task, obs_mode="state", render_mode="rgb_array" if record else None)
                try:
                    policy = make_policy(name, env, noise=config.noise)
                    video = config.out / f"{task}.mp4" if record else None
                    results = run_episodes(env, policy, config.episodes, config.seed, video_path=video,
                                           progress=bar)
                finally:
                    env.close()
                for i, result in enumerate(results):
                    row = {"task": task, "policy": name, "episode": i, "seed": config.seed + i, **asdict(result)}
                    row["return"] = row.pop("return_")
                    penetration = row.pop("max_penetration")
                    row["max_penetration_mm"] = None if penetration is None else 1000.0 * penetration
                    rows.append(row)
                summaries.append({"task": task, "policy": name, **summarize(results)})
    if config.baselines:
        summaries.extend(run_baseline_stage(config, task_ids))
    episodes = pd.DataFrame(rows)
    summary = pd.DataFrame(summaries).reindex(columns=SUMMARY_COLUMNS)
    write_csv(config.out / "rollouts.csv", episodes)
    write_csv(config.out / "summary.csv", summary)
    print(format_summary(summary), file=stream)
    print(f"\nwrote {config.out / 'rollouts.csv'}, {config.out / 'summary.csv'}"
          + (f" and {len(task_ids)} videos" if config.video and "expert" in config.policies else ""), file=stream)
    return summary


def run_baseline_stage(config: RunConfig, task_ids: list[str]) -> list[dict]:
    """BC trained on 10 recorded expert demos per task, through the same record/train/eval code as the CLI."""
    from hilserl_bench.data.recorder import record_episodes
    from hilserl_bench.training.config import TrainConfig
    from hilserl_bench.training.evaluate import evaluate_run
    from hilserl_bench.training.train import train

    summaries = []
    for task in task_ids:
        demos = config.out / "demos" / f"{task}_state"
        if len(list(demos.glob("episode_*.npz"))) < 10:
            record_episodes(task, episodes=10, out_dir=demos, seed=config.seed, obs_mode="state")
        run = config.out / "baselines" / f"{task}_bc"
        train(TrainConfig(task=task, agent="bc", demos=demos, env_steps=1, bc_steps=config.baseline_steps,
                          out=run, seed=config.seed), progress=False)
        report = evaluate_run(run, episodes=config.episodes, seed=config.seed + 10_000)
        summaries.append({"task": task, "policy": f"bc ({config.baseline_steps} steps, 10 demos)",
                          "episodes": config.episodes, "success_rate": report["success_rate"],
                          "mean_steps": report["mean_steps"], "mean_cycle_time_s": report["mean_cycle_time_s"]})
    return summaries


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    """Write a table atomically (temp file + rename)."""
    with atomic_output(path) as tmp:
        frame.to_csv(tmp, index=False)


def format_summary(summary: pd.DataFrame) -> str:
    """Terminal table: success as a percentage, times and depths rounded, missing values as '-'."""
    shown = summary.copy()
    shown["success_rate"] = (100.0 * shown["success_rate"]).map("{:.0f}%".format)
    for column, digits in (("mean_steps", 1), ("mean_cycle_time_s", 2), ("mean_return", 2), ("max_penetration_mm", 2)):
        shown[column] = shown[column].map(lambda v, d=digits: "-" if pd.isna(v) else f"{v:.{d}f}")
    shown.columns = ["task", "policy", "episodes", "success", "steps", "cycle s", "return", "max pen. mm"]
    return shown.to_string(index=False)


@dataclass(frozen=True)
class RenderReadmeConfig:
    """Write one overview picture per task (after reset) for the README: docs/images/<task_id>.png."""

    out: Path = Path("docs/images")
    """Folder for one <task_id>.png per task."""
    seed: int = 0
    """Reset seed of the pictured episode start."""
    tasks: tuple[str, ...] = ()
    """Task ids to picture; empty pictures every registered task."""


def render_readme(config: RenderReadmeConfig, stream: TextIO | None = None) -> list[Path]:
    """Write the overview-camera picture of each task just after reset; returns the paths.

    Prints the README's task table (id, arms, action size, cameras, description,
    picture) so that it can be pasted and stays in step with the registry.
    """
    from hilserl_bench import registry

    stream = stream or sys.stdout
    task_ids = resolve_tasks(config.tasks)
    require_renderer()
    paths, lines = [], ["| task | arms | action dims | policy cameras | description | picture |",
                        "| --- | --- | --- | --- | --- | --- |"]
    for task in task_ids:
        env = hb.make(task, obs_mode="state", render_mode="rgb_array")
        try:
            env.reset(seed=config.seed)
            path = config.out / f"{task}.png"
            write_png(path, env.render())
        finally:
            env.close()
        paths.append(path)
        cls = registry.task_class(task)
        lines.append(f"| `{task}` | {len(cls.arms)} | {env.action_space.shape[0]} | {', '.join(cls.cameras)} "
                     f"| {cls.description} | ![{task}]({path.as_posix()}) |")
    print("\n".join(lines), file=stream)
    return paths
