"""The per-task robustness picture: success and cycle time under each disturbance kind, one bar per policy.

Shared by ``benchmarks/robustness.py`` (experts and named runs) and the suite's disturbance section,
so both draw the same figure from the same columns (task rows with ``disturbance``, ``policy``,
``success_rate``, ``mean_cycle_time_s`` and ``episodes``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import hilserl_bench as hb
from hilserl_bench.disturbances import task_disturbances
from hilserl_bench.robustness import UNDISTURBED
from hilserl_bench.rollout import atomic_output


def state_kinds(task: str) -> list[str]:
    """The undisturbed reference and every kind a state-observation policy can notice."""
    kinds = task_disturbances(hb.task_class(task))
    return [UNDISTURBED, *(k for k, spec in kinds.items() if not spec.pixels_only)]


def plot_task(task: str, rows: pd.DataFrame, path: Path) -> Path:
    """Success rate and mean cycle time per kind (x) and policy (bars), written atomically to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = list(dict.fromkeys(rows["disturbance"]))
    policies = list(dict.fromkeys(rows["policy"]))
    width = 0.8 / len(policies)
    fig, axes = plt.subplots(1, 2, figsize=(4 + 1.6 * len(kinds), 3.6))
    for j, policy in enumerate(policies):
        sub = rows[rows["policy"] == policy].set_index("disturbance")
        x = [i + (j - (len(policies) - 1) / 2) * width for i in range(len(kinds))]
        for ax, col in zip(axes, ("success_rate", "mean_cycle_time_s"), strict=True):
            column = pd.to_numeric(sub[col], errors="coerce")
            values = [float(column[k]) if k in column.index else float("nan") for k in kinds]
            bars = ax.bar(x, values, width, label=policy)
            ax.bar_label(bars, fmt="%.2f", fontsize=7)
    axes[0].set_ylabel("success rate")
    axes[0].set_ylim(0, 1.05)
    axes[1].set_ylabel("mean cycle time over successes (s)")
    for ax in axes:
        ax.set_xticks(range(len(kinds)), kinds, rotation=20)
    axes[0].legend(fontsize=8)
    low, high = int(rows["episodes"].min()), int(rows["episodes"].max())
    fig.suptitle(f"{task}: disturbed vs undisturbed ({low if low == high else f'{low}-{high}'} episodes per bar)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)
    return path
