"""Scripted Jenga whipping: line the lash up with the target block, snap the yaw, park clear of the tower.

Sim-only: it reads the tower's pose and the lash tip (a real cell would measure both
once with a camera; the tower does not move before the strike). The phase comes from
the state every step, not from a timer:

* park, once the target is out or the hand's yaw is past the target's bearing: hold
  the yaw beyond the tower and lift the hand 3 cm so a swing back passes over the tower;
* align, while the tip's radius and height (measured at rest, corrected by the small
  offsets the snap itself adds) miss the target block's end face by more than 3 mm, or
  the hand still moves: Fx/Fz hold the hand where the tip path runs through the face
  (the box PD's spring is pre-loaded so the hand stays there), the yaw is held short
  of the tower;
* snap: a yaw torque of ``SNAP`` (x 3.5 N m) until the yaw is ``COAST`` short of the
  target's bearing, then none while the lash coasts through the layer; the alignment
  forces stay on. The tip's reach and height relative to the hand are read once, at
  rest after the reset (the lash still sways a few millimetres later).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.envs.experts import register_expert
from hilserl_bench.envs.experts.base import Expert
from hilserl_bench.envs.props.jenga import block_name
from hilserl_bench.envs.tasks.jenga_whipping import TARGET

SNAP = 0.7
"""Yaw torque of the snap, in action units."""
SNAP_REACH_GAIN = 0.004
"""How much farther (m) the tip reaches during the snap than at rest."""
SNAP_DROP = -0.008
"""How much lower (m) the tip runs during the snap than at rest."""
ALIGN_TOL = 0.003
START_MARGIN = 0.5
"""Past this far (rad) short of the target's bearing, or turning faster than 0.5 rad/s, the snap is on."""
COAST = 0.45
"""The snap torque stops this far (rad) short of the bearing; the lash coasts through the tower."""
K_POS, D_POS = 300.0, 30.0
K_YAW, D_YAW = 3.0, 0.6


@register_expert("jenga_whipping")
class JengaWhippingExpert(Expert):
    """Align, snap, park (see the module docstring)."""

    sim_only = True

    def reset(self, rng: np.random.Generator) -> None:
        super().reset(rng)
        self._rest: tuple[float, float] | None = None

    def plan(self, obs: dict[str, Any]) -> np.ndarray:
        state = obs["state"]
        pose = np.asarray(state["tcp_pose"], dtype=np.float64)
        vel = np.asarray(state["tcp_vel"], dtype=np.float64)
        task, scene = self.task, self.scene()
        centre = task.wrench_server.box_centre
        yaw = float(geo.quat_to_euler(pose[3:])[2])
        target = scene.poses[block_name(*TARGET)][:3]
        to_target = target[:2] - pose[:2]
        bearing = float(np.arctan2(to_target[1], to_target[0]))
        if self._rest is None:
            tip = task.tip_position(scene)
            self._rest = (float(np.linalg.norm(tip[:2] - pose[:2])), float(tip[2] - pose[2]))
        reach, drop = self._rest
        shifted = float(np.linalg.norm(task.task_state(scene, ())["target_shift"][:2])) > 0.03
        if shifted or yaw > bearing + 0.1:
            goal = centre + np.array([0.0, 0.0, 0.03])
            tau = K_YAW * (max(yaw, bearing + 0.4) - yaw) - D_YAW * vel[5]
            return self._act(goal, pose, vel, centre, tau)
        radial = to_target / np.linalg.norm(to_target)
        miss_r = float(np.linalg.norm(to_target)) - (reach + SNAP_REACH_GAIN)
        miss_z = target[2] - (pose[2] + drop + SNAP_DROP)
        goal = pose[:3].copy()
        goal[0] += miss_r / max(radial[0], 0.3)
        goal[2] += miss_z
        if vel[5] > 0.5 or yaw > bearing - START_MARGIN:
            tau = SNAP * 3.5 if yaw < bearing - COAST else 0.0
            return self._act(goal, pose, vel, centre, tau)
        aligned = abs(miss_r) < ALIGN_TOL and abs(miss_z) < ALIGN_TOL and np.linalg.norm(vel[:3]) < 0.02
        tau = SNAP * 3.5 if aligned else K_YAW * (bearing - START_MARGIN - 0.2 - yaw) - D_YAW * vel[5]
        return self._act(goal, pose, vel, centre, tau)

    def _act(self, goal: np.ndarray, pose: np.ndarray, vel: np.ndarray, centre: np.ndarray, tau: float) -> np.ndarray:
        """Forces that hold the hand at ``goal`` against the box PD, and a yaw torque (all in action units)."""
        p = self.task.wrench_server.p_translation
        force = p * (goal - centre) + K_POS * (goal - pose[:3]) - D_POS * vel[:3]
        scale = np.asarray(self.task.wrench_scale)
        return np.clip(np.array([force[0], force[2], tau]) / scale, -1.0, 1.0)
