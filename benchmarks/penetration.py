"""Tight-fit penetration over every physics step, for the expert, a random policy and an adversary.

For each task and policy this runs seeded episodes (``rollout.run_episode``, episode
``i`` seeded ``seed + i``) and reports the per-episode maximum penetration (every
physics step, see ``hilserl_bench.envs.penetration``): its worst case, 95th percentile
and mean, and how many episodes exceed the task's clearance and 1 mm. The targets are
the expert under the clearance and every policy under 1 mm.

The adversary follows the expert until the part is near its seat, then presses at full
scale along the insertion axis while jerking the other five axes at full scale, signs
redrawn every few steps: the slamming and levering a careless policy produces. ``push``
is the obvious blind motion: full scale along the insertion axis from the reset pose,
nothing else (its success rate is the "push straight down" figure).

    python benchmarks/penetration.py --episodes 100 --out benchmarks/results/penetration.csv
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import tyro

import hilserl_bench
from hilserl_bench.envs.experts import make_expert
from hilserl_bench.policies import RandomPolicy
from hilserl_bench.rollout import atomic_output, run_episode


@dataclass(frozen=True)
class Adversary:
    """Where a task's part is near its seat, and which way pressing pushes it in."""

    near_key: str
    """``obs["task"]`` entry holding the part-to-seat (or tip-to-mouth) offset."""
    near: float
    """Offset norm (m) below which the adversary takes over from the expert."""
    push_axis: int
    """Action index of the insertion direction (base frame)."""
    push_sign: float
    """Sign of a full push along it."""
    clearance: float
    """The fit's clearance per side (m): the expert's penetration target."""


ADVERSARIES = {
    "ram_insertion": Adversary("ram_to_seat", 0.009, 2, -1.0, 0.00025),
    "usb_insertion": Adversary("plug_tip_to_mouth", 0.004, 0, 1.0, 0.00025),
}


class Push:
    """Constant full-scale action along the insertion axis (gripper closed when learned)."""

    def __init__(self, env: Any, spec: Adversary) -> None:
        self.action = np.zeros(env.action_space.shape, dtype=np.float32)
        self.action[spec.push_axis] = spec.push_sign
        if env.unwrapped.task.learned_gripper:
            self.action[-1] = -1.0

    def reset(self, rng: np.random.Generator) -> None:
        del rng

    def act(self, obs: Any) -> np.ndarray:
        del obs
        return self.action.copy()


class PressingAdversary:
    """Expert until the part is near its seat, then full pushes with random full-scale jerks."""

    def __init__(self, env: Any, spec: Adversary, hold: int = 3) -> None:
        self.expert, self.spec, self.hold = make_expert(env), spec, hold
        self.dim = int(env.action_space.shape[0])
        self.learned_gripper = bool(env.unwrapped.task.learned_gripper)
        self._rng, self._steps, self._signs = np.random.default_rng(0), -1, np.zeros(self.dim)

    def reset(self, rng: np.random.Generator) -> None:
        self.expert.reset(rng)
        self._rng, self._steps = rng, -1

    def act(self, obs: Any) -> np.ndarray:
        if self._steps < 0:
            offset = np.asarray(obs["task"][self.spec.near_key], dtype=np.float64)
            if np.linalg.norm(offset) >= self.spec.near:
                return self.expert.act(obs)
            self._steps = 0
        if self._steps % self.hold == 0:
            self._signs = self._rng.choice([-1.0, 1.0], size=self.dim)
        self._steps += 1
        action = self._signs.copy()
        action[self.spec.push_axis] = self.spec.push_sign
        if self.learned_gripper:
            action[-1] = -1.0
        return action.astype(np.float32)


@dataclass(frozen=True)
class PenetrationBench:
    """Per-physics-step penetration of the expert, a random policy and an adversary on each task."""

    tasks: tuple[str, ...] = ("ram_insertion", "usb_insertion")
    """Task ids (each needs an entry in ADVERSARIES)."""
    policies: tuple[str, ...] = ("expert", "random", "adversary", "push")
    """Which policies to run."""
    episodes: int = 50
    """Episodes per task and policy."""
    seed: int = 0
    """Episode i is seeded seed + i."""
    json: bool = False
    """Print one JSON object instead of a table."""
    out: Path | None = None
    """Also write the rows as CSV here (atomically)."""
    adversary_near: float | None = None
    """Override the adversary's take-over distance (m) for every task."""
    adversary_hold: int = 3
    """Steps the adversary keeps each set of jerk signs."""


def _policy(name: str, env: Any, spec: Adversary, hold: int = 3) -> Any:
    if name == "expert":
        return make_expert(env)
    if name == "random":
        return RandomPolicy(env.action_space)
    if name == "adversary":
        return PressingAdversary(env, spec, hold)
    if name == "push":
        return Push(env, spec)
    raise ValueError(f"policy {name!r}; choose from expert, random, adversary, push")


def measure(task: str, policy: str, episodes: int, seed: int, near: float | None = None, hold: int = 3,
            ) -> dict[str, Any]:
    """Summary of per-episode maximum penetration (mm) for one task and policy."""
    if task not in ADVERSARIES:
        raise ValueError(f"no adversary for task {task!r}; add one to ADVERSARIES ({sorted(ADVERSARIES)})")
    spec = ADVERSARIES[task] if near is None else replace(ADVERSARIES[task], near=near)
    env = hilserl_bench.make(task, obs_mode="state")
    try:
        agent = _policy(policy, env, spec, hold)
        results = [run_episode(env, agent, seed + i) for i in range(episodes)]
    finally:
        env.close()
    depths = np.array([r.max_penetration or 0.0 for r in results]) * 1e3
    return {
        "task": task, "policy": policy, "episodes": episodes,
        "success_rate": float(np.mean([r.success for r in results])),
        "max_mm": float(depths.max()), "p95_mm": float(np.percentile(depths, 95)), "mean_mm": float(depths.mean()),
        "clearance_mm": spec.clearance * 1e3,
        "over_clearance": int((depths > spec.clearance * 1e3).sum()), "over_1mm": int((depths > 1.0).sum()),
    }


def main(cfg: PenetrationBench) -> None:
    header = f"{'task':<15}{'policy':<11}{'success':>8}{'max mm':>9}{'p95 mm':>9}{'mean mm':>9}{'>clear':>8}{'>1mm':>6}"
    if not cfg.json:
        print(header, flush=True)
    rows = []
    for task in cfg.tasks:
        for policy in cfg.policies:
            r = measure(task, policy, cfg.episodes, cfg.seed, cfg.adversary_near, cfg.adversary_hold)
            rows.append(r)
            if not cfg.json:
                print(f"{r['task']:<15}{r['policy']:<11}{r['success_rate']:>8.2f}{r['max_mm']:>9.3f}"
                      f"{r['p95_mm']:>9.3f}{r['mean_mm']:>9.3f}{r['over_clearance']:>8}{r['over_1mm']:>6}", flush=True)
    if cfg.out is not None:
        import pandas as pd

        with atomic_output(cfg.out) as tmp:
            pd.DataFrame(rows).to_csv(tmp, index=False)
    if cfg.json:
        json.dump({"episodes": cfg.episodes, "seed": cfg.seed, "rows": rows}, sys.stdout)
        print()


if __name__ == "__main__":
    main(tyro.cli(PenetrationBench))
