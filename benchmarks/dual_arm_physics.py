"""Physics checks of the dual-arm replicas measured at EVERY physics step (replica_quality.md, section 3).

    python benchmarks/dual_arm_checks.py --physics --json     # this module's checks, both tasks

* **Grasp launch**: one hand closes on the task's part at random relative poses around its
  grasp (:func:`~hilserl_bench.envs.replica_probes.grasp_launch_trial`: +/-15 mm, +/-90 deg
  yaw, +/-12 mm height, +/-0.1 rad tilt) and lifts; the part's fastest point and whether it
  left the workspace.
* **Noisy experts and random closes**: whole episodes of the expert with action noise 0.3 and
  of the random policy (which opens and closes both hands at random poses), with the part's
  speed and the workspace checked after every physics step, not only at env steps.
* **Peak F/T**: per episode, the larger arm's |tcp_force| at any physics step and as the
  policy samples it (at env steps), for the expert, random and adversarial policies, with the
  impedance controller's own translational spring (reference-limited) and damper forces at
  that step: a peak far above them is a contact impact, not the controller pushing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hilserl_bench.envs.experts import make_expert
from hilserl_bench.envs.replica_probes import grasp_launch_trial, random_relative_grasp
from hilserl_bench.policies import RandomPolicy
from hilserl_bench.task import Workspace

OBJECT = {"object_handover": "bar", "dashboard_assembly": "panel"}
WORKSPACE = Workspace(np.array([-0.2, -0.6, -0.01]), np.array([1.0, 0.6, 1.0]), ("bar", "panel"))
"""World box the part must stay in (the table and the air above it, both arms' reach)."""
LAUNCH_SPEED = 2.0
"""m/s: a part faster than this was launched."""


class PhysicsWatch:
    """Steps the simulator one physics step at a time and records the part's speed, exits and arm forces."""

    def __init__(self, env: Any, body: str, forces: bool = True) -> None:
        raw = env.unwrapped
        self.backend, self.forces = raw.backend, forces
        self.body = self.backend.model.body(body).id
        self._advance = self.backend.advance
        self.backend.advance = self._step_each
        self.clear()

    def clear(self) -> None:
        self.speed, self.force, self.left = 0.0, 0.0, False
        self.spring_at_peak, self.damper_at_peak = 0.0, 0.0
        """Largest arm's translational spring (clipped) and damper force (N) at the step of the force peak."""

    def _step_each(self, nstep: int) -> float:
        deepest = 0.0
        d = self.backend.data
        for _ in range(nstep):
            depth = self._advance(1)
            deepest = max(deepest, depth) if depth == depth else deepest
            self.speed = max(self.speed, float(np.linalg.norm(d.cvel[self.body][3:])))
            p = d.xpos[self.body]
            self.left |= bool(np.any(p < WORKSPACE.low) or np.any(p > WORKSPACE.high))
            if self.forces:
                force = max(float(np.linalg.norm(a.get_state().force)) for a in self.backend.arms)
                if force > self.force:
                    self.force = force
                    springs = [a.controller.spring_actuators[:3] for a in self.backend.arms]
                    self.spring_at_peak = max(float(np.linalg.norm(d.actuator_force[i])) for i in springs)
                    self.damper_at_peak = max(float(np.linalg.norm(d.actuator_force[i + 1])) for i in springs)
        return deepest

    def close(self) -> None:
        self.backend.advance = self._advance


def watched_rollout(env: Any, policy: Any, episodes: int, seed: int, task_id: str,
                    forces: bool = True) -> dict[str, Any]:
    """Success, the part's top speed, exits and peak F/T (every physics step and as sampled) per episode."""
    watch = PhysicsWatch(env, OBJECT[task_id], forces)
    rows = []
    try:
        for i in range(episodes):
            obs, _ = env.reset(seed=seed + i)
            policy.reset(np.random.default_rng(seed + i))
            watch.clear()
            sampled = 0.0
            for _ in range(env.unwrapped.task.config.max_steps):
                obs, _, term, trunc, info = env.step(policy.act(obs))
                state = obs["state"]
                sampled = max(sampled, *(float(np.linalg.norm(state[f"{a}/tcp_force"])) for a in ("left", "right")))
                if term or trunc:
                    break
            rows.append((bool(info["succeed"]), watch.speed, watch.left, watch.force, sampled,
                         watch.spring_at_peak, watch.damper_at_peak))
    finally:
        watch.close()
    ok, speed, left, force, sampled, spring, damper = (np.array(c) for c in zip(*rows, strict=True))
    out = {"episodes": episodes, "success_rate": float(ok.mean()), "max_object_speed_mps": float(speed.max()),
           "episodes_over_2mps": int((speed > LAUNCH_SPEED).sum()), "left_workspace": int(left.sum())}
    if forces:
        out.update({"peak_ft_every_step_n_median": float(np.median(force)),
                    "peak_ft_every_step_n_max": float(force.max()),
                    "peak_ft_sampled_n_median": float(np.median(sampled)),
                    "peak_ft_sampled_n_max": float(sampled.max()),
                    "controller_spring_n_at_peak_max": float(spring.max()),
                    "controller_damper_n_at_peak_max": float(damper.max())})
    return out


def launch_probe(env: Any, task_id: str, trials: int, seed: int = 0) -> dict[str, Any]:
    """Random-relative-pose grasps by each hand in turn (left, right, ...) on the part at its start."""
    task = env.unwrapped.task
    rng = np.random.default_rng(seed)
    results = []
    for i in range(trials):
        arm = i % 2
        env.reset(seed=1000 + i)
        part = env.unwrapped.backend.scene_state().poses[OBJECT[task_id]]
        grasp = task.grasp_pose(part, arm) if task_id == "object_handover" else task.handle_grasp(part, arm)
        pose = task.to_arm(arm, random_relative_grasp(grasp, rng))
        results.append(grasp_launch_trial(env, OBJECT[task_id], pose, arm_index=arm, workspace=WORKSPACE))
    speeds = np.array([t.max_speed for t in results])
    return {"trials": trials, "max_speed_mps": float(speeds.max()), "p99_speed_mps": float(np.quantile(speeds, 0.99)),
            "over_2mps": int((speeds > LAUNCH_SPEED).sum()),
            "left_workspace": int(sum(not t.in_workspace for t in results)),
            "lifted": int(sum(t.final_z > t.min_z + 0.02 for t in results))}


def check_physics(env: Any, task_id: str, episodes: int, seed: int = 1000) -> dict[str, Any]:
    """Every check of this module on one task (``episodes`` per policy, twice that many launch trials)."""
    from dual_arm_checks import Adversarial  # the checks script owns the adversarial policy

    return {
        "grasp_launch": launch_probe(env, task_id, 2 * episodes),
        "expert_noise_0.3": watched_rollout(env, make_expert(env, noise=0.3), episodes, seed, task_id, forces=False),
        "expert": watched_rollout(env, make_expert(env), episodes, seed, task_id),
        "random": watched_rollout(env, RandomPolicy(env.action_space), episodes, seed, task_id),
        "adversarial": watched_rollout(env, Adversarial(env.action_space), episodes, seed, task_id),
    }
