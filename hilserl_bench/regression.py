"""The quick regression tier: four figures per task, each against the bar stored on the task class.

For every task (``Task.regression``, a :class:`~hilserl_bench.regression_spec.RegressionThresholds`):

- ``expert_success``: the scripted expert's success rate while recording the quick-BC demos
  (successful episodes / attempted episodes, seeds ``seed, seed+1, ...``),
- ``random_success``: the uniform random policy's success rate over ``episodes`` seeded episodes,
- ``bc_success``: quick BC's success rate: the main job's baseline stage
  (:func:`hilserl_bench.main_job.run_baseline_stage`: 10 expert demos, BC for ``bc_steps`` gradient
  steps, evaluated over ``episodes`` episodes with seeds from ``seed + 10000``); skipped where the
  task's bar is ``None``,
- ``physics_ratio``: env-step wall time / raw ``mj_step`` wall time for the same physics, timed
  during the random episodes: before each env step the simulator state is copied, and right
  after it those substeps are replayed from the copy with plain ``mj_step``. Both clocks run
  interleaved on the same machine, so a loaded machine slows both alike and the ratio holds.

The functions here return figures and failure messages; the CLI (``hilserl-bench regress``)
prints them as a table and tests/test_regression_tier.py asserts on them. Every failure
message names the task, the figure, its value and its threshold.
"""

from __future__ import annotations

import copy
import io
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym

import hilserl_bench as hb
from hilserl_bench.regression_spec import RegressionThresholds

QUICK_BC_STEPS = 600
"""BC gradient steps in the tier's quick-BC stage (the main job uses 2000; the bars are measured at this)."""
QUICK_BC_DEMOS = 10
"""Demos the main job's baseline stage records per task (its fixed figure, repeated here to count attempts)."""
FIGURES = ("expert_success", "random_success", "bc_success", "physics_ratio")
"""The tier's figures, in table order."""


class MissingRegressionSpec(LookupError):
    """A registered task class has no ``regression = RegressionThresholds(...)`` attribute."""


@dataclass(frozen=True)
class Figure:
    """One measured figure of one task, with the bar it is held to."""

    task: str
    """Task id."""
    name: str
    """One of :data:`FIGURES`."""
    value: float | None
    """The measured value; ``None`` when it could not be measured (``note`` says why)."""
    threshold: float | None
    """The bar; ``None`` when the task sets none for this figure (then it always passes)."""
    bound: Literal["min", "max"]
    """``min``: value must be >= threshold; ``max``: value must be <= threshold."""
    note: str = ""
    """Sample size, or why the figure was skipped or could not be measured."""

    @property
    def passed(self) -> bool:
        """Whether the value clears its bar (a figure without a bar passes; a missing value fails)."""
        if self.threshold is None:
            return True
        if self.value is None:
            return False
        return self.value >= self.threshold if self.bound == "min" else self.value <= self.threshold

    def failure_message(self) -> str:
        """One line naming the task, the figure, the measured value and the threshold."""
        op = ">=" if self.bound == "min" else "<="
        value = "not measured" if self.value is None else f"{self.value:.3f}"
        note = f" ({self.note})" if self.note else ""
        return f"{self.task}: {self.name} = {value}, threshold {op} {self.threshold}{note}"


def thresholds_for(task: str) -> RegressionThresholds:
    """The task class's ``regression`` bars, or :class:`MissingRegressionSpec` naming the task and the fix."""
    from hilserl_bench import registry

    cls = registry.task_class(task)
    spec = cls.__dict__.get("regression")
    if not isinstance(spec, RegressionThresholds):
        raise MissingRegressionSpec(
            f"{task}: task class {cls.__name__} has no regression thresholds; add `regression = "
            "RegressionThresholds(...)` (hilserl_bench.regression_spec) before its config_cls line, set from "
            "`hilserl-bench regress --tasks " + task + "` figures with margins")
    return spec


class PhysicsClock(gym.Wrapper):
    """Times each env step and replays its physics with plain ``mj_step`` right after (see the module docstring)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.backend = env.unwrapped.backend
        if not hasattr(self.backend, "raw_physics_seconds") or not hasattr(self.backend, "data"):
            raise TypeError(f"{type(self.backend).__name__} has no simulator state to replay; the physics ratio "
                            "needs the simulated backend")
        self.env_s = 0.0
        self.raw_s = 0.0
        self.steps = 0

    def step(self, action: Any):
        snapshot = copy.copy(self.backend.data)
        start = time.perf_counter()
        out = self.env.step(action)
        self.env_s += time.perf_counter() - start
        self.raw_s += float(self.backend.raw_physics_seconds(1, [snapshot]))
        self.steps += 1
        return out

    @property
    def ratio(self) -> float:
        """Env-step time / raw physics time over every step so far."""
        return self.env_s / self.raw_s


def random_and_speed(task: str, episodes: int, seed: int = 0) -> tuple[float, float, int]:
    """(random-policy success rate, env/physics time ratio, env steps timed) over ``episodes`` seeded episodes."""
    from hilserl_bench.policies import RandomPolicy
    from hilserl_bench.rollout import run_episodes, summarize

    env = PhysicsClock(hb.make(task, obs_mode="state"))
    try:
        results = run_episodes(env, RandomPolicy(env.action_space), episodes, seed)
        return summarize(results)["success_rate"], env.ratio, env.steps
    finally:
        env.close()


def expert_and_bc(task: str, spec: RegressionThresholds, workdir: Path, seed: int = 0,
                  bc_steps: int = QUICK_BC_STEPS) -> tuple[float, int, float | None, str]:
    """(expert success, expert episodes attempted, quick-BC success or None, note) for one task.

    Demos and BC come from the main job's baseline stage, so the tier checks exactly what
    ``hilserl-bench run`` does; where the task sets no BC bar only the demos are recorded.
    An expert too weak to record the demos gives its success over the attempts made and no BC.
    """
    from hilserl_bench.data.episode_format import episode_files, read_metadata
    from hilserl_bench.data.recorder import RecordError, record_episodes
    from hilserl_bench.main_job import RunConfig, run_baseline_stage

    demos = workdir / "demos" / f"{task}_state"
    bc_success: float | None = None
    note = ""
    try:
        if spec.min_bc_success is None:
            record_episodes(task, episodes=QUICK_BC_DEMOS, out_dir=demos, seed=seed, obs_mode="state")
        else:
            config = RunConfig(out=workdir, episodes=spec.episodes, seed=seed, tasks=(task,), baseline_steps=bc_steps)
            (summary,) = run_baseline_stage(config, [task], io.StringIO())
            bc_success = float(summary["success_rate"])
    except RecordError as error:
        note = f"expert could not record {QUICK_BC_DEMOS} demos: {error}"
    kept = [int(read_metadata(path)["seed"]) for path in episode_files(demos)] if demos.is_dir() else []
    # On a RecordError every attempt record_episodes allows (its default 5 * episodes + 10) was made.
    attempted = 5 * QUICK_BC_DEMOS + 10 if note else max(kept) - seed + 1
    return len(kept) / attempted, attempted, bc_success, note


def run_tier(task: str, seed: int = 0, bc_steps: int = QUICK_BC_STEPS) -> list[Figure]:
    """Measure the four figures of one task against its bars (see the module docstring).

    Demos and the BC run live in a temporary folder removed afterwards: every tier run starts afresh.
    """
    spec = thresholds_for(task)
    with tempfile.TemporaryDirectory(prefix=f"regress_{task}_") as tmp:
        expert, attempted, bc, note = expert_and_bc(task, spec, Path(tmp), seed, bc_steps)
    random_rate, ratio, timed = random_and_speed(task, spec.episodes, seed)
    if spec.min_bc_success is None:
        bc_note = f"skipped: {spec.bc_skip_reason}"
    elif bc is None:
        bc_note = note
    else:
        bc_note = f"{spec.episodes} eval episodes, {bc_steps} BC steps, {QUICK_BC_DEMOS} demos"
    return [
        Figure(task, "expert_success", expert, spec.min_expert_success, "min", note or f"{attempted} episodes"),
        Figure(task, "random_success", random_rate, spec.max_random_success, "max", f"{spec.episodes} episodes"),
        Figure(task, "bc_success", bc, spec.min_bc_success, "min", bc_note),
        Figure(task, "physics_ratio", ratio, spec.max_physics_ratio, "max", f"{timed} env steps"),
    ]


def failures(figures: list[Figure]) -> list[str]:
    """The failure message of every figure that misses its bar."""
    return [figure.failure_message() for figure in figures if not figure.passed]


def format_table(figures: list[Figure]) -> str:
    """Terminal table: task, figure, value, threshold, pass."""
    rows = [("task", "figure", "value", "threshold", "pass", "note")]
    for f in figures:
        op = ">=" if f.bound == "min" else "<="
        rows.append((f.task, f.name, "-" if f.value is None else f"{f.value:.3f}",
                     "-" if f.threshold is None else f"{op} {f.threshold}", "yes" if f.passed else "NO", f.note))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row[:5], widths, strict=True)) + "  " + row[5]
                     for row in rows)


def figures_to_json(figures: list[Figure]) -> list[dict[str, Any]]:
    """JSON-ready rows (``passed`` included)."""
    return [{"task": f.task, "figure": f.name, "value": f.value, "threshold": f.threshold, "bound": f.bound,
             "passed": f.passed, "note": f.note} for f in figures]
