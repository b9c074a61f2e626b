"""Cable clipping under rough policies: blow-ups, fastest body and deepest penetration over every physics step.

    python benchmarks/cable_stability.py --policies random --episodes 25 --seed 0
    python benchmarks/cable_stability.py --policies naive_straight_to_target adversary --episodes 25

One JSON line per policy from ``ssd_cable_checks.run_policy`` (seeded episodes ``seed`` ..
``seed + episodes - 1``; penetration and the fastest tracked body, plug, cable segments and
lips, read inside every physics step). Run shards with different ``--seed`` in parallel and
add them up. ``adversary`` follows the expert until the plug is 8 mm from its seat, then
presses down at full scale while jerking the other axes, signs redrawn every 3 steps
(``benchmarks/penetration.py``'s adversary). A blow-up is a body faster than 2 m/s
(the hand moves at most 0.15 m/s; a body at hundreds of m/s is a diverged solver).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tyro

sys.path.insert(0, str(Path(__file__).resolve().parent))

from penetration import Adversary, PressingAdversary  # noqa: E402
from ssd_cable_checks import run_policy  # noqa: E402
from ssd_cable_policies import OpenLoopReplay, RandomActions  # noqa: E402
from ssd_cable_task_checks import naive_policies  # noqa: E402

from hilserl_bench.envs.experts import make_expert  # noqa: E402
from hilserl_bench.envs.tasks import cable_clipping  # noqa: E402

CABLE_ADVERSARY = Adversary("plug_to_seat", 0.008, 2, -1.0, 0.0001)


@dataclass(frozen=True)
class Args:
    """Policies, episodes per policy and the first seed."""

    policies: tuple[str, ...] = ("random", "naive_straight_to_target")
    """expert, random, blind, adversary, or a naive motion of ssd_cable_task_checks.py."""
    episodes: int = 25
    """Seeded episodes per policy."""
    seed: int = 0
    """First episode seed."""
    damping: float | None = None
    """Override the cable's ball-joint damping (N m s/rad; None: as built, 0.0005)."""


def _maker(name: str) -> Any:
    if name == "random":
        return RandomActions
    if name == "expert":
        return make_expert
    if name == "blind":
        replay = OpenLoopReplay("cable_clipping")
        return lambda env: replay
    if name == "adversary":
        return lambda env: PressingAdversary(env, CABLE_ADVERSARY)
    if name not in naive_policies("cable_clipping", None):
        raise SystemExit(f"unknown policy {name!r}: use expert, random, blind, adversary or "
                         f"{', '.join(naive_policies('cable_clipping', None))}")
    return lambda env: naive_policies("cable_clipping", env)[name]


def main(args: Args) -> None:
    if args.damping is not None:
        cable_clipping.CABLE = dataclasses.replace(cable_clipping.CABLE, damping=args.damping)
    for name in args.policies:
        row = run_policy("cable_clipping", _maker(name), args.episodes, seed=args.seed)
        print(json.dumps({"policy": name, "seed": args.seed, **row}), flush=True)


if __name__ == "__main__":
    main(tyro.cli(Args))
