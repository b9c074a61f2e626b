"""The replica_quality.md checks for the three IKEA shelf stages, each printed as a figure.

    python benchmarks/ikea_checks.py --json                              # every stage, default counts
    python benchmarks/ikea_checks.py --stages side_panel_1 --episodes 20

Per stage: scripted expert / uniform random / blind (the expert's actions on the nominal,
unrandomised episode, replayed without looking) / naive (press straight down from the start,
no aligning) success over seeded episodes, with the deepest tight-fit penetration over every
physics step (``info["penetration"]``), the peak F/T force and the held panel's peak speed;
the adversarial policy (random twists, always pressing down); the expert after 20 random steps;
the capture range (the expert aligning to a deliberate offset before pressing); determinism.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import tyro
from check_common import Progress, same_seed_identical, start_ranges

import hilserl_bench as hb
from hilserl_bench.envs.experts import make_expert
from hilserl_bench.envs.experts.ikea_shelf import IkeaShelfExpert
from hilserl_bench.policies import RandomPolicy


@dataclass(frozen=True)
class Checks:
    """Which stages and how many episodes."""

    stages: tuple[str, ...] = ("side_panel_1", "side_panel_2", "top_panel")
    """Stage task ids."""
    episodes: int = 30
    """Seeded episodes for expert and random success."""
    script_episodes: int = 20
    """Seeded episodes for the blind and naive scripts."""
    small: int = 10
    """Episodes for adversarial, takeover and capture-range runs."""
    seed: int = 1000
    """First episode seed."""
    json: bool = False
    """Print one JSON object instead of a table."""
    capture_mm: tuple[float, ...] = (0.0, 1.0, 1.5, 2.5)
    """Deliberate offsets (mm, across the joint) of the capture-range check."""
    only_capture: bool = False
    """Run only the capture-range check."""


class Adversarial(RandomPolicy):
    """Random twists, but both arms always pushing down."""

    def act(self, obs: Any) -> np.ndarray:
        a = super().act(obs)
        a[2] = a[8] = -1.0
        return a


class NaivePress(IkeaShelfExpert):
    """Press straight down from wherever the panel starts: no aligning."""

    def panel_goal(self, panel, seat, dowels):
        goal = panel.copy()
        goal[2] = seat[2] - 0.006
        return goal


class OffsetExpert(IkeaShelfExpert):
    """The expert aligning to a seat shifted by ``offset`` (m, world y) before it presses."""

    offset = 0.0

    def panel_goal(self, panel, seat, dowels):
        seat = seat.copy()
        seat[1] += self.offset
        shifted = dowels.copy()
        shifted[:, :2] = 0.0
        return super().panel_goal(panel, seat, shifted) if panel[2] > seat[2] + 0.013 else self._press(seat)

    @staticmethod
    def _press(seat):
        press = seat.copy()
        press[2] -= 0.006
        return press


class OpenLoopReplay:
    """The expert's actions on the nominal episode, replayed without looking."""

    def __init__(self, stage: str) -> None:
        env = hb.make(stage, obs_mode="state", random_xy=0.0, random_yaw=0.0)
        expert = make_expert(env)
        obs, _ = env.reset(seed=0)
        expert.reset(np.random.default_rng(0))
        self.actions = []
        for _ in range(env.unwrapped.task.config.max_steps):
            self.actions.append(expert.act(obs))
            obs, _, term, trunc, info = env.step(self.actions[-1])
            if term or trunc:
                break
        self.nominal_success = bool(info["succeed"])
        env.close()
        self.t = 0

    def reset(self, rng: np.random.Generator) -> None:
        self.t = 0

    def act(self, obs: Any) -> np.ndarray:
        self.t += 1
        return self.actions[self.t - 1] if self.t <= len(self.actions) else self.actions[-1] * 0.0


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


def rollout(env: Any, policy: Any, episodes: int, seed: int) -> dict[str, float]:
    """Success rate, deepest per-physics-step penetration, peak force, peak panel speed."""
    raw = env.unwrapped
    body = raw.backend.model.body(raw.task.part).id
    data = raw.backend.data
    wins, pen, forces, speed = 0, 0.0, [], 0.0
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        policy.reset(np.random.default_rng(seed + i))
        peak = 0.0
        for _ in range(raw.task.config.max_steps):
            obs, _, term, trunc, info = env.step(policy.act(obs))
            pen = max(pen, info["penetration"])
            peak = max(peak, *(float(np.linalg.norm(obs["state"][f"{a}/tcp_force"])) for a in ("left", "right")))
            speed = max(speed, float(np.linalg.norm(data.cvel[body][3:])))
            if term or trunc:
                break
        wins += bool(info["succeed"])
        forces.append(peak)
    return {"success_rate": wins / episodes, "episodes": episodes, "max_penetration_mm": pen * 1e3,
            "peak_force_n_median": float(np.median(forces)), "peak_force_n_max": float(np.max(forces)),
            "max_panel_speed_mps": speed}


def determinism(env: Any) -> dict[str, Any]:
    """Same seed -> identical trajectory; the panel's start offsets over 200 reset draws."""
    task = env.unwrapped.task
    seat = task.seat_pose()
    starts = np.array([task.start_pose(np.random.default_rng(s))[:2] - seat[:2] for s in range(200)])
    return {"same_seed_identical": same_seed_identical(env, steps=10), **start_ranges(starts)}


def capture_range(env: Any, c: Checks) -> dict[str, float]:
    """Success of the expert pressing with the dowels a set distance off their holes (world y)."""
    capture = {}
    for mm in c.capture_mm:
        policy = OffsetExpert(env.unwrapped)
        policy.offset = mm * 1e-3
        capture[f"{mm}mm"] = rollout(env, policy, max(2, c.small // 2), c.seed)["success_rate"]
    return capture


def check_stage(stage: str, c: Checks) -> dict[str, Any]:
    env = hb.make(stage, obs_mode="state")
    out: dict[str, Any] = Progress("stage", stage=stage)
    if c.only_capture:
        out["capture_range_y_offset_success"] = capture_range(env, c)
        return out
    out["expert"] = rollout(env, make_expert(env), c.episodes, c.seed)
    out["random"] = rollout(env, RandomPolicy(env.action_space), c.episodes, c.seed)
    blind = OpenLoopReplay(stage)
    out["blind_open_loop"] = {"nominal_episode_success": blind.nominal_success,
                              **rollout(env, blind, c.script_episodes, c.seed)}
    out["naive_press_down"] = rollout(env, NaivePress(env.unwrapped), c.script_episodes, c.seed)
    out["adversarial"] = rollout(env, Adversarial(env.action_space), c.small, c.seed)
    out["expert_after_random_20_steps"] = rollout(env, RandomThenExpert(env, 20), c.small, c.seed)["success_rate"]
    out["capture_range_y_offset_success"] = capture_range(env, c)
    out["determinism"] = determinism(env)
    env.close()
    return out


def main(c: Checks) -> int:
    results = [check_stage(s, c) for s in c.stages]
    if c.json:
        print(json.dumps(results, indent=1))
    else:
        for r in results:
            print(f"== {r['stage']}")
            for key, value in r.items():
                if key != "stage":
                    print(f"  {key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(tyro.cli(Checks)))
