"""Adversarial checks of the USB grasp-insertion replica (replica_quality.md), each printing its figure.

    .venv/bin/python benchmarks/usb_replica_checks.py            # everything (about 20-40 min on 2 CPUs)
    .venv/bin/python benchmarks/usb_replica_checks.py --only launch blind --episodes 50 --json

Checks: ``launch`` (close the fingers at N random relative poses: plug speed at every physics step,
workspace, sinking into the table under 10/20 N), ``blind`` (a fixed open-loop script planned on the
nominal plug pose, with the expert's insertion target and pushing to the stop), ``naive`` (grasp without
turning to the plug; go straight to the port without aligning), ``random`` (uniform random actions),
``expert`` (success and noise curve), ``recovery`` (the expert taking over after 20-40 random steps) and
``capture`` (how far off the port's axis the plug still enters).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from usb_scripts import BlindScript, CaptureProbe, NoAlignScript, NoReorientScript  # noqa: E402

import hilserl_bench as hb  # noqa: E402
from hilserl_bench.envs.arena import add_arena  # noqa: E402
from hilserl_bench.envs.experts import make_expert  # noqa: E402
from hilserl_bench.envs.props import usb  # noqa: E402
from hilserl_bench.envs.replica_probes import (  # noqa: E402
    grasp_launch_trial,
    random_relative_grasp,
    sinking_under_press,
)

CHECKS = ("launch", "blind", "naive", "random", "expert", "recovery", "capture")


def _episode(env, policy, seed: int, warmup: int = 0) -> dict:
    """One episode; ``warmup`` uniform random steps first (then the policy gets a full episode)."""
    obs, info = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    if hasattr(policy, "reset"):
        policy.reset(rng)
    for _ in range(warmup):
        obs, _, terminated, truncated, info = env.step(rng.uniform(-1, 1, size=7).astype(np.float32))
        if terminated:
            return {"succeed": bool(info["succeed"]), "lost": bool(info["object_lost"]), "warm_success": True}
    env.unwrapped._steps = 0
    for _ in range(env.unwrapped.task.config.max_steps):
        obs, _, terminated, truncated, info = env.step(policy.act(obs) if hasattr(policy, "act") else policy(rng))
        if terminated or truncated:
            break
    return {"succeed": bool(info["succeed"]), "lost": bool(info["object_lost"])}


def _rate(env, policy, episodes: int, seed0: int = 0, warmup=None) -> dict:
    results = []
    for i in range(episodes):
        w = 0 if warmup is None else int(np.random.default_rng(10_000 + i).integers(*warmup, endpoint=True))
        results.append(_episode(env, policy, seed0 + i, w))
    return {"episodes": episodes, "success": float(np.mean([r["succeed"] for r in results])),
            "lost": float(np.mean([r["lost"] for r in results]))}


def check_launch(env, poses: int) -> dict:
    task = env.unwrapped.task
    rng = np.random.default_rng(0)
    trials = []
    for i in range(poses):
        env.reset(seed=1000 + i)
        plug = env.unwrapped.backend.scene_state().poses["usb_plug"]
        trials.append(grasp_launch_trial(env, "usb_plug", random_relative_grasp(task.plug_grasp_pose(plug), rng)))
    speeds = np.array([t.max_speed for t in trials])

    def build(spec) -> str:
        add_arena(spec)
        return usb.add_usb_plug(spec, [0.4, 0.1, usb.PLUG_REST_Z, 0, 0, 0, 1]).body

    sink = {f"sink_mm_at_{f:.0f}N": 1e3 * sinking_under_press(build, f, usb.PLUG_REST_Z) for f in (10.0, 20.0)}
    return {"poses": poses, "max_speed_m_s": float(speeds.max()), "p99_speed_m_s": float(np.quantile(speeds, 0.99)),
            "over_2m_s": int((speeds > 2.0).sum()), "left_workspace": int(sum(not t.in_workspace for t in trials)),
            "lowest_plug_z_mm": 1e3 * float(min(t.min_z for t in trials)),
            "lifted": int(sum(t.final_z > 0.02 for t in trials)), **sink}


def check_capture(env) -> dict:
    """Largest tip offset from the port axis (y, z) and yaw at which the expert's push still seats the plug."""
    probe = CaptureProbe(env)
    out = {}
    for axis, values in (("lateral_y_mm", (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)),
                         ("lateral_z_mm", (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)),
                         ("yaw_deg", (0.5, 1.0, 2.0, 3.0, 4.0, 6.0))):
        reached = 0.0
        for v in values:
            if all(probe.seats(axis, sign * v, seed=s) for sign in (1.0, -1.0) for s in (0, 1)):
                reached = v
            else:
                break
        out[axis] = reached
    cfg = env.unwrapped.task.config
    out["randomisation"] = {"plug_xy_mm": 1e3 * cfg.plug_random_xy,
                            "plug_yaw_deg": float(np.degrees(cfg.plug_random_yaw))}
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=CHECKS, default=list(CHECKS))
    parser.add_argument("--episodes", type=int, default=100, help="episodes per success rate")
    parser.add_argument("--launch-poses", type=int, default=150)
    parser.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.1, 0.2, 0.3])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    args = parser.parse_args(argv)
    env = hb.make("usb_insertion", obs_mode="state")
    n = args.episodes
    report: dict = {}
    jobs = {
        "launch": lambda: check_launch(env, args.launch_poses),
        "blind": lambda: {"expert_targets": _rate(env, BlindScript(env, push_to_stop=False), n),
                          "push_to_stop": _rate(env, BlindScript(env, push_to_stop=True), n)},
        "naive": lambda: {"grasp_without_reorienting": _rate(env, NoReorientScript(env), n),
                          "straight_to_port_without_aligning": _rate(env, NoAlignScript(env), n)},
        "random": lambda: _rate(env, lambda rng: rng.uniform(-1, 1, size=7).astype(np.float32), n),
        "expert": lambda: {f"noise_{s}": _rate(env, make_expert(env, s), n) for s in args.noise},
        "recovery": lambda: _rate(env, make_expert(env), n, seed0=5000, warmup=(20, 40)),
        "capture": lambda: check_capture(env),
    }
    for name in args.only:
        start = time.perf_counter()
        report[name] = jobs[name]()
        report[name]["seconds"] = round(time.perf_counter() - start, 1)
        if not args.json:
            print(f"{name}: {json.dumps(report[name])}", flush=True)
    if args.json:
        print(json.dumps(report, indent=1))
    env.close()
    return report


if __name__ == "__main__":
    main()
