"""``hilserl-bench regress``: run the quick regression tier and print its table; exit 1 on any failure."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from hilserl_bench.cli_checks import check_positive, round_floats
from hilserl_bench.regression import (
    QUICK_BC_STEPS,
    MissingRegressionSpec,
    failures,
    figures_to_json,
    format_table,
    run_tier,
)


@dataclass(frozen=True)
class RegressCmd:
    """Quick regression tier: expert, random policy, quick BC and env speed of each task against its stored bars.

    Prints a table (task, figure, value, threshold, pass) or JSON, then one line per failure naming the task,
    the figure and its threshold; exits 1 if any figure misses its bar. About 30 s of CPU per task (5.3 min for all 11).
    """

    tasks: tuple[str, ...] = ()
    """Task ids to check; empty checks every registered task."""
    seed: int = 0
    """First episode seed (the stored bars were measured at seed 0; other seeds show the spread)."""
    bc_steps: int = QUICK_BC_STEPS
    """BC gradient steps of the quick-BC figure (the stored bars were measured at the default)."""
    json: bool = False
    """Print one JSON object ({"figures": [...], "failures": [...]}) instead of the table."""

    def run(self) -> int:
        from hilserl_bench.main_job import resolve_tasks

        check_positive(self.bc_steps, "--bc-steps")
        task_ids = resolve_tasks(self.tasks)
        figures, problems = [], []
        for i, task in enumerate(task_ids):
            print(f"[{i + 1}/{len(task_ids)}] {task}", file=sys.stderr, flush=True)
            try:
                measured = run_tier(task, seed=self.seed, bc_steps=self.bc_steps)
            except MissingRegressionSpec as missing:
                problems.append(str(missing))
                continue
            figures.extend(measured)
            problems.extend(failures(measured))
        if self.json:
            print(json.dumps({"figures": round_floats(figures_to_json(figures)), "failures": problems}))
        else:
            print(format_table(figures))
            for line in problems:
                print(f"FAIL {line}")
            print(f"\n{len(problems)} failure(s) over {len(task_ids)} task(s)")
        return 1 if problems else 0
