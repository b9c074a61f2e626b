"""A work cell: the arena plus one or more Pandas at given base poses, as an uncompiled spec.

Tasks add their props and scene cameras to the returned spec before compiling. Arm
elements are addressed through :func:`arm_element`, so task code reads the same for a
single arm (prefix ``""``, names unprefixed) and for dual-arm cells (``"left/"``, ``"right/"``).
"""

from __future__ import annotations

from collections.abc import Mapping

import mujoco
import numpy as np

from hilserl_bench.envs.arena import add_arena, build_arena
from hilserl_bench.envs.franka_model import build_panda
from hilserl_bench.geometry import quat_normalize, quat_to_mujoco


def arm_element(prefix: str, name: str) -> str:
    """Full name of an arm element (joint, body, site, camera, actuator) in a cell built with ``prefix``."""
    return f"{prefix}{name}"


def _check_pose(pose: np.ndarray) -> np.ndarray:
    pose = np.asarray(pose, dtype=np.float64)
    if pose.shape != (7,):
        raise ValueError(f"arm base pose must be [x, y, z, qx, qy, qz, qw], got shape {pose.shape}")
    return pose


def build_cell(arm_bases: Mapping[str, np.ndarray]) -> mujoco.MjSpec:
    """Arena + one Panda per ``prefix -> base pose`` entry (base pose in world, quaternion x-y-z-w).

    MuJoCo accepts an empty attach prefix only with a warning on every compile, so the
    unprefixed arm (key ``""``) is not attached: its own spec becomes the parent and the
    arena is added into it. Prefixed arms are attached on frames at their base poses.
    """
    if not arm_bases:
        raise ValueError("a cell needs at least one arm")
    prefixes = list(arm_bases)
    for prefix in prefixes:
        if prefix and not prefix.endswith("/"):
            raise ValueError(f"arm prefix {prefix!r} must be empty or end with '/'")
    if "" in arm_bases:
        spec = build_panda()
        pose = _check_pose(arm_bases[""])
        base = spec.body("link0")
        base.pos, base.quat = pose[:3], quat_to_mujoco(quat_normalize(pose[3:]))
        add_arena(spec)
    else:
        spec = build_arena()
    spec.modelname = "hilserl_cell"
    for prefix in prefixes:
        if not prefix:
            continue
        pose = _check_pose(arm_bases[prefix])
        frame = spec.worldbody.add_frame(name=f"{prefix}base_frame", pos=pose[:3],
                                         quat=quat_to_mujoco(quat_normalize(pose[3:])))
        spec.attach(build_panda(), prefix=prefix, frame=frame)
    return spec
