"""How fast one task's env steps, against what MuJoCo alone would manage.

Speed is a common complaint about simulated manipulation envs (Python controllers
every substep, renders nobody asked for). This measures, for one task:

- ``env_steps_per_s``: full ``env.step`` rate with state observations,
- ``env_steps_per_s_pixels``: the same with pixel observations from every policy camera,
- ``raw_physics_steps_per_s`` / ``raw_physics_s``: plain ``mj_step`` rate and time for the
  substeps those env steps contain, replayed from a snapshot of the state before each one,
- ``overhead_ratio``: state-mode env time / raw physics time (1.0 would be no overhead),
- ``render_fps``: camera frames per second from the backend's renderer,
- ``penetration_on_steps_per_s`` / ``penetration_off_steps_per_s`` / ``penetration_cost_ratio``:
  state-mode env steps/s with tight-fit penetration measured at every physics step (the
  default) and with it switched off (``SimConfig.track_penetration=False``), timed in
  alternating rounds on the same actions (best round each, since the CPU may be shared),
  and their time ratio (1.0 would be free).

Random actions drive the arm so contacts and controller work are realistic; resets
happen outside the timed region.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

import hilserl_bench as hb
from hilserl_bench.policies import RandomPolicy
from hilserl_bench.rendering import require_renderer

_WARMUP_STEPS = 5
_RENDER_CALLS = 30
_COST_ROUNDS = 4


@dataclass(frozen=True)
class EnvBenchResult:
    """One task's speed numbers (see the module docstring)."""

    task: str
    """Task id."""
    steps: int
    """Env steps timed per mode."""
    substeps_per_env_step: int
    """Physics steps in one env step (control_dt / timestep)."""
    env_steps_per_s: float
    """State-mode env steps per second."""
    env_steps_per_s_pixels: float | None
    """Pixel-mode env steps per second (all policy cameras); ``None`` when skipped."""
    raw_physics_steps_per_s: float
    """Plain mj_step calls per second."""
    raw_physics_s: float
    """Seconds plain mj_step takes for the substeps of ``steps`` env steps."""
    env_s: float
    """Seconds ``steps`` state-mode env steps took."""
    overhead_ratio: float
    """``env_s / raw_physics_s``."""
    render_fps: float | None
    """Camera frames rendered per second; ``None`` when pixels were skipped."""
    cameras: tuple[str, ...]
    """Cameras rendered in pixel mode."""
    penetration_on_steps_per_s: float | None = None
    """State-mode env steps/s measuring penetration at every physics step (best round); ``None`` off-sim."""
    penetration_off_steps_per_s: float | None = None
    """The same with penetration measurement switched off (best round)."""
    penetration_cost_ratio: float | None = None
    """``penetration_on`` time per step / ``penetration_off`` time per step."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        out = asdict(self)
        out["cameras"] = list(self.cameras)
        return out


def _time_steps(env: Any, steps: int, seed: int, snapshots: list | None = None) -> float:
    """Seconds spent inside ``env.step`` for ``steps`` random actions (resets excluded).

    With ``snapshots``, a copy of the backend's state before each step is appended (untimed).
    """
    policy = RandomPolicy(env.action_space)
    policy.reset(np.random.default_rng(seed))
    obs, _ = env.reset(seed=seed)
    for _ in range(_WARMUP_STEPS):
        obs, _, terminated, truncated, _ = env.step(policy.act(obs))
        if terminated or truncated:
            obs, _ = env.reset()
    elapsed = 0.0
    for _ in range(steps):
        action = policy.act(obs)
        if snapshots is not None:
            snapshots.append(copy.copy(env.unwrapped.backend.data))
        start = time.perf_counter()
        obs, _, terminated, truncated, _ = env.step(action)
        elapsed += time.perf_counter() - start
        if terminated or truncated:
            obs, _ = env.reset()
    return elapsed


def _substeps(env: Any) -> int:
    backend = env.unwrapped.backend
    if isinstance(getattr(backend, "substeps", None), int):
        return backend.substeps
    model = getattr(backend, "model", None)
    timestep = float(model.opt.timestep) if model is not None else 0.002
    return max(1, round(float(env.unwrapped.control_dt) / timestep))


def _penetration_cost(task: str, steps: int, seed: int) -> tuple[float, float] | None:
    """(on, off) env steps/s with and without per-step penetration, in alternating rounds.

    ``None`` when the task's backend has no such switch (only the simulator has one).
    """
    from hilserl_bench.envs.sim_backend import SimConfig

    envs = [hb.make(task, obs_mode="state", sim_config=SimConfig(track_penetration=on)) for on in (True, False)]
    try:
        if not all(isinstance(getattr(e.unwrapped.backend, "config", None), SimConfig) for e in envs):
            return None
        per_round = max(1, steps // _COST_ROUNDS)
        best = [math.inf, math.inf]
        for r in range(_COST_ROUNDS):
            for i, env in enumerate(envs):
                best[i] = min(best[i], _time_steps(env, per_round, seed + r) / per_round)
    finally:
        for env in envs:
            env.close()
    return 1.0 / best[0], 1.0 / best[1]


def bench_env(task: str, steps: int = 200, seed: int = 0, pixels: bool = True) -> EnvBenchResult:
    """Time ``steps`` env steps in state mode (and pixel mode), raw physics and rendering."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    env = hb.make(task, obs_mode="state")
    try:
        backend = env.unwrapped.backend
        snapshots: list | None = [] if hasattr(backend, "data") else None
        env_s = _time_steps(env, steps, seed, snapshots)
        raw_s = float(backend.raw_physics_seconds(steps, snapshots) if snapshots is not None
                      else backend.raw_physics_seconds(steps))
        substeps = _substeps(env)
    finally:
        env.close()
    cost = _penetration_cost(task, steps, seed)
    pixel_rate, render_fps, cameras = None, None, ()
    if pixels:
        require_renderer()
        env = hb.make(task, obs_mode="pixels")
        try:
            pixel_rate = steps / _time_steps(env, steps, seed)
            cameras = tuple(env.unwrapped.task.cameras)
            backend = env.unwrapped.backend
            backend.camera_frames(cameras)
            start = time.perf_counter()
            for _ in range(_RENDER_CALLS):
                backend.camera_frames(cameras)
            render_fps = _RENDER_CALLS * len(cameras) / (time.perf_counter() - start)
        finally:
            env.close()
    return EnvBenchResult(
        task=task,
        steps=steps,
        substeps_per_env_step=substeps,
        env_steps_per_s=steps / env_s,
        env_steps_per_s_pixels=pixel_rate,
        raw_physics_steps_per_s=steps * substeps / raw_s,
        raw_physics_s=raw_s,
        env_s=env_s,
        overhead_ratio=env_s / raw_s,
        render_fps=render_fps,
        cameras=cameras,
        penetration_on_steps_per_s=None if cost is None else cost[0],
        penetration_off_steps_per_s=None if cost is None else cost[1],
        penetration_cost_ratio=None if cost is None else cost[1] / cost[0],
    )


def format_bench(result: EnvBenchResult) -> str:
    """Two-column table for the terminal."""
    rows = [
        ("task", result.task),
        ("env steps timed", str(result.steps)),
        ("substeps per env step", str(result.substeps_per_env_step)),
        ("env steps/s (state)", f"{result.env_steps_per_s:.1f}"),
        ("env steps/s (pixels)", _fmt(result.env_steps_per_s_pixels)),
        ("raw physics steps/s", f"{result.raw_physics_steps_per_s:.0f}"),
        ("raw physics time (s)", f"{result.raw_physics_s:.3f}"),
        ("env time, state (s)", f"{result.env_s:.3f}"),
        ("overhead ratio", f"{result.overhead_ratio:.2f}"),
        ("env steps/s, penetration per step", _fmt(result.penetration_on_steps_per_s)),
        ("env steps/s, penetration off", _fmt(result.penetration_off_steps_per_s)),
        ("penetration cost (time ratio)", _fmt(result.penetration_cost_ratio, 3)),
        ("render fps", _fmt(result.render_fps)),
        ("cameras", ", ".join(result.cameras) or "-"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
