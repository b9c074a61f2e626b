"""A scripted supervisor that corrects the policy the way a person with a SpaceMouse would.

The task's expert runs beside the policy every step. When a trigger fires the expert
takes over for a short correction, and its action is executed and logged exactly as
a human intervention is (``info["intervene_action"]``, ``is_intervention``,
``teleop_action``), so learners cannot tell the two apart. Triggers, following the
authors' guidance (learning.md, "Demos and interventions"):

* disagreement: the policy's and the expert's actions differ by more than a threshold
  for ``disagreement_steps`` consecutive steps;
* no progress: the TCP has not come closer to the task's configured target for
  ``stall_steps`` steps;
* safety: the policy's command would leave the safety box by more than a margin.

No trigger fires during the first ``warmup_steps`` of an episode (let the policy
explore), corrections last ``takeover_steps`` (short corrections, not whole-episode
takeovers), and each fired trigger is honoured with probability ``budget``, which
decays linearly to ``final_budget`` over ``budget_decay_steps`` env steps so the
intervention rate falls as training converges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from hilserl_bench.wrappers._arms import arm_slots


@dataclass(frozen=True)
class SupervisorConfig:
    """When and how the scripted supervisor steps in."""

    disagreement_threshold: float = 0.6
    """L2 distance between normalised twist actions (policy frame) that counts as disagreement."""
    disagreement_steps: int = 3
    """Consecutive disagreeing steps before a takeover."""
    stall_steps: int = 20
    """Steps without getting 1 mm closer to the target pose before a takeover."""
    box_margin: float = 0.005
    """Metres by which a commanded position may exceed the safety box before a takeover."""
    warmup_steps: int = 10
    """Steps at the start of each episode during which the policy is never overridden."""
    takeover_steps: int = 6
    """Length of one correction, in env steps."""
    budget: float = 1.0
    """Probability that a fired trigger leads to a takeover at the start of training."""
    final_budget: float = 0.0
    """The probability after ``budget_decay_steps`` env steps."""
    budget_decay_steps: int = 20_000
    """Env steps over which the budget decays linearly."""


class ScriptedIntervention(gym.Wrapper):
    """Outermost wrapper over the learning env; ``env_steps`` drives the budget decay."""

    def __init__(self, env: gym.Env, expert: Any, config: SupervisorConfig | None = None, seed: int = 0) -> None:
        super().__init__(env)
        self.expert = expert
        self.config = config or SupervisorConfig()
        self.rng = np.random.default_rng(seed)
        self.env_steps = 0
        self._reset_counters()

    def _reset_counters(self) -> None:
        self._t = 0
        self._disagree = 0
        self._takeover_left = 0
        self._best_distance = np.inf
        self._since_progress = 0

    def budget(self) -> float:
        c = self.config
        frac = min(1.0, self.env_steps / max(1, c.budget_decay_steps))
        return c.budget + (c.final_budget - c.budget) * frac

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        if seed is not None:
            self.rng = np.random.default_rng([seed, 7919])
        self.expert.reset(np.random.default_rng(self.rng.integers(2**32)))
        self._reset_counters()
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
        return obs, reward, terminated, truncated, info

    def _expert_action(self) -> np.ndarray:
        """The expert's raw-env (base-frame) action, mapped into the policy's (TCP) frame."""
        raw = self.expert.act(self.env.unwrapped.last_obs)
        to_tcp = self.env.get_wrapper_attr("to_tcp")
        return np.clip(to_tcp(np.asarray(raw, dtype=np.float64)), -1.0, 1.0)

    def _should_intervene(self, policy_action: np.ndarray, expert_action: np.ndarray) -> bool:
        c = self.config
        if self._takeover_left > 0:
            self._takeover_left -= 1
            return True
        self._track_progress()
        if self._t < c.warmup_steps:
            return False
        twist = np.concatenate([np.arange(6) + arm.twist.start for arm in arm_slots(self.env)])
        differs = np.linalg.norm(policy_action[twist] - expert_action[twist]) > c.disagreement_threshold
        self._disagree = self._disagree + 1 if differs else 0
        fired = (self._disagree >= c.disagreement_steps or self._since_progress >= c.stall_steps
                 or self._leaves_box(policy_action))
        if fired and self.rng.random() < self.budget():
            self._takeover_left = c.takeover_steps - 1
            self._disagree = 0
            self._since_progress = 0
            return True
        return False

    def _track_progress(self) -> None:
        raw = self.env.unwrapped
        distance = raw.task.progress_distance(raw.backend.scene_state(), raw.arm_states)
        if distance < self._best_distance - 1e-3:
            self._best_distance, self._since_progress = distance, 0
        else:
            self._since_progress += 1

    def _leaves_box(self, policy_action: np.ndarray) -> bool:
        raw = self.env.unwrapped
        if raw.task.control_mode == "wrench":
            return False
        to_base = self.env.get_wrapper_attr("to_base")
        base = np.clip(to_base(policy_action), -1.0, 1.0)
        margin = self.config.box_margin
        for arm, box, state in zip(arm_slots(self.env), raw.task.arm_safety_boxes, raw.arm_states, strict=True):
            commanded = state.pose[:3] + base[arm.twist][:3] * raw.task.config.action_scale[0]
            if np.any(commanded < box.low[:3] - margin) or np.any(commanded > box.high[:3] + margin):
                return True
        return False
