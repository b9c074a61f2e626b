"""A scripted supervisor that corrects the policy the way a person with a SpaceMouse would.

The task's expert runs beside the policy every step. When a trigger fires the expert
takes over for a short correction, and its action is executed and logged exactly as
a human intervention is (``info["intervene_action"]``, ``is_intervention``,
``teleop_action``), so learners cannot tell the two apart. Triggers, following the
authors' guidance (learning.md, "Demos and interventions"):

* disagreement: the twist commands differ by more than a threshold for
  ``disagreement_steps`` consecutive steps, or the gripper commands would leave the
  gripper in different states (the policy opens a hand the expert keeps closed, or
  does not close where the expert closes) for ``gripper_disagreement_steps`` steps;
  the gripper is compared by outcome, so "stay" and a redundant "close" agree;
* no progress: the expert's :meth:`~hilserl_bench.envs.experts.base.Expert.progress`
  reading, taken from the state, reaches no later phase and comes no closer to the
  current phase's goal for ``stall_steps`` steps; each phase is judged by its own goal,
  so walking to a part to pick it up is progress even though it moves away from the
  insertion target;
* safety: the policy's command would leave the safety box by more than a margin.

No trigger fires during the first ``warmup_steps`` of an episode (let the policy
explore), corrections last ``takeover_steps`` (short corrections, not whole-episode
takeovers), and each fired trigger is honoured with the probability given by the
success-driven budget (:mod:`hilserl_bench.training.intervention_budget`). Gripper
commands of a correction that would not change the gripper are executed and logged
as "stay" (:mod:`hilserl_bench.data.gripper_labels`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from hilserl_bench.data.gripper_labels import effective_gripper, gripper_open, stay_when_idle
from hilserl_bench.training.intervention_budget import BudgetConfig, InterventionBudget
from hilserl_bench.wrappers._arms import arm_slots


@dataclass(frozen=True)
class SupervisorConfig:
    """When and how the scripted supervisor steps in."""

    disagreement_threshold: float = 0.6
    """L2 distance between the twist parts (all arms) of the normalised actions that counts as disagreement."""
    disagreement_steps: int = 3
    """Consecutive steps of twist disagreement before a takeover."""
    gripper_disagreement_steps: int = 1
    """Consecutive steps in which policy and expert would leave a gripper in different states before a takeover.
    One by default: a wrong open drops the part at once, so it is corrected before it executes."""
    stall_steps: int = 20
    """Steps without progress (no later phase, no progress_tol gain within the phase) before a takeover."""
    progress_tol: float = 1e-3
    """Gain (m, +0.05 m/rad) toward the current phase's goal that counts as progress."""
    box_margin: float = 0.005
    """Metres by which a commanded position may exceed the safety box before a takeover."""
    warmup_steps: int = 10
    """Steps at the start of each episode during which the policy is never overridden."""
    takeover_steps: int = 6
    """Length of one correction, in env steps."""
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    """Probability that a fired trigger is honoured, driven by the policy's success in probe episodes."""


class StallCounter:
    """Steps since the expert's progress reading last improved: a later stage, or ``tol`` closer within one.

    Falling back to an earlier stage (a dropped part) resets the reference to that stage
    but is not progress, so the counter keeps running until the policy gains again.
    """

    def __init__(self, tol: float) -> None:
        self.tol = tol
        self.best: tuple[int, float] | None = None
        self.since_progress = 0

    def update(self, reading: Any) -> int:
        """Take one :class:`~hilserl_bench.envs.experts.base.Progress` reading; return the steps since progress."""
        stage, distance = int(reading.stage), float(reading.distance)
        best = self.best
        if best is None or stage > best[0] or (stage == best[0] and distance < best[1] - self.tol):
            self.best, self.since_progress = (stage, distance), 0
            return 0
        if stage < best[0]:
            self.best = (stage, distance)
        self.since_progress += 1
        return self.since_progress


class ScriptedIntervention(gym.Wrapper):
    """Outermost wrapper over the learning env; counts episodes for the success-driven budget."""

    def __init__(self, env: gym.Env, expert: Any, config: SupervisorConfig | None = None, seed: int = 0) -> None:
        super().__init__(env)
        self.expert = expert
        self.config = config or SupervisorConfig()
        self.schedule = InterventionBudget(self.config.budget)
        self.rng = np.random.default_rng(seed)
        self.env_steps = 0
        slots = arm_slots(env)
        self._twist = np.concatenate([np.arange(s.twist.start, s.twist.stop) for s in slots])
        self._grippers = [(s.gripper, s.prefix) for s in slots if s.gripper is not None]
        self._in_episode = False
        self._reset_counters()

    def _reset_counters(self) -> None:
        self._t = 0
        self._disagree = self._gripper_disagree = 0
        self._takeover_left = 0
        self._stall = StallCounter(self.config.progress_tol)

    def budget(self) -> float:
        """Probability that a trigger fired now is honoured (0 in probe episodes)."""
        if self.probing:
            return 0.0
        return self.schedule.value()

    @property
    def probing(self) -> bool:
        """Whether the current episode is a probe of the policy's own success (no takeovers)."""
        return self.schedule.is_probe(self.schedule.episodes)

    def restore(self, env_steps: int, rows: Sequence[dict[str, Any]]) -> None:
        """Resume: the run's env-step count and its metrics rows (rebuild the budget)."""
        self.env_steps = int(env_steps)
        self.schedule.restore(rows)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        if seed is not None:
            self.rng = np.random.default_rng([seed, 7919])
        self.expert.reset(np.random.default_rng(self.rng.integers(2**32)))
        self._reset_counters()
        self._in_episode = True
        return obs, info

    def step(self, action: np.ndarray):
        policy_action = np.asarray(action, dtype=np.float64)
        expert_action = self._expert_action()
        intervene = self._should_intervene(policy_action, expert_action)
        executed = expert_action if intervene else policy_action
        obs, reward, terminated, truncated, info = self.env.step(executed)
        self._t += 1
        self.env_steps += 1
        if intervene:
            info["intervene_action"] = executed.astype(np.float32)
            info["teleop_action"] = executed.astype(np.float32)
            info["is_intervention"] = True
        if (terminated or truncated) and self._in_episode:
            self.schedule.end_episode(bool(info.get("succeed", False)))
            self._in_episode = False
        return obs, reward, terminated, truncated, info

    def _gripper_open(self) -> list[bool]:
        state = self.env.unwrapped.last_obs["state"]
        return gripper_open(state, [prefix for _, prefix in self._grippers])

    def _expert_action(self) -> np.ndarray:
        """The expert's raw-env (base-frame) action in the policy's (TCP) frame, idle gripper commands as "stay"."""
        raw = self.expert.act(self.env.unwrapped.last_obs)
        to_tcp = self.env.get_wrapper_attr("to_tcp")
        action = np.clip(to_tcp(np.asarray(raw, dtype=np.float64)), -1.0, 1.0)
        if self._grippers:
            action = stay_when_idle(action, [dim for dim, _ in self._grippers], self._gripper_open())
        return action

    def _should_intervene(self, policy_action: np.ndarray, expert_action: np.ndarray) -> bool:
        c = self.config
        if self._takeover_left > 0:
            self._takeover_left -= 1
            return True
        self._track_progress()
        if self._t < c.warmup_steps:
            return False
        differs = np.linalg.norm(policy_action[self._twist] - expert_action[self._twist]) > c.disagreement_threshold
        self._disagree = self._disagree + 1 if differs else 0
        self._gripper_disagree = self._gripper_disagree + 1 if self._grippers_differ(policy_action, expert_action) \
            else 0
        stalled = self._stall.since_progress >= c.stall_steps
        fired = (self._disagree >= c.disagreement_steps or self._gripper_disagree >= c.gripper_disagreement_steps
                 or stalled or self._leaves_box(policy_action))
        if fired and self.rng.random() < self.budget():
            self._takeover_left = c.takeover_steps - 1
            self._disagree = self._gripper_disagree = 0
            self._stall.since_progress = 0
            return True
        return False

    def _grippers_differ(self, policy_action: np.ndarray, expert_action: np.ndarray) -> bool:
        if not self._grippers:
            return False
        return any(effective_gripper(float(policy_action[dim]), was_open) !=
                   effective_gripper(float(expert_action[dim]), was_open)
                   for (dim, _), was_open in zip(self._grippers, self._gripper_open(), strict=True))

    def _track_progress(self) -> None:
        progress = getattr(self.expert, "progress", None)
        reading = progress(self.env.unwrapped.last_obs) if progress is not None else None
        if reading is not None:
            self._stall.update(reading)

    def _leaves_box(self, policy_action: np.ndarray) -> bool:
        raw = self.env.unwrapped
        if raw.task.control_mode == "wrench" or not any(k.endswith("tcp_pose") for k in raw.last_obs["state"]):
            return False
        to_base = self.env.get_wrapper_attr("to_base")
        base = np.clip(to_base(policy_action), -1.0, 1.0)
        margin = self.config.box_margin
        for arm, box, state in zip(arm_slots(self.env), raw.task.arm_safety_boxes, raw.arm_states, strict=True):
            commanded = state.pose[:3] + base[arm.twist][:3] * raw.task.config.action_scale[0]
            if np.any(commanded < box.low[:3] - margin) or np.any(commanded > box.high[:3] + margin):
                return True
        return False
