"""Robustness table: success and cycle time under each disturbance beside the undisturbed figures, per task.

    python benchmarks/robustness.py                                # every task's scripted expert
    python benchmarks/robustness.py --tasks ram_insertion --runs runs/ram/rlpd_s0 runs/ram/bc_s0 --no-experts
    python benchmarks/robustness.py --tasks ram_insertion --no-experts --merge OTHER_OUT   # join another run's rows

For each task, the scripted expert (``--no-experts`` skips it) and each trained run given with
``--runs`` are rolled out undisturbed and under every kind in the task's ``disturbances``,
over the same seeds (experts from ``--seed``, runs from ``--eval-seed``, as ``eval`` does).
Pixels-only kinds (lighting) are skipped for state-observation policies: they cannot change
what such a policy sees (the physics is untouched; ``tests/test_disturbances.py`` checks that).

Writes, under ``--out``: ``robustness.csv`` (one row per task, policy and kind), ``episodes.csv``
(one row per episode, with the step each disturbance acted at) and ``<task>.png`` (success and
cycle time bars per kind and policy). Rows already in ``robustness.csv`` with the same episode
count are kept and not re-run, so an interrupted run resumes by re-running the command.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

import hilserl_bench as hb
from hilserl_bench.robustness import evaluate_disturbed, expert_disturbed, format_table
from hilserl_bench.robustness_plot import plot_task, state_kinds
from hilserl_bench.rollout import atomic_output

KEY = ["task", "policy", "disturbance"]
COLUMNS = KEY + ["obs_mode", "episodes", "success_rate", "success_rate_when_applied", "mean_cycle_time_s",
                 "mean_steps", "applied_rate", "max_penetration_mm"]


def run_row(run: Path, kind: str, episodes: int, seed: int, records: list[dict[str, Any]]) -> dict[str, Any]:
    report = evaluate_disturbed(run, kind, episodes, seed, records=records)
    return {**report, "policy": f"{report['agent']} ({run.name})"}


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic_output(path) as tmp:
        frame.to_csv(tmp, index=False)


def markdown(table: pd.DataFrame) -> str:
    """One row per task and policy, one column per kind: success rate (mean cycle time, s)."""
    kinds = list(dict.fromkeys(table["disturbance"]))
    lines = ["| task | policy | " + " | ".join(kinds) + " |", "| --- | --- |" + " --- |" * len(kinds)]
    for (task, policy), rows in table.groupby(["task", "policy"], sort=False):
        by_kind = rows.set_index("disturbance")
        cells = []
        for kind in kinds:
            if kind not in by_kind.index:
                cells.append("")
                continue
            row = by_kind.loc[kind]
            cycle = pd.to_numeric(row["mean_cycle_time_s"], errors="coerce")
            cells.append(f"{float(row['success_rate']):.0%}" + ("" if pd.isna(cycle) else f" ({cycle:.1f} s)"))
        lines.append(f"| {task} | {policy} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", nargs="*", default=None, help="task ids (default: every task)")
    parser.add_argument("--runs", nargs="*", type=Path, default=[], help="training run folders to evaluate too")
    parser.add_argument("--no-experts", action="store_true", help="skip the scripted experts")
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0, help="first expert episode seed")
    parser.add_argument("--eval-seed", type=int, default=10_000, help="first seed for trained runs (as eval)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/robustness"))
    parser.add_argument("--markdown", action="store_true", help="also print one markdown table of every row")
    parser.add_argument("--merge", type=Path, nargs="*", default=[],
                        help="--out folders of other runs of this script whose rows join this one's (same key: theirs)")
    args = parser.parse_args()
    from hilserl_bench.training.config import TrainConfig

    run_tasks = {run: TrainConfig.load(run).task for run in args.runs}
    tasks = args.tasks or (sorted(set(run_tasks.values())) if args.no_experts else hb.tasks())
    table_path, episodes_path = args.out / "robustness.csv", args.out / "episodes.csv"
    table = pd.read_csv(table_path) if table_path.exists() else pd.DataFrame(columns=COLUMNS)
    episodes = pd.read_csv(episodes_path) if episodes_path.exists() else pd.DataFrame()
    for other in args.merge:
        theirs, their_episodes = pd.read_csv(other / "robustness.csv"), pd.read_csv(other / "episodes.csv")
        table = pd.concat([table, theirs]).drop_duplicates(KEY, keep="last").reset_index(drop=True)
        episodes = pd.concat([episodes, their_episodes]).drop_duplicates(["task", "policy", "kind", "episode"],
                                                                         keep="last").reset_index(drop=True)
    if args.merge:
        write_csv(table, table_path)
        write_csv(episodes, episodes_path)
    for task in tasks:
        jobs = [] if args.no_experts else [("expert", None)]
        jobs += [(None, run) for run, t in run_tasks.items() if t == task]
        for expert, run in jobs:
            for kind in state_kinds(task):
                policy = expert or f"{TrainConfig.load(run).agent} ({run.name})"
                done = table[(table["task"] == task) & (table["policy"] == policy) & (table["disturbance"] == kind)]
                if len(done) and int(done["episodes"].iloc[0]) == args.episodes:
                    continue
                records: list[dict[str, Any]] = []
                row = (expert_disturbed(task, kind, args.episodes, args.seed, records=records) if expert
                       else run_row(run, kind, args.episodes, args.eval_seed, records))
                print(f"{task:20s} {policy:24s} {kind:16s} success {row['success_rate']:.2f}", flush=True)
                table = pd.concat([table.drop(done.index), pd.DataFrame([{c: row.get(c) for c in COLUMNS}])],
                                  ignore_index=True)
                new = pd.DataFrame(records).assign(task=task, policy=policy)
                if len(episodes):
                    stale = (episodes["task"] == task) & (episodes["policy"] == policy) & (episodes["kind"] == kind)
                    episodes = episodes[~stale]
                episodes = pd.concat([episodes, new], ignore_index=True)
                write_csv(table, table_path)
                write_csv(episodes, episodes_path)
        rows = table[table["task"] == task]
        if len(rows):
            plot_task(task, rows, args.out / f"{task}.png")
    for task in tasks:
        rows = table[table["task"] == task]
        for policy in dict.fromkeys(rows["policy"]):
            print(f"\n{task} / {policy}")
            print(format_table(rows[rows["policy"] == policy].to_dict("records")))
    if args.markdown:
        print("\n" + markdown(table[table["task"].isin(tasks)]))


if __name__ == "__main__":
    main()
