"""Learning benchmark: RLPD with demos + scripted interventions against the paper's baselines.

Runs (or resumes; finished runs cost nothing) every configuration of the paper's
Table 1b comparison on one task in state mode, evaluates each for ``--eval-episodes``,
and prints one table; ``--json`` prints the same as one JSON object. The table and the
curves (success and intervention rate vs env steps, binned) go to
``benchmarks/results/<task>_table.csv`` and ``<task>_curves.csv`` (``--results``), small
files that are committed because README figures come from them; runs and demos stay
under ``--out`` (git-ignored). ``own_success`` is the policy's success
without help: the supervisor's probe episodes in intervention runs (see
``hilserl_bench.training.intervention_budget``), every episode otherwise.

    python benchmarks/learning_table.py --task ram_insertion --seeds 0 1 2
    python benchmarks/learning_table.py --task usb_insertion --env-steps 50000 --seeds 0 1 2
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import tyro

from hilserl_bench.cli_checks import round_floats
from hilserl_bench.data.recorder import record_episodes
from hilserl_bench.rollout import atomic_output
from hilserl_bench.training.config import TrainConfig
from hilserl_bench.training.evaluate import evaluate_run
from hilserl_bench.training.train import read_metrics, train

VARIANTS = {
    "rlpd_interv": {"agent": "rlpd", "interventions": "scripted"},
    "rlpd_no_interv": {"agent": "rlpd", "interventions": "none"},
    "hgdagger": {"agent": "hgdagger", "interventions": "scripted"},
    "bc": {"agent": "bc", "interventions": "none", "env_steps": 1},
}


@dataclass(frozen=True)
class LearningTable:
    """Train and evaluate every variant; print the comparison."""

    task: str = "ram_insertion"
    """Task id."""
    seeds: tuple[int, ...] = (0, 1, 2)
    """Seeds of the main variant (RLPD + interventions); the baselines run with the first seed."""
    env_steps: int = 32_000
    """Env steps per run (the paper's RAM budget)."""
    demos: Path | None = None
    """Folder of recorded demos, as `train --demos PATH` (default: record --num-demos into <out>/demos/)."""
    num_demos: int = 20
    """Expert demos to record when --demos is not given (the paper's 20)."""
    eval_episodes: int = 100
    """Evaluation episodes per run."""
    variants: tuple[str, ...] = tuple(VARIANTS)
    """Which variants to run."""
    out: Path = Path("runs")
    """Where demos and runs go (git-ignored)."""
    results: Path = Path("benchmarks/results")
    """Where the table and curves CSVs go (committed: README figures come from them)."""
    bin_steps: int = 2000
    """Width (env steps) of a curve bin."""
    train: bool = True
    """Train (or resume) each run first; ``--no-train`` only evaluates the runs as they stand (partial runs)."""
    json: bool = False
    """Print one JSON object."""


def probe_every(train_cfg: TrainConfig) -> int:
    """Episodes per probe of the run (0: every episode is the policy's own)."""
    return train_cfg.supervisor.budget.probe_every if train_cfg.interventions == "scripted" else 0


def curve(metrics: pd.DataFrame, bin_steps: int, every: int) -> pd.DataFrame:
    """Success, own (unhelped) success and intervention rate per bin of ``bin_steps`` env steps."""
    own = metrics["episode"] % every == every - 1 if every > 0 else pd.Series(True, index=metrics.index)
    frame = metrics.assign(bin=(metrics["env_steps"] // bin_steps) * bin_steps,
                           own_success=metrics["success"].where(own).astype(float))
    return frame.groupby("bin").agg(success=("success", "mean"), own_success=("own_success", "mean"),
                                    intervention_rate=("intervention_rate", "mean"), episodes=("episode", "count"))


def main(cfg: LearningTable) -> None:
    demo_dir = cfg.demos if cfg.demos is not None else cfg.out / "demos" / f"{cfg.task}_state"
    have = len(list(demo_dir.glob("episode_*.npz"))) if demo_dir.is_dir() else 0
    if cfg.demos is None and have < cfg.num_demos:
        record_episodes(cfg.task, episodes=cfg.num_demos - have, out_dir=demo_dir, seed=0, obs_mode="state")
    rows, curves = [], []
    for variant in cfg.variants:
        seeds = cfg.seeds if variant == "rlpd_interv" else cfg.seeds[:1]
        for seed in seeds:
            spec = dict(VARIANTS[variant])
            run_dir = cfg.out / cfg.task.split("_")[0] / f"{variant}_s{seed}"
            train_cfg = TrainConfig(task=cfg.task, demos=demo_dir, seed=seed, out=run_dir,
                                    env_steps=spec.pop("env_steps", cfg.env_steps), **spec)
            if cfg.train:
                train(train_cfg, progress=not cfg.json)
            elif not (run_dir / "metrics.csv").exists():
                continue
            report = evaluate_run(run_dir, episodes=cfg.eval_episodes)
            metrics = read_metrics(run_dir)
            rows.append({"variant": variant, "seed": seed, "env_steps": int(metrics["env_steps"].iloc[-1] +
                                                                             metrics["steps"].iloc[-1]),
                         "train_wall_min": round(float(metrics["wall_time_s"].sum()) / 60, 1),
                         "eval_success": report["success_rate"], "eval_cycle_time_s": report["mean_cycle_time_s"],
                         "final_intervention_rate": float(metrics["intervention_rate"].tail(20).mean())})
            binned = curve(metrics, cfg.bin_steps, probe_every(train_cfg))
            curves.append(binned.reset_index().assign(variant=variant, seed=seed))
    table = pd.DataFrame(rows)
    curve_table = pd.concat(curves, ignore_index=True)
    for name, frame in (("curves", curve_table), ("table", table)):
        with atomic_output(cfg.results / f"{cfg.task}_{name}.csv") as tmp:
            frame.round(6).to_csv(tmp, index=False)
    if cfg.json:
        print(json.dumps(round_floats({"task": cfg.task, "runs": rows})))
    else:
        print(table.to_string(index=False))
        print(curve_table.pivot_table(index="bin", columns=["variant", "seed"], values="success").round(2).to_string())


if __name__ == "__main__":
    main(tyro.cli(LearningTable))
