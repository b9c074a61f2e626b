"""Replica-quality checks (docs replica_quality.md) for SSD assembly and cable clipping, each figure printed.

    python benchmarks/ssd_cable_checks.py --task ssd_assembly [--episodes 100] [--json]
    python benchmarks/ssd_cable_checks.py --task cable_clipping

Per policy (scripted expert, expert with action noise, uniform random, a blind
open-loop replay of the expert's nominal-start actions, and each task's naive
motions) over seeded episodes: success rate, mean steps, the deepest tight-fit
penetration over every physics step (read inside each mj_step by MuJoCo's control
callback; ``info["penetration"]``'s maximum beside it), the peak F/T
force, the fastest tracked prop body and how many episodes ended with a prop out of
the workspace. Then: seeded determinism, the reset ranges the seeds cover, the
task's capture range, for cable clipping whether clipped cables stay clipped once the
gripper lets go and lifts away, and env / physics speed in state mode (wall clock, so
divide by the machine's load when other jobs share the cores).
"""

from __future__ import annotations

import copy
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import mujoco
import numpy as np
import tyro

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ssd_cable_policies import OpenLoopReplay, RandomActions  # noqa: E402
from ssd_cable_task_checks import capture_range, naive_policies, retention  # noqa: E402

import hilserl_bench as hb  # noqa: E402
from hilserl_bench import geometry as geo  # noqa: E402
from hilserl_bench.bench_env import bench_env  # noqa: E402
from hilserl_bench.envs.experts import make_expert  # noqa: E402

WORKSPACE = (np.array([-0.2, -0.6, -0.05]), np.array([1.0, 0.6, 0.8]))


@dataclass(frozen=True)
class Args:
    """Which task to check and how many episodes per policy."""

    task: Literal["ssd_assembly", "cable_clipping"] = "ssd_assembly"
    """Task id."""
    episodes: int = 100
    """Seeded episodes for the expert, random and blind policies."""
    naive_episodes: int = 100
    """Seeded episodes per naive motion."""
    noise_episodes: int = 30
    """Episodes per expert noise level."""
    noise_levels: tuple[float, ...] = (0.05, 0.1, 0.2)
    """Std of the Gaussian action noise added to the expert."""
    json: bool = False
    """Print one JSON object instead of the text report."""


class PhysicsStepProbe:
    """Deepest tight-fit penetration and fastest tracked body over every physics step, through MuJoCo's
    control callback (called inside each mj_step after collision detection; it changes nothing)."""

    def __init__(self, backend: Any, bodies: list[int]) -> None:
        self.backend, self.bodies = backend, bodies
        self.active, self.penetration, self.speed = False, 0.0, 0.0

    def __call__(self, model: mujoco.MjModel, data: mujoco.MjData) -> None:
        if self.active:
            self.penetration = max(self.penetration, self.backend.penetration())
            self.speed = max(self.speed, float(np.linalg.norm(data.cvel[self.bodies, 3:], axis=1).max()))

    def __enter__(self) -> PhysicsStepProbe:
        mujoco.set_mjcb_control(self)
        return self

    def __exit__(self, *exc: object) -> None:
        mujoco.set_mjcb_control(None)


def run_policy(task_id: str, make_policy: Callable[[Any], Any], episodes: int, seed: int = 0) -> dict[str, Any]:
    """Seeded episodes of ``make_policy(env)``; success, steps, penetration, force, prop speed, props lost."""
    env = hb.make(task_id, obs_mode="state")
    policy = make_policy(env)
    backend = env.unwrapped.backend
    with PhysicsStepProbe(backend, [backend.model.body(b).id for b in env.unwrapped.task.tracked_bodies()]) as probe:
        result = _run_episodes(env, policy, episodes, seed, probe)
    env.close()
    return result


def _run_episodes(env: Any, policy: Any, episodes: int, seed: int, probe: PhysicsStepProbe) -> dict[str, Any]:
    backend = env.unwrapped.backend
    bodies = [backend.model.body(b).id for b in env.unwrapped.task.tracked_bodies()]
    wins, steps, pens, forces, speeds, lost, step_pens = 0, [], [], [], [], 0, []
    for ep in range(episodes):
        obs, info = env.reset(seed=seed + ep)
        policy.reset(np.random.default_rng(seed + ep))
        pen = force = speed = 0.0
        probe.penetration = 0.0
        out = False
        t = 0
        for t in range(env.unwrapped.task.config.max_steps):  # noqa: B007 (t counts the steps taken)
            action = policy.act(obs)
            probe.active = True
            obs, _, term, trunc, info = env.step(action)
            probe.active = False
            pen = max(pen, info.get("penetration", 0.0))
            force = max(force, float(np.linalg.norm(obs["state"]["tcp_force"])))
            speed = max(speed, float(np.max(np.linalg.norm(backend.data.cvel[bodies, 3:], axis=1))))
            pos = backend.data.xpos[bodies]
            out = out or bool(np.any(pos < WORKSPACE[0]) or np.any(pos > WORKSPACE[1]))
            if term or trunc:
                break
        wins += bool(info["succeed"])
        steps.append(t + 1)
        pens.append(pen)
        step_pens.append(probe.penetration)
        forces.append(force)
        speeds.append(speed)
        lost += out
    return {"episodes": episodes, "success_rate": wins / episodes, "mean_steps": float(np.mean(steps)),
            "max_penetration_mm": 1e3 * max(step_pens), "p99_penetration_mm": 1e3 * float(np.percentile(step_pens, 99)),
            "max_penetration_env_info_mm": 1e3 * max(pens),
            "peak_force_n": max(forces), "median_peak_force_n": float(np.median(forces)),
            "max_prop_speed_m_s": max(max(speeds), probe.speed), "props_left_workspace": lost}


def determinism_and_resets(task_id: str, episodes: int) -> dict[str, Any]:
    """Same seed twice gives identical trajectories; the reset offsets the seeds produce."""
    env = hb.make(task_id, obs_mode="state")
    traces = []
    for _ in range(2):
        obs, _ = env.reset(seed=7)
        rng = np.random.default_rng(7)
        trace = []
        for _ in range(30):
            obs, *_ = env.step(rng.uniform(-1, 1, env.action_space.shape))
            trace.append(np.concatenate([v.ravel() for v in obs["task"].values()]))
        traces.append(np.array(trace))
    nominal = geo.pose_to_6d(env.unwrapped.task.reset_pose)
    offsets = []
    for seed in range(episodes):
        obs, _ = env.reset(seed=seed)
        offsets.append(geo.pose_to_6d(env.unwrapped.task.reset_plan(np.random.default_rng(seed)).tcp_pose) - nominal)
    env.close()
    offsets = np.array(offsets)
    return {"identical_trajectories": bool(np.array_equal(*traces)),
            "reset_dx_mm": [1e3 * offsets[:, 0].min(), 1e3 * offsets[:, 0].max()],
            "reset_dy_mm": [1e3 * offsets[:, 1].min(), 1e3 * offsets[:, 1].max()],
            "reset_dyaw_deg": [float(np.degrees(offsets[:, 5].min())), float(np.degrees(offsets[:, 5].max()))]}


def speed(task_id: str) -> dict[str, float]:
    """State-mode env steps/s and raw physics steps/s under random actions: wall clock (bench_env), and
    per CPU second of this process (what an unshared core would give), with the load average."""
    result = bench_env(task_id, steps=300, seed=0, pixels=False)
    env = hb.make(task_id, obs_mode="state")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    backend = env.unwrapped.backend
    snapshots, cpu_env = [], 0.0
    for _ in range(300):
        snapshots.append(copy.copy(backend.data))
        action = rng.uniform(-1, 1, env.action_space.shape)
        start = time.process_time()
        env.step(action)
        cpu_env += time.process_time() - start
    cpu_raw = 0.0
    for snap in snapshots:
        start = time.process_time()
        mujoco.mj_step(backend.model, snap, nstep=backend.substeps)
        cpu_raw += time.process_time() - start
    substeps = backend.substeps
    env.close()
    return {"env_steps_per_s_wall": result.env_steps_per_s,
            "raw_physics_steps_per_s_wall": result.raw_physics_steps_per_s,
            "env_steps_per_cpu_s": 300 / cpu_env, "raw_physics_steps_per_cpu_s": 300 * substeps / cpu_raw,
            "load_average_1min": os.getloadavg()[0], "cpu_cores": os.cpu_count() or 0}


def main(args: Args) -> dict[str, Any]:
    start = time.perf_counter()
    report: dict[str, Any] = {"task": args.task, "policies": {}}
    blind = OpenLoopReplay(args.task)
    report["blind_replay_succeeds_from_nominal_start"] = blind.nominal_success
    policies: dict[str, Callable[[Any], Any]] = {"expert": make_expert, "random": RandomActions,
                                                 "blind_open_loop": lambda env: blind}
    for name in naive_policies(args.task, None):
        policies[name] = lambda env, name=name: naive_policies(args.task, env)[name]
    for name, make_policy in policies.items():
        episodes = args.naive_episodes if name.startswith("naive") else args.episodes
        report["policies"][name] = run_policy(args.task, make_policy, episodes)
    for noise in args.noise_levels:
        report["policies"][f"expert_noise_{noise}"] = run_policy(
            args.task, lambda env, noise=noise: make_expert(env, noise), args.noise_episodes, seed=1000)
    report["determinism"] = determinism_and_resets(args.task, args.episodes)
    report["capture_range"] = capture_range(args.task)
    if args.task == "cable_clipping":
        report["retention"] = retention(args.task, min(args.episodes, 30))
    report["speed"] = speed(args.task)
    report["wall_s"] = time.perf_counter() - start
    return report


def print_report(report: dict[str, Any]) -> None:
    print(f"task {report['task']}  ({report['wall_s']:.0f} s)")
    cols = ("episodes", "success_rate", "mean_steps", "max_penetration_mm", "p99_penetration_mm", "peak_force_n",
            "median_peak_force_n", "max_prop_speed_m_s", "props_left_workspace")
    print(f"{'policy':<24}" + "".join(f"{c:>22}" for c in cols))
    for name, row in report["policies"].items():
        print(f"{name:<24}" + "".join(f"{row[c]:>22.3f}" if isinstance(row[c], float) else f"{row[c]:>22}"
                                      for c in cols))
    for key in ("blind_replay_succeeds_from_nominal_start", "determinism", "capture_range", "retention", "speed"):
        if key in report:
            print(f"{key}: {report[key]}")


if __name__ == "__main__":
    cli_args = tyro.cli(Args)
    result = main(cli_args)
    if cli_args.json:
        print(json.dumps(result, indent=1, default=float))
    else:
        print_report(result)
