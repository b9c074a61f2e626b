"""The suite's tables: one row per run, one row per task and obs mode beside the paper's Table 1, and curves.

Seeds are summarised as mean and standard deviation (``_mean``/``_std`` columns; the std is
0 with a single seed). The paper's figures come from each task's ``TaskBenchmark``; the episode
length and discount shown beside them are read from the task's ``TaskConfig``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hilserl_bench.suite.jobs import as_row

TABLE_FIGURES = {
    "success": ("rlpd_interv", "eval_success"),
    "cycle_time_s": ("rlpd_interv", "eval_cycle_time_s"),
    "transitions_to_95": ("rlpd_interv", "transitions_to_95"),
    "rlpd_no_interv_success": ("rlpd_no_interv", "eval_success"),
    "bc_success": ("bc", "eval_success"),
    "bc_cycle_time_s": ("bc", "eval_cycle_time_s"),
    "hgdagger_success": ("hgdagger", "eval_success"),
}
"""Our figure -> (variant, runs.csv column) it summarises over seeds."""


def runs_table(run_results: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per run (task, obs mode, variant, seed)."""
    frame = pd.DataFrame([as_row(r) for r in run_results])
    return frame.sort_values(["task", "obs_mode", "variant", "seed"], ignore_index=True) if len(frame) else frame


def task_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per task and obs mode: our figures (mean, std over seeds) beside the paper's Table 1."""
    from hilserl_bench import registry
    from hilserl_bench.benchmark_spec import benchmark_of

    if runs.empty:
        return pd.DataFrame()
    rows = []
    for (task, obs_mode), group in runs.groupby(["task", "obs_mode"], sort=True):
        spec, config = benchmark_of(task), registry.task_class(task).default_config()
        row: dict[str, Any] = {"task": task, "obs_mode": obs_mode, "seeds": int(group["seed"].nunique()),
                               "env_steps": int(group["env_steps"].max()),
                               "eval_episodes": int(group["eval_episodes"].max()),
                               "max_steps": config.max_steps, "discount": config.discount}
        for name, (variant, column) in TABLE_FIGURES.items():
            values = pd.to_numeric(group.loc[group["variant"] == variant, column], errors="coerce")
            row[f"{name}_mean"] = float(values.mean()) if values.notna().any() else np.nan
            row[f"{name}_std"] = float(values.std(ddof=0)) if values.notna().any() else np.nan
        row.update({"paper_success": spec.paper_success, "paper_cycle_time_s": spec.paper_cycle_time_s,
                    "paper_bc_success": spec.paper_bc_success, "paper_bc_cycle_time_s": spec.paper_bc_cycle_time_s,
                    "paper_env_steps": spec.paper_env_steps, "paper_hours": spec.paper_hours,
                    "num_demos": spec.num_demos})
        rows.append(row)
    return pd.DataFrame(rows)


def curves_table(runs: pd.DataFrame, run_dirs: dict[tuple, Path], bins: int) -> pd.DataFrame:
    """Success and intervention rate per bin of env steps for every RL run (``bins`` bins over its budget)."""
    from hilserl_bench.training.train import read_metrics

    frames = []
    for key, run_dir in run_dirs.items():
        task, obs_mode, variant, seed = key
        if variant == "bc" or not (run_dir / "metrics.csv").is_file():
            continue
        metrics = read_metrics(run_dir)
        if metrics.empty:
            continue
        width = max(1, int(np.ceil((metrics["env_steps"].iloc[-1] + metrics["steps"].iloc[-1]) / bins)))
        binned = curve(metrics, width)
        frames.append(binned.reset_index().assign(task=task, obs_mode=obs_mode, variant=variant, seed=seed))
    if not frames:
        return pd.DataFrame(columns=["task", "obs_mode", "variant", "seed", "bin", "success", "intervention_rate"])
    columns = ["task", "obs_mode", "variant", "seed", "bin", "success", "intervention_rate", "episodes"]
    return pd.concat(frames, ignore_index=True)[columns]


def curve(metrics: pd.DataFrame, bin_steps: int) -> pd.DataFrame:
    """Success and intervention rate per bin of ``bin_steps`` env steps (bins labelled by their start)."""
    frame = metrics.assign(bin=(metrics["env_steps"] // bin_steps) * bin_steps)
    return frame.groupby("bin").agg(success=("success", "mean"), intervention_rate=("intervention_rate", "mean"),
                                    episodes=("episode", "count"))


def percent(mean: float, std: float, seeds: int) -> str:
    """``97%`` or ``97 +/- 2%`` (with more than one seed); ``-`` when missing."""
    if pd.isna(mean):
        return "-"
    return f"{100 * mean:.0f}%" if seeds < 2 else f"{100 * mean:.0f} ± {100 * std:.0f}%"


def number(mean: float, std: float, seeds: int, digits: int = 1) -> str:
    """A mean (and spread with more than one seed); ``-`` when missing."""
    if pd.isna(mean):
        return "-"
    return f"{mean:.{digits}f}" if seeds < 2 else f"{mean:.{digits}f} ± {std:.{digits}f}"


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The task table as people read it: ours beside the paper's, one column per figure."""
    rows = []
    for _, r in table.iterrows():
        n = int(r["seeds"])
        paper_cycle = "-" if pd.isna(r["paper_cycle_time_s"]) else f"{r['paper_cycle_time_s']:.1f}"
        rows.append({
            "task": r["task"], "obs": r["obs_mode"], "env steps (paper)": f"{r['env_steps']} ({r['paper_env_steps']})",
            "success (paper)": f"{percent(r['success_mean'], r['success_std'], n)} ({100 * r['paper_success']:.0f}%)",
            "cycle s (paper)": f"{number(r['cycle_time_s_mean'], r['cycle_time_s_std'], n)} ({paper_cycle})",
            "RLPD no interv.": percent(r["rlpd_no_interv_success_mean"], r["rlpd_no_interv_success_std"], n),
            "BC (paper)": f"{percent(r['bc_success_mean'], r['bc_success_std'], n)} "
                          f"({100 * r['paper_bc_success']:.0f}%)",
            "HG-DAgger": percent(r["hgdagger_success_mean"], r["hgdagger_success_std"], n),
            "steps to 95%": number(r["transitions_to_95_mean"], r["transitions_to_95_std"], n, 0),
        })
    return pd.DataFrame(rows)


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    """Atomic CSV, floats rounded to 6 decimals."""
    from hilserl_bench.rollout import atomic_output

    with atomic_output(path) as tmp:
        frame.round(6).to_csv(tmp, index=False)
