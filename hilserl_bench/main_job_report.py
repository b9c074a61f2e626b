"""The main job's table beside the paper's Table 1, and its one-page HTML report (the suite's report code).

``hilserl-bench run`` is the quick suite on the default task set: scripted expert, random
policy and a quick BC per task, evaluated through the same episode loop. This turns its summary
into one row per task next to the paper's real-robot figures (HIL-SERL and BC success and cycle
time, from each task's ``TaskBenchmark``) and writes ``table.csv`` and ``report.html`` (with the
expert videos) beside ``summary.csv``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

TABLE_FILE = "table.csv"
REPORT_FILE = "report.html"
PAPER_COLUMNS = ("paper_success", "paper_cycle_time_s", "paper_bc_success", "paper_bc_cycle_time_s")


def paper_table(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per task: expert, random and BC success and cycle time here, the paper's beside them."""
    from hilserl_bench import registry

    rows = []
    for task, group in summary.groupby("task", sort=True):
        by_policy = group.set_index("policy")
        bc = [p for p in by_policy.index if str(p).startswith("bc")]
        spec = getattr(registry.task_class(task), "benchmark", None)  # test tasks may have none
        paper = {name: getattr(spec, name, None) for name in PAPER_COLUMNS}

        def figure(policy: str | None, column: str, by_policy: pd.DataFrame = by_policy) -> float:
            return float(by_policy.loc[policy, column]) if policy in by_policy.index else float("nan")

        rows.append({"task": task, "expert_success": figure("expert", "success_rate"),
                     "expert_cycle_time_s": figure("expert", "mean_cycle_time_s"),
                     "random_success": figure("random", "success_rate"),
                     "bc_success": figure(bc[0] if bc else None, "success_rate"),
                     "bc_cycle_time_s": figure(bc[0] if bc else None, "mean_cycle_time_s"),
                     **paper})
    return pd.DataFrame(rows)


def write_main_report(out: Path, summary: pd.DataFrame, episodes: int, videos: bool) -> pd.DataFrame:
    """Write ``table.csv`` and ``report.html`` in ``out``; returns the table."""
    from hilserl_bench.suite.report import write_report
    from hilserl_bench.suite.tables import write_csv

    table = paper_table(summary)
    write_csv(out / TABLE_FILE, table)
    shown = table.copy()
    for column in shown.columns:
        if column.endswith("success"):
            shown[column] = shown[column].map(lambda v: "-" if pd.isna(v) else f"{100 * float(v):.0f}%")
        elif column.endswith("_s"):
            shown[column] = shown[column].map(lambda v: "-" if pd.isna(v) else f"{float(v):.1f}")
    media = {task: {"video": out / f"{task}.mp4"} for task in table["task"]
             if videos and (out / f"{task}.mp4").is_file()}
    write_report(out / REPORT_FILE, "hilserl-bench run: the quick suite",
                 f"Scripted expert, random policy and a quick BC per task, {episodes} evaluation episodes each, "
                 "beside the paper's real-robot Table 1 (HIL-SERL and BC). RL runs: `hilserl-bench suite`.",
                 [("Per task, beside the paper", shown), ("Every policy", summary.round(3))], media,
                 ["Videos: the first expert episode of each task."], "hilserl-bench run")
    return table
