"""Scripted object flipping: roll the egg half a turn by tilting the pan, then hold it still.

Sim-only: it reads the egg's pose in the pan (a real cell would need the egg tracked
by a camera). A cascade of PD loops on the wrench action, evaluated every step from the
state, so it acts sensibly from any state a policy leaves behind:

* outer: the egg's remaining roll to mark-down, ``r (phi_goal - phi)``, and its rolling
  speed (difference of positions) set a pan pitch; ``phi`` is the egg's roll about the
  pan's y axis, unwrapped step to step, and ``phi_goal`` is the nearer of +/-pi;
* inner: tau_y drives the measured pan pitch to that set point (pitch PD on tcp pose
  and angular velocity), Fz holds the free z axis at the box centre against the egg's
  weight, Fx holds x.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.envs.experts import register_expert
from hilserl_bench.envs.experts.base import Expert
from hilserl_bench.envs.props.pan import EGG_MASS
from hilserl_bench.envs.tasks.object_flipping import EGG_RADIUS, PAN_IN_TCP

MAX_TILT = 0.05
"""Largest pan pitch the expert asks for (rad)."""
K_ROLL, D_ROLL = 0.4, 0.5
"""Pitch per metre of remaining roll, and per m/s of rolling speed (rad/m, rad s/m)."""
K_PITCH, D_PITCH = 15.0, 1.5
"""Pitch PD (N m/rad, N m s/rad)."""
K_Z, D_Z = 150.0, 20.0
"""Height PD on the free z axis (N/m, N s/m)."""


@register_expert("object_flipping")
class ObjectFlippingExpert(Expert):
    """Tilt the pan so the egg rolls toward mark-down, brake it there, keep the pan level and at height."""

    sim_only = True

    def reset(self, rng: np.random.Generator) -> None:
        super().reset(rng)
        self._phi: float | None = None
        self._x: float | None = None

    def plan(self, obs: dict[str, Any]) -> np.ndarray:
        state = obs["state"]
        pose = np.asarray(state["tcp_pose"], dtype=np.float64)
        vel = np.asarray(state["tcp_vel"], dtype=np.float64)
        task = self.task
        rel = task.egg_in_pan(self.scene())
        axis = geo.quat_to_mat(rel[3:])[:, 2]
        phi = float(np.arctan2(axis[0], axis[2]))
        if self._phi is not None:
            phi = self._phi + float(np.angle(np.exp(1j * (phi - self._phi))))
        speed = 0.0 if self._x is None else (rel[0] - self._x) / self.env.control_dt
        self._phi, self._x = phi, float(rel[0])
        goal = np.pi if phi >= 0 else -np.pi
        if abs(phi) < 0.3:
            goal = np.pi if rel[0] <= 0 else -np.pi
        remaining = EGG_RADIUS * (goal - phi)
        pitch_goal = float(np.clip(K_ROLL * remaining - D_ROLL * speed, -MAX_TILT, MAX_TILT))
        pitch = geo.quat_to_euler(pose[3:])[1]
        lever = np.linalg.norm(PAN_IN_TCP[:2]) + rel[0]
        tau_y = K_PITCH * (pitch_goal - pitch) - D_PITCH * vel[4] - lever * EGG_MASS * 9.81
        server = task.wrench_server
        centre = server.box_centre
        fz = K_Z * (centre[2] - pose[2]) - D_Z * vel[2] + EGG_MASS * 9.81
        fx = 100.0 * (centre[0] - pose[0]) - 10.0 * vel[0]
        scale = np.asarray(task.wrench_scale)
        return np.clip(np.array([fx, fz, tau_y]) / scale, -1.0, 1.0)
