"""The main job: every task's scripted expert and random policy, rolled out and recorded.

``hilserl-bench run`` is the one command that shows the benchmark works end to end
on a fresh machine: each task builds, resets, steps, reports success through the
one ``evaluate()``, and its expert solves it where the random policy does not. A
quick baseline stage then records 10 expert demos per task and trains BC on them
through the same record/train/eval code as the CLI. It writes, atomically:

- ``<out>/rollouts.csv``: one row per episode (task, policy, seed, success, steps,
  cycle time, return, worst penetration in mm),
- ``<out>/summary.csv``: one row per task and policy (what the terminal table shows),
- ``<out>/<task>.mp4``: the first expert episode: a close view beside the policy cameras,
- ``<out>/demos/<task>_state/`` and ``<out>/baselines/<task>_bc/``: the baseline stage's
  demos and BC run,
- ``<out>/table.csv`` and ``<out>/report.html``: one row per task beside the paper's Table 1, and a
  one-page report with the videos (:mod:`hilserl_bench.main_job_report`; RL runs are ``hilserl-bench suite``),
- ``<out>/run.json``: the settings of the run these files come from, and the list of them.

A results folder always holds one run: before starting, the outputs listed in the
previous ``run.json`` are removed, so a re-run with other settings (another seed, fewer
tasks) never leaves CSVs of one run beside videos of another, and BC is always trained
afresh instead of a stale checkpoint being resumed. Nothing a run.json does not list is
ever deleted; a baseline folder in the way that none lists is refused with a hint.

The README's per-task pictures come from :mod:`hilserl_bench.readme_pictures`.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

import pandas as pd

import hilserl_bench as hb
from hilserl_bench.cli_checks import DEFAULT_EPISODES, check_out_dir, check_positive, round_floats
from hilserl_bench.errors import UserFacingError
from hilserl_bench.policies import PolicyName, make_policy
from hilserl_bench.rendering import require_renderer
from hilserl_bench.rollout import atomic_output, run_episodes, summarize

RUN_FILE = "run.json"
"""The settings and output list of the run a results folder holds."""
SUMMARY_COLUMNS = ["task", "policy", "episodes", "success_rate", "mean_steps", "mean_cycle_time_s",
                   "mean_return", "max_penetration_mm"]


@dataclass(frozen=True)
class RunConfig:
    """The main job: roll out every task's expert and random policy, then a quick BC baseline per task.

    Writes <out>/rollouts.csv, <out>/summary.csv, <out>/table.csv (beside the paper's Table 1),
    <out>/report.html, one mp4 per task, the baseline stage's <out>/demos/ and <out>/baselines/,
    and <out>/run.json (these settings). Re-running
    replaces the previous run's outputs in <out>.
    """

    out: Path = Path("results")
    """Folder for rollouts.csv, summary.csv, run.json, one mp4 per task, demos/ and baselines/."""
    episodes: int = DEFAULT_EPISODES
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
    """Also run the quick baseline stage (about 30 s per task on 2 cores): record 10 expert demos per task into
    <out>/demos/, train BC on them (--baseline-steps) into <out>/baselines/, evaluate it like the policies."""
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
    check_positive(config.episodes, "--episodes")
    check_out_dir(config.out)
    task_ids = resolve_tasks(config.tasks)
    if config.video:
        require_renderer()
    clear_previous_run(config.out, task_ids, config.baselines)
    outputs = planned_outputs(config, task_ids)
    write_run_file(config, task_ids, outputs, complete=False)
    rows, summaries = [], []
    total = len(task_ids) * len(config.policies) * config.episodes
    with tqdm(total=total, unit="ep", dynamic_ncols=True, file=sys.stderr) as bar:
        for task in task_ids:
            for name in config.policies:
                bar.set_description(f"{task} [{name}]")
                record = config.video and name == "expert"
                env = hb.make(task, obs_mode="state", render_mode="rgb_array" if record else None)
                if record:
                    from hilserl_bench.pictures import CloseUpView

                    env = CloseUpView(env)
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
        summaries.extend(run_baseline_stage(config, task_ids, stream))
    episodes = pd.DataFrame(rows)
    summary = pd.DataFrame(summaries).reindex(columns=SUMMARY_COLUMNS)
    write_csv(config.out / "rollouts.csv", episodes)
    write_csv(config.out / "summary.csv", summary)
    from hilserl_bench.main_job_report import write_main_report

    write_main_report(config.out, summary, config.episodes, config.video and "expert" in config.policies)
    write_run_file(config, task_ids, outputs, complete=True)
    print(format_summary(summary), file=stream)
    written = [f"{config.out / 'rollouts.csv'}", f"{config.out / 'summary.csv'}",
               f"{config.out / 'table.csv'} (beside the paper's Table 1)", f"{config.out / 'report.html'}"]
    if config.video and "expert" in config.policies:
        written.append(f"{len(task_ids)} videos ({config.out}/<task>.mp4)")
    if config.baselines:
        written.append(f"BC demos and runs ({config.out / 'demos'}, {config.out / 'baselines'})")
    print(f"\nwrote {', '.join(written)}; settings in {config.out / RUN_FILE}", file=stream)
    return summary


def planned_outputs(config: RunConfig, task_ids: list[str]) -> list[str]:
    """Paths (relative to ``config.out``) this run writes: the ones the next run removes first."""
    outputs = ["rollouts.csv", "summary.csv", "table.csv", "report.html"]
    if config.video and "expert" in config.policies:
        outputs += [f"{task}.mp4" for task in task_ids]
    if config.baselines:
        outputs += [f"demos/{task}_state" for task in task_ids] + [f"baselines/{task}_bc" for task in task_ids]
    return outputs


def clear_previous_run(out: Path, task_ids: list[str], baselines: bool = True) -> None:
    """Remove what the previous run in ``out`` wrote, as its run.json lists; never anything else.

    A baseline-stage folder this run needs that no run.json accounts for (left by an older
    version, or a person's own recording at the same path) is refused with a one-line hint
    instead of being resumed stale or deleted.
    """
    previous: list[str] = []
    run_file = out / RUN_FILE
    if run_file.is_file():
        try:
            previous = list(json.loads(run_file.read_text()).get("outputs", []))
        except (json.JSONDecodeError, AttributeError):
            previous = []
    root = out.resolve()
    for name in previous:
        path = (out / name).resolve()
        if root not in path.parents:
            continue
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    needed = [f"demos/{task}_state" for task in task_ids] + [f"baselines/{task}_bc" for task in task_ids]
    stale = [name for name in needed if baselines and (out / name).exists()]
    if stale:
        raise UserFacingError(f"{out / stale[0]} exists but no {out / RUN_FILE} says this job wrote it; move it "
                              "away, or give another --out (or --no-baselines)")


def write_run_file(config: RunConfig, task_ids: list[str], outputs: list[str], complete: bool) -> None:
    """``<out>/run.json``: this run's settings, the files it writes, and whether it finished."""
    from hilserl_bench.training.checkpoint import write_json_atomic

    settings = {k: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v)
                for k, v in asdict(config).items()}
    config.out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(config.out / RUN_FILE, {
        "command": "hilserl-bench run", "version": hb.__version__, "settings": settings, "tasks": task_ids,
        "complete": complete, "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "outputs": outputs,
    })


def run_baseline_stage(config: RunConfig, task_ids: list[str], stream: TextIO | None = None) -> list[dict]:
    """BC trained on 10 recorded expert demos per task, through the same record/train/eval code as the CLI."""
    from tqdm import tqdm

    from hilserl_bench.data.recorder import record_episodes
    from hilserl_bench.training.config import TrainConfig
    from hilserl_bench.training.evaluate import evaluate_run
    from hilserl_bench.training.train import train

    print(f"baseline stage: BC on 10 expert demos per task, {config.baseline_steps} gradient steps each",
          file=stream or sys.stdout, flush=True)
    summaries = []
    for task in task_ids:
        demos = config.out / "demos" / f"{task}_state"
        with tqdm(total=10, unit="ep", desc=f"record {task} demos", file=sys.stderr) as bar:
            record_episodes(task, episodes=10, out_dir=demos, seed=config.seed, obs_mode="state", progress=bar)
        run = config.out / "baselines" / f"{task}_bc"
        train(TrainConfig(task=task, agent="bc", demos=demos, env_steps=1, bc_steps=config.baseline_steps,
                          out=run, seed=config.seed), progress=True)
        report = evaluate_run(run, episodes=config.episodes, seed=config.seed + 10_000, progress=True)
        summaries.append({"task": task, "policy": f"bc ({config.baseline_steps} steps, 10 demos)",
                          "episodes": config.episodes, "success_rate": report["success_rate"],
                          "mean_steps": report["mean_steps"], "mean_cycle_time_s": report["mean_cycle_time_s"]})
    return summaries


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    """Write a table atomically (temp file + rename)."""
    rounded = frame.apply(lambda column: column.map(round_floats) if column.dtype == object else column)
    with atomic_output(path) as tmp:
        rounded.round(6).to_csv(tmp, index=False)


def format_summary(summary: pd.DataFrame) -> str:
    """Terminal table: success as a percentage, times and depths rounded, missing values as '-'."""
    shown = summary.copy()
    shown["success_rate"] = (100.0 * shown["success_rate"]).map("{:.0f}%".format)
    for column, digits in (("mean_steps", 1), ("mean_cycle_time_s", 2), ("mean_return", 2), ("max_penetration_mm", 2)):
        shown[column] = shown[column].map(lambda v, d=digits: "-" if pd.isna(v) else f"{v:.{d}f}")
    shown.columns = ["task", "policy", "episodes", "success", "steps", "cycle s", "return", "max pen. mm"]
    return shown.to_string(index=False)
