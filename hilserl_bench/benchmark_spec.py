"""Per-task benchmark settings and the paper's Table 1 figures, as data next to each task.

Each registered task class carries one ``benchmark = TaskBenchmark(...)`` attribute; the
suite (:mod:`hilserl_bench.suite`) reads budgets, demo counts, the noisy-state magnitude and
the paper's figures from it and never hard-codes a task. The episode length and discount are
*not* repeated here: they live in the task's ``TaskConfig`` (``max_steps``, ``discount``) and
the suite reads them from there. Figures come from ``/work/shared/reference/tasks.md``
(Luo et al. 2024, Table 1 and Appendix A); ``None`` where the paper gives none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Budget = Literal["quick", "paper"]


@dataclass(frozen=True)
class TaskBenchmark:
    """What the benchmark suite runs for one task, and what the paper measured on the real robot."""

    paper_env_steps: int
    """RL transitions the paper trained this task for ("RL transitions to 100%", Appendix A): the `paper` budget."""
    quick_env_steps: int
    """Env steps per RL run at the `quick` budget: 1/100 of the paper's (rounded to 50, at least 100), so every
    task's baselines in both state modes finish within about an hour on a shared 2-core CPU (measured: RLPD runs
    at ~8 env steps/s there under load). A check that the whole pipeline works, not a learning result."""
    paper_hours: float | None
    """Wall-clock training hours the paper reports (Table 1), for the table beside ours."""
    paper_success: float
    """HIL-SERL success rate on the real robot (Table 1), 0..1."""
    paper_bc_success: float
    """The paper's "BC" column (HG-DAgger on the same data as RL; plain BC for Jenga and flipping), 0..1."""
    paper_cycle_time_s: float | None
    """HIL-SERL cycle time (s) in Table 1; None where the paper gives none (Jenga)."""
    paper_bc_cycle_time_s: float | None
    """BC cycle time (s) in Table 1; None where the paper gives none."""
    num_demos: int = 20
    """Expert demos recorded before training (the paper's 20; Jenga 30)."""
    position_noise_m: float = 0.003
    """Std (m) of the per-episode error the `noisy_state` variant adds to each position-like task-state entry.
    Default 3 mm: a 128 px wrist view spans roughly 12-15 cm at insertion distance (about 1 mm per pixel), and
    learned keypoint / pose estimates from such images are typically off by 2-4 px."""
    rotation_noise_rad: float = 0.026
    """Std (rad) of the per-episode error added to each rotation-like task-state entry (key contains
    "rotation"). Default 0.026 rad = 1.5 deg, the usual error of single-view object pose estimates of small
    parts at that resolution."""

    def env_steps(self, budget: Budget) -> int:
        """Env steps per RL run at ``budget``."""
        return self.paper_env_steps if budget == "paper" else self.quick_env_steps


@dataclass(frozen=True)
class PaperChainRow:
    """A paper row for a composite result that is not one registered task (IKEA whole assembly)."""

    name: str
    """Row label."""
    trials: int
    """Trials the paper ran."""
    paper_successes: int
    """HIL-SERL successes out of ``trials``."""
    paper_bc_successes: int
    """BC successes out of ``trials``."""


IKEA_WHOLE_ASSEMBLY = PaperChainRow("ikea_whole_assembly (ikea-chain)", trials=10, paper_successes=10,
                                    paper_bc_successes=1)
"""Table 1's whole-assembly row: the three IKEA stage policies chained (`hilserl-bench ikea-chain`)."""


def benchmark_of(task_id: str) -> TaskBenchmark:
    """The registered task's ``benchmark`` attribute; a clear error if a task lacks one."""
    from hilserl_bench import registry

    spec = getattr(registry.task_class(task_id), "benchmark", None)
    if not isinstance(spec, TaskBenchmark):
        raise ValueError(f"task {task_id!r} has no `benchmark = TaskBenchmark(...)` attribute; add one after its "
                         "description (see hilserl_bench/benchmark_spec.py)")
    return spec
