"""Scripted SSD assembly: line the 20-degree board up with the mouth, slide it in, pivot it down, press.

Reads only what the real robot knows: the configured socket pose (through the task's
target), the nominal grasp, the measured TCP pose and the F/T estimate, so it runs
unchanged on hardware. It infers where the board is from the TCP pose, so a state
left by another policy (board off the path, half inserted, half laid down) sends it
back to the right phase: anything not inside the mouth goes back to the approach.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.envs.experts import register_expert
from hilserl_bench.envs.experts.base import Expert, servo_action
from hilserl_bench.envs.props import m2_ssd as m2
from hilserl_bench.envs.tasks.ssd_assembly import board_in_socket

PRE_INSERT = 0.006
"""Edge this far back along the 20-degree axis before sliding in (m): 2.4 mm outside the mouth."""
HOVER = 0.004
"""Approach waypoint this far above the pre-insert pose (m)."""
PUSH = 0.0008
"""Insertion and lay-down targets this far past the seat along the board's axis (m), keeping the edge home."""
LAY_STEP = np.deg2rad(6.0)
"""Pivot command per step while laying the board down (rad)."""


@register_expert("ssd_assembly")
class SsdAssemblyExpert(Expert):
    """Phases approach -> align -> insert -> lay; a stalled insertion or a board out of the mouth backs off."""

    def reset(self, rng: np.random.Generator) -> None:
        super().reset(rng)
        self.phase, self.stall, self.best = "approach", 0, np.inf

    def _tcp(self, board: np.ndarray, lift: float = 0.0) -> np.ndarray:
        goal = self.task.tcp_for_board(board)
        goal[2] += lift
        return goal

    def plan(self, obs: dict[str, Any]) -> np.ndarray:
        pose = np.asarray(obs["state"]["tcp_pose"], dtype=np.float64)
        scale = self.task.config.action_scale
        board = self.task.board_from_tcp(pose)
        rot = geo.quat_to_mat(board[3:])
        angle = float(np.arctan2(-rot[2, 0], rot[0, 0]))
        inside = board[0] > 0.0005 and abs(board[1]) < 0.001
        pre = board_in_socket(m2.INSERT_ANGLE, PRE_INSERT)
        if self.phase == "approach":
            goal = self._tcp(pre, HOVER)
            if _close(pose, goal, 0.001, 0.01):
                self.phase = "align"
            return servo_action(pose, goal, scale)
        if self.phase == "align":
            goal = self._tcp(pre)
            if _close(pose, goal, 0.0005, 0.008):
                self.phase, self.stall, self.best = "insert", 0, np.inf
            return servo_action(pose, goal, scale)
        if self.phase == "insert":
            depth_left = float(np.linalg.norm(board[:3] - board_in_socket(m2.INSERT_ANGLE)[:3]))
            self.stall = 0 if depth_left < self.best - 2e-4 else self.stall + 1
            self.best = min(self.best, depth_left)
            if depth_left < 0.0004 and inside:
                self.phase = "lay"
            elif self.stall >= 4:
                self.phase = "align"
            return servo_action(pose, self._tcp(board_in_socket(m2.INSERT_ANGLE, -PUSH)), scale)
        if not inside:
            self.phase = "approach"
            return servo_action(pose, self._tcp(pre, HOVER), scale)
        command = max(angle - LAY_STEP, -np.deg2rad(1.0))
        return servo_action(pose, self._tcp(board_in_socket(command, -PUSH)), scale)


def _close(pose: np.ndarray, goal: np.ndarray, tol_t: float, tol_r: float) -> bool:
    return bool(np.linalg.norm(pose[:3] - goal[:3]) < tol_t and
                np.linalg.norm(geo.orientation_error(pose[3:], goal[3:])) < tol_r)
