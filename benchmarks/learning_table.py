"""Learning benchmark on one task: a thin caller of the suite (``hilserl-bench suite --tasks T``).

Runs (or resumes; finished runs cost nothing) RLPD + scripted interventions, RLPD without
interventions, HG-DAgger and BC on one task in state mode through
:func:`hilserl_bench.suite.suite.run_suite`, which also writes its report under
``<out>/report/``. For the README's figures it then copies the per-run table and the curves to
``benchmarks/results/<task>_table.csv`` and ``<task>_curves.csv`` (``--results``).

    python benchmarks/learning_table.py --task ram_insertion --seeds 0 1 2
    python benchmarks/learning_table.py --task usb_insertion --env-steps 50000 --seeds 0 1 2
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import tyro

from hilserl_bench.cli_checks import round_floats
from hilserl_bench.suite.config import SuiteConfig, Variant
from hilserl_bench.suite.suite import run_suite
from hilserl_bench.suite.tables import write_csv


@dataclass(frozen=True)
class LearningTable:
    """Train and evaluate every variant on one task; print the comparison."""

    task: str = "ram_insertion"
    """Task id."""
    seeds: tuple[int, ...] = (0, 1, 2)
    """Seeds (every variant runs once per seed)."""
    env_steps: int = 32_000
    """Env steps per RL run (the paper's RAM budget)."""
    eval_episodes: int = 100
    """Evaluation episodes per run."""
    variants: tuple[Variant, ...] = ("rlpd_interv", "rlpd_no_interv", "hgdagger", "bc")
    """Which variants to run."""
    jobs: int = 0
    """Runs in parallel (0: one per core)."""
    out: Path = Path("runs/learning_table")
    """Where demos, runs and the suite report go (git-ignored)."""
    results: Path = Path("benchmarks/results")
    """Where the table and curves CSVs go (committed: README figures come from them)."""
    json: bool = False
    """Print one JSON object."""


def main(cfg: LearningTable) -> None:
    suite = SuiteConfig(tasks=(cfg.task,), seeds=cfg.seeds, budget="paper", env_steps=cfg.env_steps,
                        variants=cfg.variants, obs_modes=("state",), eval_episodes=cfg.eval_episodes, jobs=cfg.jobs,
                        out=cfg.out, report_dir=cfg.out / "report", video=False)
    result = run_suite(suite, stream=io.StringIO() if cfg.json else None,
                       command=f"python benchmarks/learning_table.py --task {cfg.task}")
    write_csv(cfg.results / f"{cfg.task}_table.csv", result["runs"])
    write_csv(cfg.results / f"{cfg.task}_curves.csv", result["curves"])
    if cfg.json:
        print(json.dumps(round_floats({"task": cfg.task, "runs": result["runs"].to_dict(orient="records")})))


if __name__ == "__main__":
    main(tyro.cli(LearningTable))
