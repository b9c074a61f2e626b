"""The replica_quality.md checks for the timing belt task, each printed as a figure.

    python benchmarks/timing_belt_checks.py --json                       # 100 episodes per policy
    python benchmarks/timing_belt_checks.py --episodes 20 --script-episodes 20 --small 5

Expert / uniform random / blind (the expert's actions on the nominal episode, replayed without
looking) / naive scripts (straight down over the nominal fixture; centred but let go without
pushing the belt's ends onto the hubs) success over seeded episodes, each with the deepest
finger-on-pulley penetration over every physics step (``info["penetration"]``), the peak F/T
force, the belt's fastest vertex and workspace exits; whether a success stays seated 2 s after
(hands clear, nothing commanded); the adversarial policy (random twists, pushing down); the
expert with action noise and after random steps; the capture range (the expert lowering with a
deliberate offset); the belt's stretch and tension held and seated; determinism; speed.
Reuses the IKEA checks' twelve-dimension policies (blind replay, adversary, takeover).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mujoco
import numpy as np
import tyro

sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_common import Progress, same_seed_identical, start_ranges  # noqa: E402
from ikea_checks import Adversarial, OpenLoopReplay, RandomThenExpert  # noqa: E402
from timing_belt_policies import NaiveNoPushIn, NaiveStraightDown, OffsetExpert  # noqa: E402

import hilserl_bench as hb  # noqa: E402
from hilserl_bench.envs.experts import make_expert  # noqa: E402
from hilserl_bench.envs.props import timing_belt as tb  # noqa: E402
from hilserl_bench.policies import RandomPolicy  # noqa: E402

TASK = "timing_belt"


@dataclass(frozen=True)
class Checks:
    """How many episodes per check."""

    episodes: int = 100
    """Seeded episodes for expert and random success."""
    script_episodes: int = 50
    """Seeded episodes for the blind and naive scripts."""
    random_episodes: int = 0
    """Seeded episodes for the random policy (0: as many as ``episodes``)."""
    small: int = 10
    """Episodes for adversarial, noise and takeover runs."""
    capture_episodes: int = 3
    """Episodes per offset of the capture-range check."""
    script_max_steps: int = 0
    """Episode length for the blind, naive and capture-range scripts (0: the task's 200); their motions
    end within ~40 steps, after which they only hold, so a shorter cut saves time without changing them."""
    only: tuple[str, ...] = ()
    """Run only these checks (names as in the output); empty: all."""
    seed: int = 1000
    """First episode seed."""
    json: bool = False
    """Print one JSON object instead of lines."""


def rollout(env: Any, policy: Any, episodes: int, seed: int, hold_steps: int = 20) -> dict[str, float]:
    """Success, penetration, peak force, fastest belt vertex, exits, and successes still seated after a hold."""
    raw = env.unwrapped
    data, task = raw.backend.data, raw.task
    belt = [raw.backend.model.body(v).id for v in task.belt]
    wins, kept, pen, belt_pen, forces, speed, lost = 0, 0, 0.0, 0.0, [], 0.0, 0
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        policy.reset(np.random.default_rng(seed + i))
        peak = 0.0
        for _ in range(task.config.max_steps):
            obs, _, term, trunc, info = env.step(policy.act(obs))
            pen = max(pen, info["penetration"])
            peak = max(peak, *(float(np.linalg.norm(obs["state"][f"{a}/tcp_force"])) for a in ("left", "right")))
            speed = max(speed, float(np.linalg.norm(data.cvel[belt][:, 3:], axis=1).max()))
            belt_pen = max(belt_pen, belt_penetration(data))
            if term or trunc:
                break
        lost += bool(info.get("object_lost"))
        if info["succeed"]:
            wins += 1
            for _ in range(hold_steps):
                raw.backend.wait_for_next_step()
            arms = tuple(arm.get_state() for arm in raw.backend.arms)
            kept += task.evaluate(raw.backend.scene_state(), arms).success
        forces.append(peak)
    return {"success_rate": wins / episodes, "episodes": episodes, "still_seated_2s_later": kept,
            "max_penetration_mm": pen * 1e3, "belt_max_penetration_mm_per_env_step": belt_pen * 1e3,
            "peak_force_n_median": float(np.median(forces)),
            "peak_force_n_max": float(np.max(forces)), "max_belt_speed_mps": speed, "object_lost": lost}


def belt_penetration(data: mujoco.MjData) -> float:
    """Deepest contact (m) of the belt (the model's only flex) with anything, in the current contact array."""
    n = data.ncon
    if n == 0:
        return 0.0
    flex = data.contact.flex[:n]
    hit = (flex[:, 0] >= 0) | (flex[:, 1] >= 0)
    return max(0.0, -float(data.contact.dist[:n][hit].min())) if hit.any() else 0.0


def belt_load(env: Any, seed: int) -> dict[str, float]:
    """Belt strain and tension held on the hands at reset and seated after the expert, tensioner travel."""
    raw = env.unwrapped
    m, d, task = raw.backend.model, raw.backend.data, raw.task
    ids = [m.body(v).id for v in task.belt]

    def strain() -> float:
        p = d.xpos[ids]
        return float(np.linalg.norm(np.roll(p, -1, axis=0) - p, axis=1).sum() / tb.REST_LENGTH - 1.0)

    def tension() -> float:
        rows = d.efc_type == mujoco.mjtConstraint.mjCNSTR_LIMIT_TENDON
        return float(np.median(np.abs(d.efc_force[rows]))) if rows.any() else 0.0

    obs, _ = env.reset(seed=seed)
    out = {"held_strain": strain(), "held_tension_n": tension()}
    expert = make_expert(env)
    expert.reset(np.random.default_rng(seed))
    for _ in range(task.config.max_steps):
        obs, _, term, trunc, info = env.step(expert.act(obs))
        if term or trunc:
            break
    for _ in range(20):
        raw.backend.wait_for_next_step()
    travel = task.tensioner_offset(raw.backend.scene_state())
    spring = tb.TENSIONER_K * travel + tb.TENSIONER_PRELOAD
    out.update(seated_strain=strain(), seated_tension_n=tension(), tensioner_mm=travel * 1e3,
               spring_force_n=spring, axial_stiffness_ea_n=0.5 * spring / max(strain(), 1e-9))
    return out


def determinism(env: Any) -> dict[str, Any]:
    """Same seed -> identical trajectory; the fixture's start offsets over 200 reset draws."""
    task = env.unwrapped.task
    starts = np.array([task.fixture_start(np.random.default_rng(s))[:2] - task.nominal_fixture[:2]
                       for s in range(200)])
    return {"same_seed_identical": same_seed_identical(env, steps=10), **start_ranges(starts)}


def speed(env: Any, steps: int = 100) -> dict[str, float]:
    """Env steps/s in state mode and raw physics steps/s, beside object_handover's in the same process."""
    out = {}
    for task_id, e in ((TASK, env), ("object_handover", hb.make("object_handover", obs_mode="state"))):
        e.reset(seed=0)
        start = time.perf_counter()
        for _ in range(steps):
            e.step(np.zeros(e.action_space.shape, dtype=np.float32))
        out[f"{task_id}_env_steps_per_s"] = steps / (time.perf_counter() - start)
        backend = e.unwrapped.backend
        out[f"{task_id}_physics_steps_per_s"] = steps * backend.substeps / backend.raw_physics_seconds(steps)
    out["env_ratio_to_handover"] = out[f"{TASK}_env_steps_per_s"] / out["object_handover_env_steps_per_s"]
    return out


CHECKS = ("expert", "random", "blind_open_loop", "naive_straight_down", "naive_no_push_in", "adversarial",
          "expert_noise_curve", "expert_after_random_20_steps", "capture_range_success", "belt_load", "determinism",
          "speed")


def run_check(name: str, env: Any, c: Checks) -> Any:
    """One named check's figures."""
    raw = env.unwrapped
    if name == "expert":
        return rollout(env, make_expert(env), c.episodes, c.seed)
    if name == "random":
        return rollout(env, RandomPolicy(env.action_space), c.random_episodes or c.episodes, c.seed)
    if name == "blind_open_loop":
        blind = OpenLoopReplay(TASK)
        return {"nominal_episode_success": blind.nominal_success, **rollout(env, blind, c.script_episodes, c.seed)}
    if name == "naive_straight_down":
        return rollout(env, NaiveStraightDown(raw), c.script_episodes, c.seed)
    if name == "naive_no_push_in":
        return rollout(env, NaiveNoPushIn(raw), c.script_episodes, c.seed)
    if name == "adversarial":
        return rollout(env, Adversarial(env.action_space), c.small, c.seed)
    if name == "expert_noise_curve":
        return {str(n): rollout(env, make_expert(env, noise=n), c.small, c.seed)["success_rate"]
                for n in (0.1, 0.2, 0.3)}
    if name == "expert_after_random_20_steps":
        return rollout(env, RandomThenExpert(env, 20), c.small, c.seed)["success_rate"]
    if name == "capture_range_success":
        capture = {}
        for axis, mms in (("along", (0, 2, 3, 4, 6)), ("across", (0, 4, 8, 10, 14))):
            for mm in mms:
                policy = OffsetExpert(raw)
                policy.offset = np.array([mm * 1e-3, 0.0] if axis == "across" else [0.0, mm * 1e-3])
                capture[f"{axis}_{mm}mm"] = rollout(env, policy, c.capture_episodes, c.seed)["success_rate"]
        return capture
    if name == "belt_load":
        return belt_load(env, c.seed)
    if name == "determinism":
        return determinism(env)
    return speed(env)


def main(c: Checks) -> int:
    unknown = set(c.only) - set(CHECKS)
    if unknown:
        raise SystemExit(f"unknown checks {sorted(unknown)}; choose from {list(CHECKS)}")
    env = hb.make(TASK, obs_mode="state")
    short = hb.make(TASK, obs_mode="state", max_steps=c.script_max_steps) if c.script_max_steps else env
    out: dict[str, Any] = Progress("task", task=TASK)
    for name in c.only or CHECKS:
        scripted = name in ("blind_open_loop", "naive_straight_down", "naive_no_push_in", "capture_range_success")
        out[name] = run_check(name, short if scripted else env, c)
    env.close()
    if c.json:
        print(json.dumps(out, indent=1))
    else:
        for key, value in out.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(tyro.cli(Checks)))
