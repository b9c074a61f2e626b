"""Scripted IKEA shelf stages, acting from the state alone (no timers), so it can take over anywhere.

Sim-only: it reads the panel's pose (and, for the top panel, where the side panels stand).
Both hands hold the panel the whole episode, so each step it picks one goal pose for the panel
and sends each TCP to that goal composed with the TCP's measured pose relative to the panel:
the hands move it as one rigid body and never pull against each other. Goals, from the state:
dowels misaligned (tips more than 0.8 mm or 5 mrad off their holes) and below the hover height:
lift straight up; misaligned and above: go to the hover pose (tips 5 mm above the mouths);
aligned, or dowels already inside their holes: press down at up to 4 cm/s toward 6 mm past the
seat (each arm's reference limit caps the push at about 2000 N/m x 5.5 mm per arm).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.envs.experts import register_expert
from hilserl_bench.envs.experts.base import Expert
from hilserl_bench.envs.props import ikea_shelf as shelf

HOVER = shelf.DOWEL_OUT + 0.005
PRESS = 0.006
ALIGNED = (0.0008, 0.005)
STEP_DOWN = 0.004
"""Most the pressing goal leads the panel by (m): dowels enter at 4 cm/s, not slammed in."""
MAX_ACTION = 1.0
"""Largest action component; both arms' twists are scaled together to stay under it."""
GAIN = 1.0
"""Translation servo gain (2 overshot into a +/-1.8 mm limit cycle). Both arms' twists are scaled
down together (never clipped one by one), so the hands keep moving the panel as one rigid body
even when the motion is larger than one step can make."""


class IkeaShelfExpert(Expert):
    """Carry the held panel over its holes, align, press to full depth."""

    sim_only = True

    def plan(self, obs: dict[str, Any]) -> np.ndarray:
        task, states = self.task, self.env.arm_states
        scene = self.scene()
        panel = scene.poses[task.part]
        goal = self.panel_goal(panel, task.seat_pose(scene), task.dowel_offsets(scene))
        scale_t, scale_r, _ = task.config.action_scale
        moves = []
        for i, tcp in enumerate(task.tcp_world(states)):
            target = task.to_arm(i, geo.pose_compose(goal, geo.pose_compose(geo.pose_inverse(panel), tcp)))
            current = states[i].pose
            moves.append(np.concatenate([GAIN * (target[:3] - current[:3]) / scale_t,
                                         geo.orientation_error(current[3:], target[3:]) / scale_r]))
        action = np.concatenate(moves)
        return action * min(1.0, MAX_ACTION / max(float(np.abs(action).max()), 1e-9))

    def panel_goal(self, panel: np.ndarray, seat: np.ndarray, dowels: np.ndarray) -> np.ndarray:
        """Where the panel should go next, from its pose, its seat and its dowel-tip offsets."""
        lateral = float(np.abs(dowels[:, :2]).max())
        angle = float(np.linalg.norm(geo.orientation_error(panel[3:], seat[3:])))
        entered = bool((dowels[:, 2] < shelf.DOWEL_OUT - 0.002).all()) and lateral < shelf.CLEARANCE + 0.001
        hover = seat.copy()
        hover[2] += HOVER
        if not entered and (lateral > ALIGNED[0] or angle > ALIGNED[1]):
            if panel[2] < hover[2] - 0.003 and lateral > shelf.CLEARANCE:
                return np.concatenate([[panel[0], panel[1], hover[2] + 0.003], seat[3:]])
            return hover
        press = seat.copy()
        press[2] = max(seat[2] - PRESS, panel[2] - STEP_DOWN)
        return press


for _task in ("side_panel_1", "side_panel_2", "top_panel"):
    register_expert(_task)(IkeaShelfExpert)
