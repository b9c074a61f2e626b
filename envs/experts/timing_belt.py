"""Scripted timing belt assembly, acting from the state alone (no timers), so it can take over anywhere.

Sim-only: it reads the fixture's pose and the belt's vertices. Both hands hold the belt's ends on
their open fingers the whole time and move as one: each step it picks one phase for both, from
the state:

* belt seated (all around, whatever the hands do), or hands already pushed in over the pulley
  centres: lift straight up (the finger pads slide up out of the loop and the belt snaps into
  the grooves; lifting from the pushed-in pose is also how it lets go);
* hands at groove height, centred across the pulley line, still outside: push in along the line
  to over the pulley centres (the loop's ends slide between the flanges onto the hubs);
* hands centred over their hook points (within 1.5 mm): lower the belt to groove height;
* otherwise: centre the hands over the hook points at carrying height, lifting straight up
  first if they are low (fingers or belt may be on a flange).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.envs.experts import register_expert
from hilserl_bench.envs.experts.base import Expert, Progress, servo_action
from hilserl_bench.envs.props import timing_belt as tb
from hilserl_bench.envs.tasks.timing_belt import HOOK_OUT, START_LIFT

ALIGNED = 0.0015
LOW = 0.003
PUSHED_IN = 0.006
CARRY = 0.035
LIFT = 0.08


@register_expert("timing_belt")
class TimingBeltExpert(Expert):
    """Centre the stretched belt over the pulleys, lower it, push its ends onto the hubs, lift out."""

    sim_only = True
    phases = ("align", "lower", "push in", "lift out")

    def phase(self, obs: dict[str, Any]) -> str:
        scene = self.scene()
        task = self.task
        fixture = scene.poses["belt_fixture"]
        inv = geo.pose_inverse(fixture)
        tcps = [geo.pose_compose(inv, t)[:3] for t in task.tcp_world(self.env.arm_states)]
        hooks = [geo.pose_compose(inv, task.hook_pose(fixture, i))[:3] for i in range(2)]
        across = max(abs(t[0] - h[0]) for t, h in zip(tcps, hooks, strict=True))
        outward = [abs(t[1]) - (tb.PULLEY_Y + HOOK_OUT) for t in tcps]
        height = max(t[2] - h[2] for t, h in zip(tcps, hooks, strict=True))
        if task.seated(scene).all() or all(o < PUSHED_IN - HOOK_OUT for o in outward):
            return "lift out"
        if height < LOW and across < 2 * ALIGNED and all(o < ALIGNED for o in outward):
            return "push in"
        off = max(across, *(abs(o) for o in outward))
        if off < ALIGNED or (height < CARRY and off < 2 * ALIGNED):
            return "lower"
        return "align"

    def plan(self, obs: dict[str, Any]) -> np.ndarray:
        task, states = self.task, self.env.arm_states
        goals = self.goals(self.phase(obs))
        scale = task.config.action_scale
        return np.concatenate([servo_action(states[i].pose, task.to_arm(i, goals[i]), scale) for i in range(2)])

    def goals(self, phase: str) -> list[np.ndarray]:
        """Both hands' world TCP goals in ``phase``."""
        task = self.task
        fixture = self.scene().poses["belt_fixture"]
        goals = []
        for i, tcp in enumerate(task.tcp_world(self.env.arm_states)):
            hook = task.hook_pose(fixture, i)
            above = float(tcp[2] - hook[2])
            if phase == "lift out":
                goal = np.concatenate([tcp[:2], [hook[2] + LIFT], hook[3:]])
            elif phase == "push in":
                goal = self._inward(fixture, i)
            elif phase == "lower":
                goal = hook
            elif above < CARRY - 0.005:
                goal = np.concatenate([tcp[:2], [hook[2] + CARRY + 0.005], hook[3:]])
            else:
                goal = task.hook_pose(fixture, i, min(max(above, CARRY), START_LIFT))
            goals.append(goal)
        return goals

    def _inward(self, fixture: np.ndarray, arm: int) -> np.ndarray:
        """TCP pose over its pulley's centre at release height (the belt's end on the hub)."""
        hook = self.task.hook_pose(fixture, arm)
        shift = geo.quat_to_mat(fixture[3:]) @ np.array([0.0, -HOOK_OUT if arm == 0 else HOOK_OUT, 0.0])
        return np.concatenate([hook[:3] + shift, hook[3:]])

    def progress(self, obs: dict[str, Any]) -> Progress | None:
        """The phase, and both hands' distance to that phase's goals (lifting out counts down to the lift)."""
        phase = self.phase(obs)
        tcps = self.task.tcp_world(self.env.arm_states)
        distance = sum(float(np.linalg.norm(g[:3] - t[:3])) for g, t in zip(self.goals(phase), tcps, strict=True))
        return Progress(self.phases.index(phase), phase, distance)
