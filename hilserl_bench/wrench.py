"""The wrench-controlled robot-server variant as data: its configuration and the action mapping.

The official object-flipping server (dynamic_tasks.md) takes a feed-forward wrench
``{"arr": [fx, fy, fz, tx, ty, tz]}`` on ``/wrench`` instead of a pose, and runs at
1 kHz ``tau = J^T (wrench_d + p_control) + nullspace + Coriolis`` where ``p_control``
is a PD toward the centre of a safety bounding box with some axes left free. These
settings live in the server's config on hardware; a wrench task declares the ones
its server runs with (:attr:`hilserl_bench.task.Task.wrench_server`) so the
simulator and the emulator run the same law. Nothing here imports MuJoCo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WRENCH_AXES = ("fx", "fy", "fz", "tx", "ty", "tz")
"""Names of the six wrench components, in wire order."""


@dataclass(frozen=True)
class WrenchServerParams:
    """Configuration of one wrench-controlled server (official flipping values by default)."""

    max_force: float = 20.0
    """Per-component clip of the commanded force (N); the official ``rate_limiting.force``."""
    max_torque: float = 5.0
    """Per-component clip of the commanded torque (N m); the official ``rate_limiting.torque``."""
    command_timeout_s: float = 0.1
    """``max_duration_between_commands``: with no /wrench for longer, the feed-forward wrench is dropped."""
    clamp_low: tuple[float, ...] = (-np.inf, -np.inf, -1.0, -np.inf, -np.inf, -np.inf)
    """Extra lower clamps per component after the clip (official: Fz >= -1 N)."""
    clamp_high: tuple[float, ...] = (np.inf, np.inf, np.inf, np.inf, 1.5, np.inf)
    """Extra upper clamps per component after the clip (official: tau_y <= 1.5 N m)."""
    box_low: tuple[float, float, float] = (0.4, -0.08, 0.45)
    """Bounding box, lower corner (m, base frame)."""
    box_high: tuple[float, float, float] = (0.7, 0.08, 0.6)
    """Bounding box, upper corner (m, base frame)."""
    box_rotation: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)
    """Orientation the rotational PD pulls toward, quaternion x-y-z-w (gripper pointing down)."""
    free_axes: tuple[int, ...] = (2, 4)
    """Components (0..5 = x, y, z, rx, ry, rz) the in-box PD leaves free (official: z and y-rotation)."""
    p_translation: float = 200.0
    """Box PD stiffness (N/m)."""
    p_rotation: float = 50.0
    """Box PD rotational stiffness (N m/rad)."""
    d_translation: float = 20.0
    """Box PD damping (N s/m). Not in the published config; chosen near-critical for a ~3 kg end effector."""
    d_rotation: float = 1.0
    """Box PD rotational damping (N m s/rad); chosen, like ``d_translation``."""
    clip_translation: float = 0.03
    """Box PD position-error clip (m)."""
    clip_rotation: float = 0.06
    """Box PD orientation-error clip (rad)."""
    nullspace_stiffness: float = 5.0
    """Nullspace spring toward the reset posture (N m/rad)."""
    torque_rate_limit: float = 1000.0
    """Joint torque rate limit (N m/s; official: 1 N m per 1 kHz tick)."""
    reset_duration_s: float = 1.0
    """How long the joint PD drives the arm after /reset (s)."""

    def __post_init__(self) -> None:
        if len(self.clamp_low) != 6 or len(self.clamp_high) != 6:
            raise ValueError("WrenchServerParams.clamp_low/clamp_high need 6 entries (fx, fy, fz, tx, ty, tz)")
        if any(a not in range(6) for a in self.free_axes):
            raise ValueError(f"WrenchServerParams.free_axes={self.free_axes}: entries must be 0..5")
        if np.any(np.asarray(self.box_high) <= np.asarray(self.box_low)):
            raise ValueError(f"WrenchServerParams box is empty: {self.box_low} .. {self.box_high}")

    def limits(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) per component: the +/- clip intersected with the extra clamps."""
        clip = np.array([self.max_force] * 3 + [self.max_torque] * 3)
        return np.maximum(-clip, self.clamp_low), np.minimum(clip, self.clamp_high)

    def clip(self, wrench: np.ndarray) -> np.ndarray:
        """The wrench the server actually applies for a commanded one."""
        low, high = self.limits()
        return np.clip(np.asarray(wrench, dtype=np.float64), low, high)

    @property
    def box_centre(self) -> np.ndarray:
        """Centre of the bounding box (m)."""
        return 0.5 * (np.asarray(self.box_low) + np.asarray(self.box_high))

    def inside(self, position: np.ndarray) -> bool:
        """Whether a TCP position lies in the bounding box."""
        p = np.asarray(position)
        return bool(np.all(p >= self.box_low) and np.all(p <= self.box_high))


def action_to_wrench(action: np.ndarray, axes: tuple[int, ...], scale: tuple[float, ...]) -> np.ndarray:
    """A 6-vector wrench from a [-1, 1] action over ``axes`` (components not listed are 0)."""
    wrench = np.zeros(6)
    wrench[list(axes)] = np.asarray(action, dtype=np.float64) * np.asarray(scale, dtype=np.float64)
    return wrench
