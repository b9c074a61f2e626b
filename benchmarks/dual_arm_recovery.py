"""How often the scripted expert (the supervisor that corrects RLPD) recovers from a mid-plan disturbance.

    python benchmarks/dual_arm_recovery.py --tasks object_handover --episodes 30

The expert runs from the reset; at step 20, 35, 50, 65 or 80 (cycling over episodes) a uniform
random policy takes over for 15 steps (it drops, throws and knocks the part about), then the
expert continues from whatever state that left, within the episode's 200 steps. This widens
``tests/test_supervisor_takeover.py::test_expert_recovers_when_the_policy_flails_mid_plan``
(6 episodes, one start point) to many start points; failures are listed with the expert's phase
and the part's position at the end.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import tyro

from hilserl_bench.data.learning_env import make_learning_env
from hilserl_bench.envs.experts import make_expert

STARTS = (20, 35, 50, 65, 80)
RANDOM_STEPS = 15


@dataclass(frozen=True)
class Recovery:
    """Which tasks and how many disturbed episodes."""

    tasks: tuple[str, ...] = ("object_handover", "dashboard_assembly")
    """Task ids with scripted experts."""
    episodes: int = 30
    """Disturbed episodes per task (seeds ``seed`` + i)."""
    seed: int = 5000
    """First episode seed."""


def recovery(task_id: str, episodes: int, seed: int) -> dict[str, Any]:
    """Success rate after a mid-plan random burst, and the failures (episode, start, phase, part position)."""
    env = make_learning_env(task_id, obs_mode="state")
    raw, expert = env.unwrapped, make_expert(env.unwrapped)
    to_tcp = env.get_wrapper_attr("to_tcp")
    part = raw.task.tracked_bodies()[0]
    wins, failures = 0, []
    for k in range(episodes):
        start = STARTS[k % len(STARTS)]
        env.reset(seed=seed + k)
        expert.reset(np.random.default_rng(k))
        rng = np.random.default_rng(100 + k)
        info: dict[str, Any] = {}
        for step in range(raw.task.config.max_steps):
            action = np.clip(to_tcp(expert.act(raw.last_obs)), -1.0, 1.0)
            if start <= step < start + RANDOM_STEPS:
                action = rng.uniform(-1.0, 1.0, size=env.action_space.shape)
            _, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                break
        if info.get("succeed", False):
            wins += 1
        else:
            where = raw.backend.scene_state().poses[part][:3]
            failures.append({"episode": k, "start": start, "phase": expert.phase(raw.last_obs),
                             "part_xyz": [round(float(v), 3) for v in where]})
    env.close()
    return {"task": task_id, "episodes": episodes, "success_rate": wins / episodes, "failures": failures}


def main(c: Recovery) -> int:
    for task_id in c.tasks:
        print(json.dumps(recovery(task_id, c.episodes, c.seed)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(tyro.cli(Recovery)))
