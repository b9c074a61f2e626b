"""Per-episode metrics: metrics.csv always (rewritten atomically), TensorBoard or W&B if asked and installed.

The rows also travel inside each checkpoint, so a resumed run rewrites metrics.csv
from the checkpoint and never shows an episode twice.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from hilserl_bench.training.checkpoint import file_mode

WINDOW = 20
"""Episodes in the running averages (the paper's intervention-rate window)."""


class MetricsLog:
    """Collects episode rows and mirrors them to disk and to an optional dashboard."""

    def __init__(self, run_dir: Path, backend: str, config: dict[str, Any]) -> None:
        self.path = Path(run_dir) / "metrics.csv"
        self.rows: list[dict[str, Any]] = []
        self._writer = None
        self._wandb = None
        if backend == "tensorboard":
            self._writer = _tensorboard_writer(Path(run_dir) / "tensorboard")
        elif backend == "wandb":
            try:
                import wandb
            except ImportError as err:
                raise ImportError("--log wandb needs the wandb package: pip install wandb") from err
            self._wandb = wandb.init(project="hilserl-bench", config=config, dir=str(run_dir), resume="allow")

    def append(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self._write_csv()
        step = int(row["env_steps"]) + int(row["steps"])
        numeric = {k: float(v) for k, v in row.items() if isinstance(v, int | float | bool) and v is not None}
        if self._writer is not None:
            for key, value in numeric.items():
                self._writer.add_scalar(f"episode/{key}", value, step)
        if self._wandb is not None:
            self._wandb.log(numeric, step=step)

    def restore(self, rows: list[dict[str, Any]]) -> None:
        """Continue from the rows stored in a checkpoint."""
        self.rows = list(rows)
        self._write_csv()

    def recent_success(self) -> float:
        tail = self.rows[-WINDOW:]
        return sum(bool(r["success"]) for r in tail) / max(1, len(tail))

    def recent_intervention_rate(self) -> float:
        tail = self.rows[-WINDOW:]
        return sum(float(r["intervention_rate"]) for r in tail) / max(1, len(tail))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._wandb is not None:
            self._wandb.finish()

    def _write_csv(self) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".metrics.", suffix=".csv")
        os.close(fd)
        pd.DataFrame(self.rows).to_csv(tmp, index=False)
        os.chmod(tmp, file_mode())
        os.replace(tmp, self.path)


def _tensorboard_writer(log_dir: Path) -> Any:
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as err:
            raise ImportError("--log tensorboard needs tensorboardX (pip install tensorboardX) or torch") from err
    return SummaryWriter(str(log_dir))
