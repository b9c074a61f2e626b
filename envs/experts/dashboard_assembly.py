"""Scripted dashboard assembly, acting from the state alone (no timers), so it can take over anywhere.

Sim-only: it reads the panel's pose. Every step each hand either holds its handle (gripper
squeezing the 3 cm handle, TCP at the handle) or goes to get it (hover, align, descend,
close) while the other hand keeps still. With both hands on the panel they move it as one
rigid body, each TCP keeping its measured pose relative to the panel: up off the rack, over
the frame 3 cm above the seat, down once aligned within 1 mm and 5 mrad (and on down once the
pegs are in their sockets, where the latches push the panel up to 1 mm aside), then press 12 mm
past the seat (each arm's reference limit caps that at ~20 N) until both clips snap.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.envs.experts import register_expert
from hilserl_bench.envs.experts.base import Expert, servo_action
from hilserl_bench.envs.experts.object_handover import pick_action
from hilserl_bench.envs.franka_model import GRIPPER_MAX_WIDTH
from hilserl_bench.envs.props import dashboard as dash

CLOSE = -1.0
HANDLE_WIDTH = 2 * dash.HANDLE_HALF[0]
HELD_OPENING = (0.5 * HANDLE_WIDTH / GRIPPER_MAX_WIDTH, (HANDLE_WIDTH + 0.0015) / GRIPPER_MAX_WIDTH)
ABOVE = 0.03
PRESS = 0.012
ALIGNED = (0.001, 0.005)


@register_expert("dashboard_assembly")
class DashboardAssemblyExpert(Expert):
    """Grasp both handles, carry, align over the clips, press until they snap."""

    sim_only = True

    def plan(self, obs: dict[str, Any]) -> np.ndarray:
        task = self.task
        states = self.env.arm_states
        tcps = task.tcp_world(states)
        panel = self.scene().poses["panel"]
        grasps = [task.handle_grasp(panel, i) for i in range(2)]
        holds = [HELD_OPENING[0] < states[i].gripper_pos < HELD_OPENING[1]
                 and np.linalg.norm(tcps[i][:3] - grasps[i][:3]) < 0.02 for i in range(2)]
        if all(holds):
            panel_goal = self._panel_goal(panel)
            goals = [geo.pose_compose(panel_goal, geo.pose_compose(geo.pose_inverse(panel), t)) for t in tcps]
            grip = [CLOSE, CLOSE]
        else:
            goals, grip = [], []
            for i in range(2):
                if holds[i]:
                    goals.append(tcps[i])
                    grip.append(CLOSE)
                else:
                    goal, g = pick_action(tcps[i], grasps[i], states[i].gripper_pos)
                    goals.append(goal)
                    grip.append(g)
        scale = task.config.action_scale
        return np.concatenate([np.append(servo_action(states[i].pose, task.to_arm(i, goals[i]), scale), grip[i])
                               for i in range(2)])

    def _panel_goal(self, panel: np.ndarray) -> np.ndarray:
        seat = self.task.seat_pose
        above = seat.copy()
        above[2] += ABOVE
        lateral = float(np.linalg.norm(panel[:2] - seat[:2]))
        angle = float(np.linalg.norm(geo.orientation_error(panel[3:], seat[3:])))
        entered = panel[2] < seat[2] + dash.PEG_LENGTH - 0.004 and lateral < 0.003 and angle < 0.02
        if not entered and (lateral > ALIGNED[0] or angle > ALIGNED[1]):
            if lateral > 0.01 and panel[2] < above[2] - 0.005:
                lift = panel.copy()
                lift[2] = above[2] + 0.01
                lift[3:] = seat[3:]
                return lift
            if panel[2] < above[2] - 0.005 and lateral > 0.003:
                return np.concatenate([[panel[0], panel[1], above[2]], seat[3:]])
            return above
        press = seat.copy()
        press[2] -= PRESS
        return press
