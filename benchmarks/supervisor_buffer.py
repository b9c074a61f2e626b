"""What the scripted supervisor puts into the demo/intervention ("prior") buffer of a short RLPD run.

Trains RLPD with scripted interventions for ``--env-steps`` on a task (recording
``--demos`` expert demos first unless the demo directory has them), then reads the prior
buffer of the run's last checkpoint and prints its composition: demo transitions,
supervisor transitions, rewarded transitions of each, and for USB the share of
supervisor transitions that drive a closed but empty hand (the plug not between the
fingers, and the correction does not open it), i.e. corrections that teach nothing
about the task; corrections that open an empty closed hand are counted apart.

    python benchmarks/supervisor_buffer.py --task usb_insertion --env-steps 4000
    python benchmarks/supervisor_buffer.py --analyze runs/sup_buffer/usb_insertion_s0 --demo-dir DIR

``--analyze`` only reads an existing run (e.g. one trained by an older version).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tyro

from hilserl_bench.data.episode_format import load_dataset
from hilserl_bench.data.replay_buffer import ReplayBuffer
from hilserl_bench.training import checkpoint as ckpt

EMPTY_MARGIN = 0.06
"""USB: fingers closed this far (normalised opening) past the plug grip's width hold nothing (the expert's
``in_hand`` uses the same margin): an empty closed hand."""


@dataclass(frozen=True)
class SupervisorBuffer:
    """Train briefly with scripted interventions, then report the prior buffer's composition."""

    task: str = "usb_insertion"
    """Task id."""
    env_steps: int = 4000
    """Env steps of the RLPD run."""
    demos: int = 20
    """Expert demos seeding the prior buffer."""
    seed: int = 0
    """Run seed."""
    out: Path = Path("runs/sup_buffer")
    """Where demos and the run go."""
    analyze: Path | None = None
    """Only analyse this existing run directory (needs --demo-dir)."""
    demo_dir: Path | None = None
    """Demo directory of the analysed run (default: <out>/demos/<task>)."""


def usb_empty_closed_hand(states: np.ndarray, units: np.ndarray, layout: dict[str, tuple[int, int]]) -> np.ndarray:
    """Per transition: the fingers closed past the plug grip's width, i.e. on nothing."""
    from hilserl_bench.envs.props import usb

    gripper = states[:, layout["gripper_pose"][0]] * units[layout["gripper_pose"][0]]
    return gripper < usb.GRIP[1] / 0.08 - EMPTY_MARGIN


def composition(run_dir: Path, demo_dir: Path) -> dict[str, object]:
    """Counts of demo / supervisor transitions in the prior buffer of the run's latest checkpoint."""
    latest = ckpt.latest_checkpoint(run_dir)
    if latest is None:
        raise SystemExit(f"{run_dir} has no checkpoint; train first")
    prior = ReplayBuffer.load(latest / "prior.npz")
    demos = load_dataset(demo_dir)
    n_demo = int(sum(len(ep.actions) for ep in demos))
    valid = (prior.first_valid + np.arange(len(prior))) % prior.capacity
    rewards = prior.arrays["rewards"][valid]
    result: dict[str, object] = {
        "run": str(run_dir), "prior_transitions": len(prior), "demo_transitions": n_demo,
        "supervisor_transitions": len(prior) - n_demo,
        "demo_rewarded": int((rewards[:n_demo] > 0).sum()), "supervisor_rewarded": int((rewards[n_demo:] > 0).sum()),
    }
    stack = demos[0].metadata["stack"]
    if stack["task_id"] == "usb_insertion":
        layout = {key: (start, stop) for key, start, stop in stack["state_layout"]}
        empty = usb_empty_closed_hand(prior.arrays["state"][valid], np.asarray(stack["state_units"]), layout)
        opens = prior.arrays["actions"][valid, 6] >= 0.5
        driven = empty & ~opens  # an empty closed hand moved on without being opened
        sup = driven[n_demo:]
        result["supervisor_empty_closed_hand"] = int(sup.sum())
        result["supervisor_empty_closed_hand_pct"] = round(100.0 * float(sup.mean()), 1) if len(sup) else 0.0
        result["supervisor_opening_empty_hand"] = int((empty & opens)[n_demo:].sum())
        result["demo_empty_closed_hand_pct"] = round(100.0 * float(driven[:n_demo].mean()), 1)
    return result


def main(cfg: SupervisorBuffer) -> None:
    demo_dir = cfg.demo_dir or cfg.out / "demos" / cfg.task
    if cfg.analyze is not None:
        print(json.dumps(composition(cfg.analyze, demo_dir)))
        return
    from hilserl_bench.data.recorder import record_episodes
    from hilserl_bench.training.config import TrainConfig
    from hilserl_bench.training.train import train

    if not demo_dir.exists() or len(list(demo_dir.glob("episode_*.npz"))) < cfg.demos:
        record_episodes(cfg.task, episodes=cfg.demos, out_dir=demo_dir, seed=0, obs_mode="state")
    run = cfg.out / f"{cfg.task}_s{cfg.seed}"
    train(TrainConfig(task=cfg.task, agent="rlpd", interventions="scripted", demos=demo_dir, env_steps=cfg.env_steps,
                      seed=cfg.seed, out=run), progress=False)
    print(json.dumps(composition(run, demo_dir)))


if __name__ == "__main__":
    main(tyro.cli(SupervisorBuffer))
