"""Where cable clipping's step time goes: physics steps per CPU second of the same states under model variants.

    python benchmarks/cable_speed_profile.py [--states 60] [--rounds 3] [--json]

Random actions from a few seeded resets record MjData snapshots (the cable dragged, on
the table, across the clip); each variant then replays ``mj_step`` from every snapshot
for one env step's substeps, in alternating rounds (best round kept, since the CPU is
shared), timed by this process's CPU time. Variants change one thing on the compiled
model (solver options, contacts off) or rebuild the task with another segment count.
``env_steps_per_cpu_s`` is the full ``env.step`` rate of the current model on the same
actions, so its ratio to the physics rate is the Python overhead.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import time
from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np
import tyro

import hilserl_bench as hb
from hilserl_bench.envs.tasks import cable_clipping


@dataclass(frozen=True)
class Args:
    """How many states and rounds."""

    states: int = 60
    """Snapshots recorded (split over 3 seeded resets)."""
    rounds: int = 3
    """Alternating timing rounds; the best of each variant is kept."""
    segments: tuple[int, ...] = (15, 16, 20)
    """Cable segment counts to rebuild and time (the task uses ``CableConfig.segments``)."""
    json: bool = False
    """Print one JSON object."""


def _record(env: Any, states: int) -> tuple[list[mujoco.MjData], list[np.ndarray]]:
    data, snaps, actions = env.unwrapped.backend.data, [], []
    per_seed = max(1, states // 3)
    for seed in range(3):
        env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        for _ in range(per_seed):
            snaps.append(copy.copy(data))
            actions.append(rng.uniform(-1, 1, env.action_space.shape))
            env.step(actions[-1])
    return snaps, actions


def _physics_rate(model: mujoco.MjModel, snaps: list[mujoco.MjData], substeps: int) -> float:
    start = time.process_time()
    for snap in snaps:
        mujoco.mj_step(model, copy.copy(snap), nstep=substeps)
    return len(snaps) * substeps / (time.process_time() - start)


def _env_rate(env: Any, actions: list[np.ndarray]) -> float:
    per_seed, cpu = max(1, len(actions) // 3), 0.0
    for i, action in enumerate(actions):
        if i % per_seed == 0:
            env.reset(seed=i // per_seed)
        start = time.process_time()
        env.step(action)
        cpu += time.process_time() - start
    return len(actions) / cpu


OPTION_VARIANTS: dict[str, dict[str, int]] = {
    "as built": {},
    "sparse jacobian": {"jacobian": int(mujoco.mjtJacobian.mjJAC_SPARSE)},
    "pyramidal cone": {"cone": int(mujoco.mjtCone.mjCONE_PYRAMIDAL)},
    "no islands": {"disableflags": int(mujoco.mjtDisableBit.mjDSBL_ISLAND)},
    "contacts off": {"disableflags": int(mujoco.mjtDisableBit.mjDSBL_CONTACT)},
}


def main(args: Args) -> dict[str, Any]:
    envs, built = {}, cable_clipping.CABLE
    default = built.segments
    for n in sorted({*args.segments, default}):
        cable_clipping.CABLE = dataclasses.replace(built, segments=n)
        env = hb.make("cable_clipping", obs_mode="state")
        envs[n] = (env, *_record(env, args.states))
    cable_clipping.CABLE = built
    env, snaps, actions = envs[default]
    model, backend = env.unwrapped.backend.model, env.unwrapped.backend
    best: dict[str, float] = {}
    for _ in range(args.rounds):
        for name, opts in OPTION_VARIANTS.items():
            old = {k: getattr(model.opt, k) for k in opts}
            for k, v in opts.items():
                setattr(model.opt, k, v | old[k] if k == "disableflags" else v)
            best[name] = max(best.get(name, 0.0), _physics_rate(model, snaps, backend.substeps))
            for k, v in old.items():
                setattr(model.opt, k, v)
        for n, (e, s, _) in envs.items():
            key = f"{n} segments"
            best[key] = max(best.get(key, 0.0), _physics_rate(e.unwrapped.backend.model, s, backend.substeps))
        best["env_steps_per_cpu_s"] = max(best.get("env_steps_per_cpu_s", 0.0), _env_rate(env, actions))
    data = backend.data
    report = {"physics_steps_per_cpu_s": {k: v for k, v in best.items() if k != "env_steps_per_cpu_s"},
              "env_steps_per_cpu_s": best["env_steps_per_cpu_s"], "substeps_per_env_step": backend.substeps,
              "nv": model.nv, "ncon_last": int(data.ncon), "nefc_last": int(data.nefc), "segments": default}
    for e, _, _ in envs.values():
        e.close()
    return report


if __name__ == "__main__":
    cli = tyro.cli(Args)
    result = main(cli)
    if cli.json:
        print(json.dumps(result, indent=1))
    else:
        n = result["substeps_per_env_step"]
        for key, value in result["physics_steps_per_cpu_s"].items():
            print(f"{key:<18} {value:9.0f} physics steps / CPU s  ({value / n:6.1f} env steps)")
        print(f"env.step (as built) {result['env_steps_per_cpu_s']:8.1f} env steps / CPU s; nv {result['nv']}")
