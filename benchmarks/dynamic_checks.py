"""replica_quality.md checks for the two dynamic tasks (object flipping, Jenga whipping), printed.

For each task: the scripted expert's success over seeded episodes and its curve over
action-noise levels, a uniform random policy, the best blind open-loop motion (the
expert's seed-0 actions replayed on other seeds: the same motion, no feedback), the
deepest penetration over every physics step, and ``bench env`` speed figures. Task
specific: flipping prints the end effector's measured effective mass and the largest
downward braking the official clamps allow (why the egg rolls over rather than being
tossed); Jenga prints the tower's drift left alone for 10 s (sleep off) and the lash
tip's peak speed in the expert's snap and how deep the lash gets into a block in it (0 when every
lash-block contact stays at positive distance: the lash's contact margin stops tunnelling).

    .venv/bin/python benchmarks/dynamic_checks.py --task jenga_whipping --episodes 100 --json --out benchmarks/results
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

import hilserl_bench as hb
from hilserl_bench.bench_env import bench_env
from hilserl_bench.envs.experts import make_expert
from hilserl_bench.training.checkpoint import write_json_atomic

TASKS = ("object_flipping", "jenga_whipping")


def run_episodes(task: str, episodes: int, act, seed0: int = 0) -> dict[str, float]:
    """Success rate and deepest per-step penetration of ``act(env, obs, step, seed)`` over seeded episodes."""
    env = hb.make(task, obs_mode="state")
    wins, deepest = 0, 0.0
    try:
        for seed in range(seed0, seed0 + episodes):
            obs, _ = env.reset(seed=seed)
            for step in range(env.unwrapped.task.config.max_steps):
                obs, _, term, trunc, info = env.step(act(env, obs, step, seed))
                deepest = max(deepest, float(info.get("penetration", 0.0)))
                if term or trunc:
                    break
            wins += bool(info["succeed"])
    finally:
        env.close()
    return {"success": wins / episodes, "episodes": episodes, "max_penetration_mm": deepest * 1e3}


def expert_policy(noise: float):
    experts: dict[int, Any] = {}

    def act(env, obs, step, seed):
        if step == 0:
            experts[0] = make_expert(env, noise)
            experts[0].reset(np.random.default_rng(seed))
        return experts[0].act(obs)

    return act


def random_policy():
    rngs: dict[int, np.random.Generator] = {}

    def act(env, obs, step, seed):
        if step == 0:
            rngs[0] = np.random.default_rng(10_000 + seed)
        return rngs[0].uniform(-1.0, 1.0, env.action_space.shape)

    return act


def recorded_expert_actions(task: str, seed: int = 0) -> list[np.ndarray]:
    """The noise-free expert's actions on one seed (the best open-loop motion we have)."""
    env = hb.make(task, obs_mode="state")
    expert = make_expert(env)
    obs, _ = env.reset(seed=seed)
    expert.reset(np.random.default_rng(seed))
    actions = []
    for _ in range(env.unwrapped.task.config.max_steps):
        actions.append(expert.act(obs))
        obs, _, term, trunc, _ = env.step(actions[-1])
        if term or trunc:
            break
    env.close()
    return actions


def flipping_extras() -> dict[str, float]:
    """Effective mass in z (12 N for 0.1 s from rest) and the largest downward braking the clamps allow."""
    env = hb.make("object_flipping", obs_mode="state")
    env.reset(seed=0)
    obs, *_ = env.step(np.array([0.0, 1.0, 0.0]))
    vz = float(obs["state"]["tcp_vel"][2])
    server = env.unwrapped.task.wrench_server
    env.close()
    mass = 12.0 * 0.1 / vz
    braking = (-server.clamp_low[2] + server.p_translation * server.clip_translation) / mass
    return {"effective_mass_z_kg": mass, "max_down_braking_m_s2": braking, "g_m_s2": 9.81}


def jenga_extras() -> dict[str, float]:
    """Tower drift over 10 s awake; the lash tip's peak speed and deepest lash-block contact in the seed-0 snap."""
    env = hb.make("jenga_whipping", obs_mode="state")
    backend = env.unwrapped.backend
    m, d = backend.model, backend.data
    env.reset(seed=0)
    tower = [m.body(n).id for n in env.unwrapped.task.tracked_bodies() if n.startswith("jenga")]
    start = d.xpos[tower].copy()
    flags = m.opt.enableflags
    m.opt.enableflags &= ~int(mujoco.mjtEnableBit.mjENBL_SLEEP)
    began = time.perf_counter()
    mujoco.mj_step(m, d, nstep=5000)
    awake_rate = 5000 / (time.perf_counter() - began)
    drift = d.xpos[tower] - start
    m.opt.enableflags = flags
    tip = m.site("whip_tip").id
    lash = {m.geom(name).id for name in env.unwrapped.task.lash_geoms()}
    blocks = {m.geom(name).id for name in env.unwrapped.task.tight_fit_geoms()[1]}
    nearest = np.inf
    expert = make_expert(env)
    obs, _ = env.reset(seed=0)
    expert.reset(np.random.default_rng(0))
    peak, vel = 0.0, np.zeros(6)
    arm = backend.arms[0]
    for _ in range(env.unwrapped.task.config.max_steps):
        arm.set_wrench(env.unwrapped.task.action_to_wrench(expert.act(obs)))
        for n in backend._chunks:
            arm.controller.refresh(d, n * m.opt.timestep)
            for _ in range(n):
                mujoco.mj_step(m, d)
                mujoco.mj_objectVelocity(m, d, mujoco.mjtObj.mjOBJ_SITE, tip, vel, 0)
                peak = max(peak, float(np.linalg.norm(vel[3:])))
                for c in d.contact[:d.ncon]:
                    if {c.geom1, c.geom2} & lash and {c.geom1, c.geom2} & blocks:
                        nearest = min(nearest, float(c.dist))
        obs = _observe(env)
    env.close()
    return {"tower_lateral_drift_10s_mm": float(np.abs(drift[:, :2]).max() * 1e3),
            "tower_sink_10s_mm": float(np.abs(drift[:, 2]).max() * 1e3),
            "awake_tower_physics_steps_per_s": awake_rate, "snap_tip_peak_speed_m_s": peak,
            "snap_lash_into_block_mm": max(0.0, -nearest * 1e3)}


def _observe(env) -> dict[str, Any]:
    """A fresh raw observation without stepping (for driving the expert by hand above)."""
    raw = env.unwrapped
    raw._states = tuple(arm.get_state() for arm in raw.backend.arms)
    return raw._observation(raw.backend.scene_state())


def check(task: str, episodes: int, noise_episodes: int) -> dict[str, Any]:
    out: dict[str, Any] = {"task": task}
    out["expert"] = run_episodes(task, episodes, expert_policy(0.0))
    out["expert_noise_curve"] = {str(n): run_episodes(task, noise_episodes, expert_policy(n))["success"]
                                 for n in (0.02, 0.05, 0.1)}
    out["random"] = run_episodes(task, episodes, random_policy())
    actions = recorded_expert_actions(task)
    out["open_loop_expert_seed0"] = run_episodes(
        task, noise_episodes, lambda env, obs, step, seed: actions[min(step, len(actions) - 1)], seed0=1)
    out.update(flipping_extras() if task == "object_flipping" else jenga_extras())
    speed = bench_env(task, steps=100, pixels=False)
    out["env_steps_per_s"] = speed.env_steps_per_s
    out["raw_physics_steps_per_s"] = speed.raw_physics_steps_per_s
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=TASKS, action="append", help="task(s) to check (default: both)")
    parser.add_argument("--episodes", type=int, default=100, help="episodes for the expert and random policy")
    parser.add_argument("--noise-episodes", type=int, default=30, help="episodes per noise level and open loop")
    parser.add_argument("--json", action="store_true", help="print one JSON object per task")
    parser.add_argument("--out", type=Path, help="also write each task's figures to OUT/dynamic_checks_<task>.json")
    args = parser.parse_args(argv)
    if args.episodes < 1 or args.noise_episodes < 1:
        parser.error("--episodes and --noise-episodes must be >= 1")
    for task in args.task or TASKS:
        result = check(task, args.episodes, args.noise_episodes)
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            write_json_atomic(args.out / f"dynamic_checks_{task}.json",
                              {**result, "episodes_arg": args.episodes, "noise_episodes_arg": args.noise_episodes})
        if args.json:
            print(json.dumps(result), flush=True)
        else:
            for key, value in result.items():
                print(f"{task:>16}  {key:<32} {json.dumps(value)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
