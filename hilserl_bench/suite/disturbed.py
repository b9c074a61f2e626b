"""The suite's robustness section: every state-mode run evaluated under its task's disturbance kinds.

The paper shows qualitatively that HIL-SERL policies recover from pushes and moved parts where
imitation policies do not; here each trained run is evaluated under every kind its task defines
(:mod:`hilserl_bench.disturbances`) with the same evaluation seeds as its undisturbed figure, so
the two columns differ only by the disturbance. Results are cached per run and kind in
``disturbed.json`` (written after each kind), so an interrupted suite resumes where it stopped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from hilserl_bench.robustness import UNDISTURBED

if TYPE_CHECKING:
    from hilserl_bench.suite.jobs import RunJob

CACHE_FILE = "disturbed.json"
COLUMNS = ["task", "obs_mode", "variant", "seed", "policy", "disturbance", "episodes", "success_rate",
           "success_rate_when_applied", "mean_cycle_time_s", "applied_rate"]


def disturbed_evaluations(job: RunJob) -> list[dict[str, Any]]:
    """``job``'s run evaluated under each state-visible kind of its task (cached per kind)."""
    from hilserl_bench.robustness import evaluate_disturbed
    from hilserl_bench.robustness_plot import state_kinds
    from hilserl_bench.training.checkpoint import write_json_atomic

    path = job.run_dir / CACHE_FILE
    try:
        cache = json.loads(path.read_text()) if path.is_file() else {}
    except json.JSONDecodeError:
        cache = {}
    out = []
    for kind in state_kinds(job.task)[1:]:
        settings = {**job.settings(), "disturbance": kind, "disturb_episodes": job.disturb_episodes}
        entry = cache.get(kind)
        if entry is None or entry.get("settings") != settings:
            report = evaluate_disturbed(job.run_dir, kind, job.disturb_episodes, job.eval_seed)
            entry = cache[kind] = {"settings": settings, "report": report}
            write_json_atomic(path, cache)
        out.append(entry["report"])
    return out


def disturbed_table(run_results: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per run and kind, with the run's undisturbed evaluation as the ``none`` row."""
    rows = []
    for result in run_results:
        if not result.get("disturbed"):
            continue
        s = result["settings"]
        policy = f"{s['variant']} s{s['seed']}"
        for report in [{**result["report"], "disturbance": UNDISTURBED}, *result["disturbed"]]:
            rows.append({"task": s["task"], "obs_mode": s["obs_mode"], "variant": s["variant"], "seed": s["seed"],
                         "policy": policy, **{k: report.get(k) for k in COLUMNS[5:]}})
    return pd.DataFrame(rows, columns=COLUMNS)


def success_grid(table: pd.DataFrame) -> pd.DataFrame:
    """The report's view: one row per task and policy, one column per kind, success rate in percent."""
    if table.empty:
        return table
    grid = table.pivot_table(index=["task", "policy"], columns="disturbance", values="success_rate", sort=False)
    kinds = [UNDISTURBED, *(k for k in dict.fromkeys(table["disturbance"]) if k != UNDISTURBED)]
    return (grid.reindex(columns=kinds) * 100).round(0).reset_index()


def plot_disturbed(table: pd.DataFrame, plots: Path) -> dict[str, Path]:
    """One bar plot per task (success and cycle time per kind and policy)."""
    from hilserl_bench.robustness_plot import plot_task

    return {task: plot_task(task, rows, plots / f"{task}_disturbed.png")
            for task, rows in table.groupby("task", sort=False)}
