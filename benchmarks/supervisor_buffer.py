"""What the scripted supervisor puts into the demo/intervention ("prior") buffer of a short RLPD run.

Trains RLPD with scripted interventions for ``--env-steps`` on a task (recording
``--demos`` expert demos first unless the demo directory has them), then reads the prior
buffer of the run's last checkpoint and prints its composition: demo transitions,
supervisor transitions, rewarded transitions of each, and for USB the share of
supervisor transitions whose hand is closed but empty (the plug not between the
fingers), i.e. corrections that teach nothing about the task.

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

HOLD_XY = 0.003
"""USB: the plug's grasp point within this (m) of the TCP in xy counts as in the hand ..."""
HOLD_Z = (0.004, 0.009)
"""... together with the TCP this far above the plug body (m); the expert's grasp sits at 6.5-7.4 mm."""


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


def usb_empty_closed_hand(states: np.ndarray, units: np.ndarray, layout: dict[str, tuple[int, int]],
                          mouth_z: float, grasp_height: float) -> np.ndarray:
    """Per transition: gripper closed (< 0.5) while the plug is not in the hand (see HOLD_XY, HOLD_Z)."""
    raw = states * units
    gripper = raw[:, layout["gripper_pose"][0]]
    tcp_to_plug = raw[:, slice(*layout["task/tcp_to_plug"])]
    tip = raw[:, slice(*layout["task/plug_tip_to_mouth"])]
    tcp_z = grasp_height - tcp_to_plug[:, 2]
    above = tcp_z - (mouth_z + tip[:, 2])
    holding = (np.linalg.norm(tcp_to_plug[:, :2], axis=1) < HOLD_XY) & (above > HOLD_Z[0]) & (above < HOLD_Z[1])
    return (gripper < 0.5) & ~holding


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
        from hilserl_bench.envs.tasks.usb_insertion import GRASP_HEIGHT, UsbInsertion

        layout = {key: (start, stop) for key, start, stop in stack["state_layout"]}
        empty = usb_empty_closed_hand(prior.arrays["state"][valid], np.asarray(stack["state_units"]), layout,
                                      float(UsbInsertion().mouth_pose[2]), GRASP_HEIGHT)
        sup = empty[n_demo:]
        result["supervisor_empty_closed_hand"] = int(sup.sum())
        result["supervisor_empty_closed_hand_pct"] = round(100.0 * float(sup.mean()), 1) if len(sup) else 0.0
        result["demo_empty_closed_hand_pct"] = round(100.0 * float(empty[:n_demo].mean()), 1)
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
