"""The seam between task logic and whatever moves the robot.

A backend offers exactly what a real Franka installation offers (robot_server.md):
per arm, set an impedance equilibrium pose, read state, command the gripper, retune
the controller, joint-reset; for the whole cell, let time pass, grab camera frames.
Task logic (scene, reset distribution, success, reward, cameras, safety box, action
scale) lives in :class:`hilserl_bench.task.Task` and never learns which backend
runs it. The simulator additionally answers :meth:`Backend.scene_state` with
privileged object poses; hardware returns ``None`` there and success comes from a
reward classifier or a human label instead.

Constructors of backends do no I/O beyond building a model; hardware connects in
:meth:`Backend.connect` and lets go in :meth:`Backend.close`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from hilserl_bench.robot_types import ArmState, ImpedanceParams


@dataclass(frozen=True)
class SceneState:
    """Privileged simulator state a task's ``evaluate()`` reads.

    ``poses`` maps the task's tracked body names to base-frame 7-vector poses;
    ``contacts`` holds named contact facts the task asked for (e.g. whether both
    fingers touch the plug); ``penetration`` is the deepest interpenetration (m)
    among the task's tight-fit contacts at this instant.
    """

    poses: dict[str, np.ndarray]
    contacts: dict[str, bool] = field(default_factory=dict)
    penetration: float = 0.0


@dataclass(frozen=True)
class ResetPlan:
    """What a task wants the cell to look like when an episode starts.

    The robot goes to ``tcp_pose`` with the reset (precision) controller parameters;
    ``gripper_closed`` sets the fingers. ``object_poses`` (base frame) are where free
    props are put, and ``held_objects`` (pose relative to the TCP) are props placed
    between the fingers before they close. A real backend moves the arm and leaves
    the props to the person resetting the cell.
    """

    tcp_pose: np.ndarray
    gripper_closed: bool
    object_poses: dict[str, np.ndarray] = field(default_factory=dict)
    held_objects: dict[str, np.ndarray] = field(default_factory=dict)
    friction: dict[str, float] = field(default_factory=dict)
    """Sliding friction per geom name for this episode (simulator only; hardware has what it has)."""

    def arm_pose(self, i: int) -> np.ndarray:
        """Arm ``i``'s reset TCP pose (its base frame): ``tcp_pose`` is one 7-vector shared by every
        arm, or one row per arm (``(n_arms, 7)``) on dual-arm tasks."""
        poses = np.asarray(self.tcp_pose, dtype=np.float64)
        if poses.ndim == 1:
            return poses
        if not 0 <= i < len(poses):
            raise ValueError(f"reset plan has {len(poses)} arm poses; arm {i} has none")
        return poses[i]


@runtime_checkable
class ArmBackend(Protocol):
    """One arm, as one robot server exposes it."""

    def set_pose(self, pose: np.ndarray) -> None:
        """New impedance equilibrium [x, y, z, qx, qy, qz, qw] (the server's /pose)."""

    def get_state(self) -> ArmState:
        """Latest measured state (/getstate)."""

    def set_gripper(self, closed: bool) -> None:
        """Binary gripper command (/close_gripper or /open_gripper)."""

    def update_params(self, params: ImpedanceParams) -> None:
        """Retune the impedance controller (/update_param)."""

    def joint_reset(self) -> None:
        """Joint-space move to the home configuration (/jointreset)."""

    def clear_error(self) -> None:
        """Recover from a controller error (/clearerr)."""


@runtime_checkable
class WrenchArmBackend(Protocol):
    """One arm behind the wrench-controlled server variant (/wrench and /reset; no /pose,
    /update_param or /jointreset). Tasks with ``control_mode == "wrench"`` drive their arms through this."""

    def set_wrench(self, wrench: np.ndarray) -> None:
        """Feed-forward wrench [fx, fy, fz, tx, ty, tz] (N, N m, base frame), held for at most
        the server's command timeout (0.1 s) (the server's /wrench)."""

    def wrench_reset(self) -> None:
        """Joint-space PD back to the reset posture, then wrench control with no wrench (/reset)."""

    def get_state(self) -> ArmState:
        """Latest measured state (/getstate)."""

    def set_gripper(self, closed: bool) -> None:
        """Binary gripper command."""

    def clear_error(self) -> None:
        """Recover from a controller error (/clearerr)."""


@runtime_checkable
class Backend(Protocol):
    """A robot cell: one or two arms, cameras, and a clock."""

    arms: tuple[ArmBackend, ...]
    """Arms in task order (single arm: one; dual arm: left, right)."""

    @property
    def control_dt(self) -> float:
        """Seconds per env step (0.1 at the paper's 10 Hz)."""

    def connect(self) -> None:
        """Open connections (hardware); builds renderers lazily (sim)."""

    def close(self) -> None:
        """Release connections and renderers; safe to call twice."""

    def wait_for_next_step(self) -> dict[str, float]:
        """Let one control period pass (simulate it, or sleep to the next tick).

        Returns timing facts for ``info``: ``overrun_s``, how late the tick was (0 in simulation).
        """

    def reset(self, plan: ResetPlan, reset_params: ImpedanceParams, episode_params: ImpedanceParams,
              rng: np.random.Generator) -> None:
        """Bring the cell to ``plan`` using ``reset_params``, then switch to ``episode_params``."""

    def camera_frames(self, cameras: tuple[str, ...]) -> dict[str, np.ndarray]:
        """(H, W, 3) uint8 RGB frames keyed by camera name."""

    def scene_state(self) -> SceneState | None:
        """Privileged task state (simulator only); ``None`` on hardware."""

    @property
    def time(self) -> float:
        """Seconds since the episode started on this backend's clock."""

    @property
    def estopped(self) -> bool:
        """Whether an emergency stop is engaged (read with the last state); it ends the episode."""
