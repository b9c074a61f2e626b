"""Scene cameras placed by where they stand and what they look at (MuJoCo wants camera axes)."""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np


def add_look_at_camera(spec: mujoco.MjSpec, name: str, pos: Sequence[float], target: Sequence[float],
                       fovy: float = 45.0) -> mujoco.MjsCamera:
    """A world camera at ``pos`` looking at ``target`` with the image's up roughly along world +z."""
    forward = np.asarray(target, dtype=np.float64) - np.asarray(pos, dtype=np.float64)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    if np.linalg.norm(right) < 1e-6:
        raise ValueError(f"camera {name!r} looks straight up or down; give it a tilt")
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    return spec.worldbody.add_camera(name=name, pos=list(pos), xyaxes=[*right, *up], fovy=fovy)
