"""Plain data shared by every backend: controller parameters and measured arm state.

These mirror what the official Franka robot server exchanges (robot_server.md), so
the simulated arm, the HTTP client and the emulator speak the same vocabulary.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

#: /update_param ranges of the real controller, per field (inclusive).
_IMPEDANCE_RANGES: dict[str, tuple[float, float]] = {
    "translational_stiffness": (0.0, 6000.0),
    "translational_damping": (0.0, 400.0),
    "rotational_stiffness": (0.0, 300.0),
    "rotational_damping": (0.0, 30.0),
    "nullspace_stiffness": (0.0, 100.0),
    "joint1_nullspace_stiffness": (0.0, 100.0),
    "translational_Ki": (0.0, 100.0),
    "rotational_Ki": (0.0, 100.0),
}
for _axis in ("x", "y", "z", "neg_x", "neg_y", "neg_z"):
    _IMPEDANCE_RANGES[f"translational_clip_{_axis}"] = (0.0, 0.1)
    _IMPEDANCE_RANGES[f"rotational_clip_{_axis}"] = (0.0, 0.1)


@dataclass(frozen=True)
class ImpedanceParams:
    """Cartesian impedance parameters, named exactly as the server's /update_param keys."""

    translational_stiffness: float = 2000.0
    """N/m, isotropic."""
    translational_damping: float = 89.0
    """N s/m."""
    rotational_stiffness: float = 150.0
    """N m/rad."""
    rotational_damping: float = 7.0
    """N m s/rad."""
    nullspace_stiffness: float = 0.2
    """N m/rad toward the posture held when the controller started."""
    joint1_nullspace_stiffness: float = 100.0
    """Extra nullspace weight on joint 1 (the official controller's addition)."""
    translational_clip_x: float = 0.01
    """Reference limit (m): largest +x position error the spring sees."""
    translational_clip_y: float = 0.01
    """Reference limit (m), +y."""
    translational_clip_z: float = 0.01
    """Reference limit (m), +z."""
    translational_clip_neg_x: float = 0.01
    """Reference limit (m), -x."""
    translational_clip_neg_y: float = 0.01
    """Reference limit (m), -y."""
    translational_clip_neg_z: float = 0.01
    """Reference limit (m), -z."""
    rotational_clip_x: float = 0.05
    """Reference limit (rad) about +x."""
    rotational_clip_y: float = 0.05
    """Reference limit (rad) about +y."""
    rotational_clip_z: float = 0.05
    """Reference limit (rad) about +z."""
    rotational_clip_neg_x: float = 0.05
    """Reference limit (rad) about -x."""
    rotational_clip_neg_y: float = 0.05
    """Reference limit (rad) about -y."""
    rotational_clip_neg_z: float = 0.05
    """Reference limit (rad) about -z."""
    translational_Ki: float = 0.0
    """Integral gain on position error (the real controller's; the simulator ignores it)."""
    rotational_Ki: float = 0.0
    """Integral gain on orientation error (ignored by the simulator)."""

    def __post_init__(self) -> None:
        for name, (lo, hi) in _IMPEDANCE_RANGES.items():
            value = getattr(self, name)
            if not np.isfinite(value) or not lo <= value <= hi:
                raise ValueError(
                    f"ImpedanceParams.{name}={value!r} is outside the controller's range [{lo}, {hi}]"
                )

    def to_dict(self) -> dict[str, float]:
        """The JSON body of an /update_param request."""
        return {f.name: float(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, values: dict[str, float]) -> ImpedanceParams:
        """Parse an /update_param body; unknown keys are an error naming them."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown impedance parameter(s) {unknown}; known: {sorted(known)}")
        return cls(**{k: float(v) for k, v in values.items()})

    def translational_clip(self) -> tuple[np.ndarray, np.ndarray]:
        """(positive, negative) per-axis position clips, each a 3-vector in metres."""
        pos = np.array([self.translational_clip_x, self.translational_clip_y, self.translational_clip_z])
        neg = np.array([self.translational_clip_neg_x, self.translational_clip_neg_y, self.translational_clip_neg_z])
        return pos, neg

    def rotational_clip(self) -> tuple[np.ndarray, np.ndarray]:
        """(positive, negative) per-axis orientation clips, each a 3-vector in radians."""
        pos = np.array([self.rotational_clip_x, self.rotational_clip_y, self.rotational_clip_z])
        neg = np.array([self.rotational_clip_neg_x, self.rotational_clip_neg_y, self.rotational_clip_neg_z])
        return pos, neg

    def replace(self, **changes: float) -> ImpedanceParams:
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)


def uniform_clips(translational: tuple[float, ...], rotational: tuple[float, ...]) -> dict[str, float]:
    """Clip fields from (x, y, z, -x, -y, -z) tuples, for compact task presets."""
    axes = ("x", "y", "z", "neg_x", "neg_y", "neg_z")
    out = {f"translational_clip_{a}": float(v) for a, v in zip(axes, translational, strict=True)}
    out.update({f"rotational_clip_{a}": float(v) for a, v in zip(axes, rotational, strict=True)})
    return out


@dataclass(frozen=True)
class ArmState:
    """One arm's measured state, the fields of the server's /getstate answer.

    Frames as the real server reports them: ``pose`` and ``vel`` in the robot base
    frame (vel = J dq, linear then angular); ``force`` and ``torque`` are the
    estimated external wrench at the TCP expressed in the TCP frame.
    """

    pose: np.ndarray
    """TCP pose [x, y, z, qx, qy, qz, qw] in the base frame."""
    vel: np.ndarray
    """TCP twist (6) in the base frame: linear (m/s) then angular (rad/s)."""
    force: np.ndarray
    """External force (3, N) at the TCP, TCP frame."""
    torque: np.ndarray
    """External torque (3, N m) at the TCP, TCP frame."""
    q: np.ndarray
    """Joint positions (7, rad)."""
    dq: np.ndarray
    """Joint velocities (7, rad/s)."""
    gripper_pos: float
    """Normalised gripper opening: 1 open, 0 closed."""
    jacobian: np.ndarray = field(default_factory=lambda: np.zeros((6, 7)))
    """TCP Jacobian (6 x 7), base frame, linear rows first."""
    timestamp: float = 0.0
    """Seconds on the backend's clock (sim time, or time.monotonic on hardware)."""
