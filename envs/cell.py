"""A work cell: the arena plus one or more Pandas at given base poses, as an uncompiled spec.

Tasks add their props and scene cameras to the returned spec before compiling. Arm
elements are addressed through :func:`arm_element`, so task code reads the same for a
single arm (prefix ``""``, names unprefixed) and for dual-arm cells (``"left/"``, ``"right/"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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


DUAL_ARM_NAMES = ("left", "right")
"""Arm names of a dual-arm cell, in action and observation order (the official DualFrankaEnv's)."""


@dataclass(frozen=True)
class DualArmCellConfig:
    """Where the two Pandas of a dual-arm cell stand (the paper's set-up: side by side, facing one table)."""

    separation: float = 0.8
    """Distance (m) between the two bases along world y; the paper's cells are 0.6 to 0.9 m."""
    base_x: float = 0.0
    """World x of both bases; the table extends from x = -0.2 to 1.0 in front of them."""
    toe_in: float = 0.0
    """Yaw (rad) turning each base toward the cell's centre line (left arm turns right, right turns left)."""

    def __post_init__(self) -> None:
        if not 0.3 <= self.separation <= 1.2:
            raise ValueError(f"separation={self.separation} m is outside 0.3..1.2 m, where two Pandas share a table")
        if abs(self.toe_in) > np.pi / 4:
            raise ValueError(f"toe_in={self.toe_in} rad is beyond +/-pi/4")


def dual_arm_bases(config: DualArmCellConfig | None = None) -> tuple[np.ndarray, np.ndarray]:
    """World base poses (x, y, z, qx, qy, qz, qw) of the left (+y) and right (-y) arm."""
    config = config or DualArmCellConfig()
    poses = []
    for side in (1.0, -1.0):
        yaw = -side * config.toe_in
        poses.append(np.array([config.base_x, side * config.separation / 2, 0.0,
                               0.0, 0.0, np.sin(yaw / 2), np.cos(yaw / 2)]))
    return poses[0], poses[1]


def arm_prefixes(n_arms: int) -> tuple[str, ...]:
    """Element-name prefixes of a cell's arms: ``("",)`` for one arm, ``("left/", "right/")`` for two."""
    if n_arms == 1:
        return ("",)
    if n_arms == 2:
        return tuple(f"{name}/" for name in DUAL_ARM_NAMES)
    raise ValueError(f"a cell holds one or two arms, not {n_arms}")
