"""``hilserl-bench suite``: its settings, the baseline variants and the budget presets (all data)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from hilserl_bench.benchmark_spec import Budget

ObsMode = Literal["state", "noisy_state", "pixels"]
Variant = Literal["rlpd_interv", "rlpd_no_interv", "bc", "hgdagger"]

VARIANTS: dict[str, dict[str, Any]] = {
    "rlpd_interv": {"agent": "rlpd", "interventions": "scripted"},
    "rlpd_no_interv": {"agent": "rlpd", "interventions": "none"},
    "bc": {"agent": "bc", "interventions": "none"},
    "hgdagger": {"agent": "hgdagger", "interventions": "scripted"},
}
"""TrainConfig fields of each variant: HIL-SERL (RLPD + scripted interventions), RLPD on demos alone, BC on the
demos, HG-DAgger (BC pretraining, then BC on demos + interventions). BC collects no env steps."""
VARIANT_LABELS = {"rlpd_interv": "HIL-SERL (RLPD + interventions)", "rlpd_no_interv": "RLPD, no interventions",
                  "bc": "BC", "hgdagger": "HG-DAgger"}


@dataclass(frozen=True)
class BudgetPreset:
    """Budget settings shared by every task (per-task env steps live in each task's TaskBenchmark)."""

    bc_steps: int
    """Gradient steps of BC (and of HG-DAgger's pretraining)."""
    curve_bins: int
    """Bins of the learning curves over a run's env steps."""


BUDGETS: dict[str, BudgetPreset] = {
    "quick": BudgetPreset(bc_steps=2000, curve_bins=5),
    "paper": BudgetPreset(bc_steps=20_000, curve_bins=16),
}


@dataclass(frozen=True)
class SuiteConfig:
    """Record demos, train RLPD + scripted interventions, RLPD alone, BC and HG-DAgger on every task and seed,
    evaluate each, and write the table beside the paper's Table 1, curves, videos and an HTML report.

    Re-running the same command resumes: finished runs and evaluations are read back, not redone.
    """

    tasks: tuple[str, ...] = ()
    """Task ids; empty runs every registered task."""
    seeds: tuple[int, ...] = (0,)
    """Seeds; every variant of every task runs once per seed."""
    budget: Budget = "quick"
    """`paper`: each task's paper transitions; `quick`: 1/100 of them (TaskBenchmark.quick_env_steps)."""
    env_steps: int | None = None
    """Override the budget's env steps per RL run (every task), e.g. for a smoke test."""
    bc_steps: int | None = None
    """Override the budget's BC gradient steps."""
    num_demos: int | None = None
    """Override each task's demo count (TaskBenchmark.num_demos: 20, Jenga 30)."""
    variants: tuple[Variant, ...] = ("rlpd_interv", "rlpd_no_interv", "bc", "hgdagger")
    """Which baselines to run."""
    noisy_state_variants: tuple[Variant, ...] = ("rlpd_interv", "bc", "hgdagger")
    """Baselines run in `noisy_state` mode (the ones the paper's BC gap is about; RLPD without interventions
    is left out by default to save time)."""
    obs_modes: tuple[ObsMode, ...] = ("state", "noisy_state")
    """`state` (privileged task state), `noisy_state` (the same with a camera-sized per-episode error),
    `pixels` (the paper's cameras; needs a GPU)."""
    eval_episodes: int = 100
    """Evaluation episodes per run (the paper's 100)."""
    eval_seed: int = 10_000
    """Seed of the first evaluation episode (never a training seed)."""
    jobs: int = 0
    """Runs in parallel, one process each; 0: one per CPU core. 1 runs everything in this process."""
    out: Path = Path("results/suite")
    """Demos and training runs (demos/, runs/); git-ignored by default."""
    report_dir: Path | None = None
    """Where the CSVs, plots, videos and report.html go (default: --out)."""
    video: bool = True
    """Record one evaluation episode per task (the first seed's HIL-SERL run, state mode) as an mp4."""
    disturb_episodes: int = 0
    """Also evaluate every state-mode run under each disturbance kind its task defines (pushes, moved parts,
    grasp slips, cable pushes; docs/robustness.md) for this many episodes; 0 skips it. Results go to
    disturbed.csv, plots/<task>_disturbed.png and a report section beside the undisturbed figures."""
    chain: bool = True
    """When the three IKEA stages ran, chain their HIL-SERL policies (`ikea-chain`) for the whole-assembly row."""

    @property
    def reports(self) -> Path:
        """The folder the results files go to."""
        return self.report_dir if self.report_dir is not None else self.out

    def workers(self) -> int:
        """Processes to use."""
        return self.jobs if self.jobs > 0 else (os.cpu_count() or 1)

    def variants_for(self, obs_mode: str) -> tuple[str, ...]:
        """The baselines run in ``obs_mode``."""
        if obs_mode == "noisy_state":
            return tuple(v for v in self.variants if v in self.noisy_state_variants)
        return self.variants

    def bc_steps_used(self) -> int:
        """BC gradient steps this run uses."""
        return self.bc_steps if self.bc_steps is not None else BUDGETS[self.budget].bc_steps
