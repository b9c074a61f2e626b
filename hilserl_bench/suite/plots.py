"""Learning curves as PNG: per task, training success and intervention rate against env steps.

One line per variant and observation mode (mean over seeds, the seeds' spread shaded), drawn with
matplotlib's Agg backend (no display needed), written atomically.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hilserl_bench.suite.config import VARIANT_LABELS


def plot_task(curves: pd.DataFrame, task: str, path: Path) -> Path | None:
    """Write ``path`` for one task's curves; None when the task has no RL run to draw."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hilserl_bench.rollout import atomic_output

    rows = curves[curves["task"] == task]
    if rows.empty:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), dpi=80)
    for (obs_mode, variant), group in rows.groupby(["obs_mode", "variant"], sort=True):
        stats = group.groupby("bin")[["success", "intervention_rate"]].agg(["mean", "min", "max"])
        style = "-" if obs_mode == "state" else "--"
        label = f"{VARIANT_LABELS.get(variant, variant)} [{obs_mode}]"
        for ax, column in zip(axes, ("success", "intervention_rate"), strict=True):
            line, = ax.plot(stats.index, stats[(column, "mean")], style, marker="o", markersize=3, label=label)
            ax.fill_between(stats.index, stats[(column, "min")], stats[(column, "max")], alpha=0.15,
                            color=line.get_color())
    for ax, title in zip(axes, ("training success", "intervention rate"), strict=True):
        ax.set_title(f"{task}: {title}", fontsize=9)
        ax.set_xlabel("env steps", fontsize=8)
        ax.set_ylim(-0.03, 1.03)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=6, loc="best")
    fig.tight_layout()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path
