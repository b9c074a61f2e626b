"""Top-panel tight-fit penetration per seeded episode for an ikea_checks.py policy, optionally at another impratio.

    python benchmarks/ikea_top_panel_penetration.py --policy adversarial --seeds 1000 1001 1002 1003
    python benchmarks/ikea_top_panel_penetration.py --policy adversarial --seeds 1000 --impratio 10

Same policies, seeds and measure (``info["penetration"]``, the deepest tight-fit penetration over
every physics step) as ``benchmarks/ikea_checks.py``, one line per episode, so a single bad
episode can be found and replayed. ``--impratio`` overrides the compiled model's friction-to-normal
impedance ratio (the arena uses 3; it was 10 when the top panel sank 1.1-2.9 mm into the side panels).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import tyro

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ikea_checks import Adversarial, NaivePress, OpenLoopReplay  # noqa: E402

import hilserl_bench as hb  # noqa: E402
from hilserl_bench.envs.experts import make_expert  # noqa: E402
from hilserl_bench.policies import RandomPolicy  # noqa: E402


@dataclass(frozen=True)
class Args:
    """Policy, seeds and an optional impratio override."""

    policy: Literal["expert", "random", "blind", "naive", "adversarial"] = "adversarial"
    """Which of ikea_checks.py's policies."""
    seeds: tuple[int, ...] = (1000, 1001, 1002, 1003)
    """Episode seeds."""
    impratio: float | None = None
    """Override ``model.opt.impratio`` (None: as built)."""


def main(args: Args) -> float:
    env = hb.make("top_panel", obs_mode="state")
    raw = env.unwrapped
    if args.impratio is not None:
        raw.backend.model.opt.impratio = args.impratio
    policy = {"naive": lambda: NaivePress(raw), "adversarial": lambda: Adversarial(env.action_space),
              "random": lambda: RandomPolicy(env.action_space), "expert": lambda: make_expert(env),
              "blind": lambda: OpenLoopReplay("top_panel")}[args.policy]()
    deepest, wins = 0.0, 0
    for seed in args.seeds:
        obs, _ = env.reset(seed=seed)
        policy.reset(np.random.default_rng(seed))
        pen, force, info = 0.0, 0.0, {}
        for _ in range(raw.task.config.max_steps):
            obs, _, term, trunc, info = env.step(policy.act(obs))
            pen = max(pen, info["penetration"])
            force = max(force, *(float(np.linalg.norm(obs["state"][f"{a}/tcp_force"])) for a in ("left", "right")))
            if term or trunc:
                break
        wins += bool(info["succeed"])
        deepest = max(deepest, pen)
        print(f"seed {seed}: penetration {pen * 1e3:.3f} mm, peak force {force:.0f} N, success {bool(info['succeed'])}",
              flush=True)
    print(f"{args.policy} impratio {raw.backend.model.opt.impratio:g}: {wins}/{len(args.seeds)} succeed, "
          f"deepest {deepest * 1e3:.3f} mm")
    env.close()
    return deepest


if __name__ == "__main__":
    main(tyro.cli(Args))
