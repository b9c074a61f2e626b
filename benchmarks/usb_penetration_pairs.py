"""USB insertion: each episode's deepest plug/port penetration over every physics step, and the geom pair it was on.

    python benchmarks/usb_penetration_pairs.py --policy adversary --seed 0 --episodes 20

``benchmarks/penetration.py`` reports how deep; this says where (face against grip, shell
against a wall or lead-in, shell against the tongue), which is what a contact-parameter fix
has to target. Policies are penetration.py's (expert, random, adversary, push); the contact
array is read inside every physics step through MuJoCo's control callback.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mujoco
import numpy as np
import tyro

sys.path.insert(0, str(Path(__file__).resolve().parent))

from penetration import ADVERSARIES, _policy  # noqa: E402

import hilserl_bench as hb  # noqa: E402


@dataclass(frozen=True)
class Args:
    """Policy and seeds."""

    policy: str = "adversary"
    """expert, random, adversary or push."""
    seed: int = 0
    """First episode seed."""
    episodes: int = 20
    """Seeded episodes."""


class DeepestPair:
    """Control callback: the deepest contact between the two tight-fit groups since the last reset."""

    def __init__(self, model: mujoco.MjModel, group_a: tuple[str, ...], group_b: tuple[str, ...]) -> None:
        self.a = {model.geom(g).id for g in group_a}
        self.b = {model.geom(g).id for g in group_b}
        self.depth, self.pair = 0.0, ("", "")

    def __call__(self, model: mujoco.MjModel, data: mujoco.MjData) -> None:
        for contact in data.contact[:data.ncon]:
            g1, g2 = int(contact.geom1), int(contact.geom2)
            if ((g1 in self.a and g2 in self.b) or (g2 in self.a and g1 in self.b)) and -contact.dist > self.depth:
                self.depth, self.pair = -float(contact.dist), (model.geom(g1).name, model.geom(g2).name)


def main(args: Args) -> dict[str, Any]:
    env = hb.make("usb_insertion", obs_mode="state")
    raw = env.unwrapped
    probe = DeepestPair(raw.backend.model, *raw.task.tight_fit_geoms())
    policy = _policy(args.policy, env, ADVERSARIES["usb_insertion"])
    depths, pairs, wins = [], Counter(), 0
    mujoco.set_mjcb_control(probe)
    try:
        for seed in range(args.seed, args.seed + args.episodes):
            obs, _ = env.reset(seed=seed)
            policy.reset(np.random.default_rng(seed))
            probe.depth, probe.pair, info = 0.0, ("", ""), {}
            for _ in range(raw.task.config.max_steps):
                obs, _, term, trunc, info = env.step(policy.act(obs))
                if term or trunc:
                    break
            wins += bool(info["succeed"])
            depths.append(probe.depth)
            pairs[probe.pair] += 1
            print(f"seed {seed}: {probe.depth * 1e3:.3f} mm {probe.pair[0]} / {probe.pair[1]}, "
                  f"success {bool(info['succeed'])}", flush=True)
    finally:
        mujoco.set_mjcb_control(None)
        env.close()
    out = {"policy": args.policy, "episodes": args.episodes, "success_rate": wins / args.episodes,
           "max_mm": 1e3 * max(depths), "mean_mm": 1e3 * float(np.mean(depths)),
           "over_1mm": int(sum(d > 0.001 for d in depths)),
           "deepest_pairs": {" / ".join(k): v for k, v in pairs.items()}}
    print(out)
    return out


if __name__ == "__main__":
    main(tyro.cli(Args))
