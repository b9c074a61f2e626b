"""What every dual-arm task shares: the cell layout, per-arm frames and safety boxes, joint success.

A dual-arm task subclasses :class:`DualArmTask` and describes its geometry in the world (cell)
frame; this class turns that into what each arm's server speaks, its own base frame: reset
poses, safety boxes, poses read back. Arms are ``("left", "right")`` in action and observation
order (the official DualFrankaEnv's), standing side by side per :class:`DualArmCellConfig`.
Reward follows the official env: success only when the task's joint predicate holds (both
arms' parts of the job done), which :meth:`Task.evaluate` states over the whole scene.
"""

from __future__ import annotations

import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.envs.cell import DUAL_ARM_NAMES, DualArmCellConfig, dual_arm_bases
from hilserl_bench.robot_types import ArmState
from hilserl_bench.task import SafetyBox, Task

DOWN = np.array([np.pi, 0.0, 0.0])
"""Extrinsic xyz Euler of a TCP pointing straight down with its x along the base x axis."""


def down_pose(xyz: np.ndarray, yaw: float = 0.0) -> np.ndarray:
    """A top-down TCP pose at ``xyz`` turned by ``yaw`` about the vertical (frame-agnostic helper)."""
    return np.concatenate([np.asarray(xyz, dtype=np.float64), geo.euler_to_quat(DOWN + [0.0, 0.0, yaw])])


class DualArmTask(Task):
    """Base class of two-arm tasks; subclasses give world-frame boxes and reset poses."""

    arms = DUAL_ARM_NAMES
    cell = DualArmCellConfig()
    """Where the two bases stand (a class attribute so a task can move them)."""

    def arm_base_poses(self) -> tuple[np.ndarray, ...]:
        return dual_arm_bases(self.cell)

    # -- frames ------------------------------------------------------------------------------
    def to_arm(self, i: int, world_pose: np.ndarray) -> np.ndarray:
        """A world pose in arm ``i``'s base frame."""
        return geo.pose_compose(geo.pose_inverse(self.arm_base_poses()[i]), world_pose)

    def to_world(self, i: int, arm_pose: np.ndarray) -> np.ndarray:
        """Arm ``i``'s base-frame pose in the world."""
        return geo.pose_compose(self.arm_base_poses()[i], arm_pose)

    def tcp_world(self, arms: tuple[ArmState, ...]) -> tuple[np.ndarray, ...]:
        """Both measured TCP poses in the world frame."""
        return tuple(self.to_world(i, s.pose) for i, s in enumerate(arms))

    # -- per-arm geometry -------------------------------------------------------------------
    def world_boxes(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """Per arm, (low, high) world bounds [x, y, z, roll, pitch, yaw]; implemented per task."""
        raise NotImplementedError

    @property
    def arm_safety_boxes(self) -> tuple[SafetyBox, ...]:
        """The world boxes in each arm's base frame (bases only translate and turn about z)."""
        boxes = []
        for i, (low, high) in enumerate(self.world_boxes()):
            base = self.arm_base_poses()[i]
            yaw = geo.quat_to_euler(base[3:])[2]
            if abs(yaw) > 1e-9:
                raise NotImplementedError("per-arm boxes of yawed bases are not axis-aligned; give them per arm")
            shift = np.concatenate([base[:3], np.zeros(3)])
            boxes.append(SafetyBox(np.asarray(low) - shift, np.asarray(high) - shift))
        return tuple(boxes)

    @property
    def safety_box(self) -> SafetyBox:
        """Dual-arm tasks have one box per arm; see :attr:`arm_safety_boxes`."""
        raise AttributeError("a dual-arm task has one safety box per arm: use task.arm_safety_boxes")

    def world_reset_poses(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Both TCP reset poses in the world; implemented per task."""
        raise NotImplementedError

    def reset_tcp_poses(self, rng: np.random.Generator) -> np.ndarray:
        """``ResetPlan.tcp_pose`` rows: the world reset poses in each arm's base frame."""
        return np.stack([self.to_arm(i, p) for i, p in enumerate(self.world_reset_poses(rng))])

    @property
    def target_pose(self) -> np.ndarray:
        raise AttributeError("a dual-arm task has no single target pose; it defines progress_distance")

    @property
    def reset_pose(self) -> np.ndarray:
        raise AttributeError("a dual-arm task has per-arm reset poses: see reset_tcp_poses")
