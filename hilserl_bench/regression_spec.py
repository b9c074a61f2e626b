"""The quick regression tier's per-task bars, stored as data on each task class (``Task.regression``).

Each registered task class carries ``regression = RegressionThresholds(...)`` beside its
config. The bars are set from figures measured on the task with honest margins (the
measurement commands and figures are in docs/regression_tier.md): they catch a real
regression (an expert that stops solving its task, a task a random policy suddenly solves,
a demo set BC no longer learns from, an env step that got several times slower) without
flaking when an unrelated change nudges the physics. :mod:`hilserl_bench.regression` runs
the tier and compares its figures against these.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RegressionThresholds:
    """One task's regression bars (see the module docstring)."""

    min_expert_success: float
    """Lowest acceptable scripted-expert success rate, over the quick-BC stage's demo recording (successes /
    attempted episodes while recording its demos)."""
    max_random_success: float
    """Highest acceptable success rate of the uniform random policy over ``episodes`` seeded episodes."""
    min_bc_success: float | None
    """Lowest acceptable success rate of quick BC (the main job's baseline stage, few gradient steps) over
    ``episodes`` evaluation episodes; ``None`` where quick BC cannot learn the task (``bc_skip_reason`` says why),
    and the BC stage is then skipped."""
    max_physics_ratio: float
    """Highest acceptable env-step wall time / raw ``mj_step`` wall time for the same physics steps (each env
    step's substeps replayed from a snapshot, interleaved with the env steps, so machine load cancels out)."""
    episodes: int = 5
    """Episodes of the random policy (also the steps timed for the physics ratio) and of quick BC's evaluation."""
    bc_skip_reason: str = ""
    """Why quick BC cannot learn the task, with the measured figure; required when ``min_bc_success`` is None."""

    def __post_init__(self) -> None:
        rates = {"min_expert_success": self.min_expert_success, "max_random_success": self.max_random_success}
        if self.min_bc_success is not None:
            rates["min_bc_success"] = self.min_bc_success
        for name, value in rates.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}={value} must be a rate in [0, 1]")
        if self.max_physics_ratio <= 1.0:
            raise ValueError(f"max_physics_ratio={self.max_physics_ratio} must exceed 1 (an env step includes "
                             "its physics)")
        if self.episodes < 1:
            raise ValueError(f"episodes={self.episodes} must be >= 1")
        if self.min_bc_success is None and not self.bc_skip_reason:
            raise ValueError("min_bc_success=None needs bc_skip_reason saying why quick BC cannot learn the task")
