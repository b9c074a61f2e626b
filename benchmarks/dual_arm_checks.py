"""The replica_quality.md checks for the dual-arm tasks, each printed as a figure.

    python benchmarks/dual_arm_checks.py --json                  # both tasks, 100 episodes per policy
    python benchmarks/dual_arm_checks.py --tasks object_handover --episodes 20
    python benchmarks/dual_arm_checks.py --physics --small 10 --json   # launch, speeds, F/T at every physics step

Per task: expert / random / blind (open-loop replay of the nominal episode) / naive success
over seeded episodes; deepest penetration (sampled like ``info["penetration"]``) for the
expert, random and adversarial (random twists, always pressing down, grippers closing)
policies; peak F/T force per episode; peak object speed and whether it ever left the
workspace; the expert's success over noise levels and when it takes over from states a
random policy reached; seeded determinism and the spread of reset draws; for the dashboard,
the capture range (success vs a deliberate lateral offset of the press).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tyro

sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_common import Progress, same_seed_identical, start_ranges  # noqa: E402
from dual_arm_physics import check_physics  # noqa: E402
from dual_arm_policies import OpenLoopReplay, naive_policy  # noqa: E402

import hilserl_bench as hb  # noqa: E402
from hilserl_bench.envs.experts import make_expert  # noqa: E402
from hilserl_bench.envs.experts.dashboard_assembly import DashboardAssemblyExpert  # noqa: E402
from hilserl_bench.policies import RandomPolicy  # noqa: E402

OBJECT = {"object_handover": "bar", "dashboard_assembly": "panel"}
WORKSPACE = (np.array([-0.2, -0.6, -0.01]), np.array([1.0, 0.6, 1.0]))


@dataclass(frozen=True)
class Checks:
    """Which tasks and how many episodes."""

    tasks: tuple[str, ...] = ("object_handover", "dashboard_assembly")
    """Dual-arm task ids."""
    episodes: int = 100
    """Seeded episodes for expert and random success."""
    script_episodes: int = 50
    """Seeded episodes for the blind and naive scripts."""
    small: int = 20
    """Episodes for the noise curve, takeovers and adversarial runs."""
    seed: int = 1000
    """First episode seed."""
    json: bool = False
    """Print one JSON object instead of a table."""
    physics: bool = False
    """Run only the every-physics-step checks of ``dual_arm_physics.py`` (launch, speeds, peak F/T)."""


class Adversarial(RandomPolicy):
    """Random twists, but always pushing down and closing both grippers."""

    def act(self, obs: Any) -> np.ndarray:
        a = super().act(obs)
        a[2], a[9], a[6], a[13] = -1.0, -1.0, -1.0, -1.0
        return a


class RandomThenExpert:
    """A random policy for ``k`` steps, then the expert from wherever that left the cell."""

    def __init__(self, env: Any, k: int) -> None:
        self.random, self.expert, self.k = RandomPolicy(env.action_space), make_expert(env), k

    def reset(self, rng: np.random.Generator) -> None:
        self.random.reset(rng)
        self.expert.reset(rng)
        self.t = 0

    def act(self, obs: Any) -> np.ndarray:
        self.t += 1
        return self.random.act(obs) if self.t <= self.k else self.expert.act(obs)


class OffsetPress(DashboardAssemblyExpert):
    """The expert, pressing straight down with the pegs ``offset`` (m, world x/y) off the sockets."""

    offset = np.zeros(2)

    def reset(self, rng: np.random.Generator) -> None:
        super().reset(rng)
        self.pressing = False

    def _panel_goal(self, panel: np.ndarray) -> np.ndarray:
        seat = self.task.seat_pose.copy()
        seat[:2] += self.offset
        above = seat.copy()
        above[2] += 0.03
        aligned = np.linalg.norm(panel[:2] - seat[:2]) < 0.001 and abs(panel[2] - above[2]) < 0.004
        self.pressing = self.pressing or bool(aligned)
        if self.pressing:
            seat[2] -= 0.012
            return seat
        if panel[2] < above[2] - 0.004 and np.linalg.norm(panel[:2] - seat[:2]) > 0.005:
            return np.concatenate([[panel[0], panel[1], above[2] + 0.01], seat[3:]])
        return above


def rollout(env: Any, policy: Any, episodes: int, seed: int, task_id: str) -> dict[str, float]:
    """Success rate, deepest penetration, peak force, peak object speed, workspace exits."""
    raw = env.unwrapped
    body = raw.backend.model.body(OBJECT[task_id]).id
    data = raw.backend.data
    wins, pen, forces, speed, exits = 0, 0.0, [], 0.0, 0
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        policy.reset(np.random.default_rng(seed + i))
        peak, left = 0.0, False
        for _ in range(raw.task.config.max_steps):
            obs, _, term, trunc, info = env.step(policy.act(obs))
            pen = max(pen, info["penetration"])
            peak = max(peak, *(float(np.linalg.norm(obs["state"][f"{a}/tcp_force"])) for a in ("left", "right")))
            speed = max(speed, float(np.linalg.norm(data.cvel[body][3:])))
            pos = data.xpos[body]
            left = left or bool(np.any(pos < WORKSPACE[0]) or np.any(pos > WORKSPACE[1]))
            if term or trunc:
                break
        wins += bool(info["succeed"])
        forces.append(peak)
        exits += left
    return {"success_rate": wins / episodes, "episodes": episodes, "max_penetration_mm": pen * 1e3,
            "peak_force_n_median": float(np.median(forces)), "peak_force_n_max": float(np.max(forces)),
            "max_object_speed_mps": speed, "object_left_workspace": exits}


def determinism(env: Any, task_id: str) -> dict[str, Any]:
    """Same seed -> identical trajectory; the object's start offsets over 100 reset draws."""
    starts = np.array([env.unwrapped.task.reset_plan(np.random.default_rng(s)).object_poses[OBJECT[task_id]][:2]
                       for s in range(100)])
    return {"same_seed_identical": same_seed_identical(env, steps=30),
            **start_ranges(starts, ("start_x_range_m", "start_y_range_m"))}


def check_task(task_id: str, c: Checks) -> dict[str, Any]:
    env = hb.make(task_id, obs_mode="state")
    out: dict[str, Any] = Progress("task", task=task_id)
    out["expert"] = rollout(env, make_expert(env), c.episodes, c.seed, task_id)
    out["random"] = rollout(env, RandomPolicy(env.action_space), c.episodes, c.seed, task_id)
    blind = OpenLoopReplay(task_id)
    out["blind_open_loop"] = {"nominal_episode_success": blind.nominal_success,
                              **rollout(env, blind, c.script_episodes, c.seed, task_id)}
    out["naive"] = rollout(env, naive_policy(task_id, env), c.script_episodes, c.seed, task_id)
    out["adversarial"] = rollout(env, Adversarial(env.action_space), c.small, c.seed, task_id)
    out["expert_noise_curve"] = {str(n): rollout(env, make_expert(env, noise=n), c.small, c.seed, task_id)
                                 ["success_rate"] for n in (0.1, 0.2, 0.3)}
    out["expert_after_random_30_steps"] = rollout(env, RandomThenExpert(env, 30), c.small, c.seed,
                                                  task_id)["success_rate"]
    out["determinism"] = determinism(env, task_id)
    if task_id == "dashboard_assembly":
        capture = {}
        for mm in (0.0, 0.5, 1.0, 1.5, 2.0, 3.0):
            policy = OffsetPress(env.unwrapped)
            policy.offset = np.array([0.0, mm * 1e-3])
            capture[f"{mm}mm"] = rollout(env, policy, 5, c.seed, task_id)["success_rate"]
        out["capture_range_y_offset_success"] = capture
    env.close()
    return out


def check_physics_only(task_id: str, c: Checks) -> dict[str, Any]:
    env = hb.make(task_id, obs_mode="state")
    out = {"task": task_id, **check_physics(env, task_id, c.small, c.seed)}
    env.close()
    return out


def main(c: Checks) -> int:
    results = [(check_physics_only if c.physics else check_task)(t, c) for t in c.tasks]
    if c.json:
        print(json.dumps(results, indent=1))
    else:
        for r in results:
            print(f"== {r['task']}")
            for key, value in r.items():
                if key != "task":
                    print(f"  {key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(tyro.cli(Checks)))
