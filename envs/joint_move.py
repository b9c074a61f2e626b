"""The real server's /jointreset as a simulated joint-space move, not a teleport.

On hardware /jointreset stops the Cartesian impedance controller, drives the joints
along a smooth trajectory to a fixed home configuration (10 to 45 s, blocking) and
restarts impedance control there. Whatever the closed hand holds travels with it.
:func:`move_joints` reproduces that in simulated time: the impedance springs and
dampers are switched off, a joint PD law tracks a minimum-jerk trajectory (applied
through ``qfrc_applied`` and refreshed every physics step, so the explicit gains stay
far inside their stability limit at 2 ms), the gripper keeps its command, and the
controller is re-armed at the reached pose with the parameters it had before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import mujoco
import numpy as np

from hilserl_bench.robot_types import ImpedanceParams

#: Impedance parameters with every spring, damper and nullspace gain at zero: the controller is "stopped".
_STOPPED = ImpedanceParams(translational_stiffness=0.0, translational_damping=0.0, rotational_stiffness=0.0,
                           rotational_damping=0.0, nullspace_stiffness=0.0, joint1_nullspace_stiffness=0.0)


@dataclass(frozen=True)
class JointMoveConfig:
    """Timing and gains of the simulated joint-space reset move."""

    peak_joint_speed: float = 0.4
    """rad/s: the largest joint speed along the trajectory (sets the duration for long moves)."""
    min_duration_s: float = 2.0
    """Shortest trajectory, for moves that are already near home (s)."""
    settle_s: float = 0.5
    """Time held at the goal after the trajectory, before impedance control restarts (s)."""
    stiffness: tuple[float, ...] = (600.0, 600.0, 600.0, 600.0, 250.0, 150.0, 50.0)
    """Joint PD stiffness (N m/rad), shoulder to wrist."""
    damping: tuple[float, ...] = (40.0, 40.0, 40.0, 40.0, 15.0, 10.0, 5.0)
    """Joint PD damping (N m s/rad); explicit, so below 2 x inertia / dt for every joint."""


class _Arm(Protocol):
    qpos_addrs: np.ndarray
    dof_addrs: np.ndarray
    controller: object


def trajectory_duration(start: np.ndarray, goal: np.ndarray, config: JointMoveConfig) -> float:
    """Seconds of the minimum-jerk move: its peak speed 1.875 |dq| / T stays at or below the limit."""
    longest = float(np.max(np.abs(np.asarray(goal) - np.asarray(start))))
    return max(config.min_duration_s, 1.875 * longest / config.peak_joint_speed)


def move_joints(model: mujoco.MjModel, data: mujoco.MjData, arm: _Arm, goal: np.ndarray,
                params: ImpedanceParams, others: tuple = (), refresh_substeps: int = 25,
                config: JointMoveConfig | None = None) -> float:
    """Drive ``arm`` to ``goal`` joint positions in simulated time; returns the seconds simulated.

    ``others`` are arms that keep their impedance control running during the move.
    On return the arm's controller holds the reached TCP pose with ``params``.
    """
    config = config or JointMoveConfig()
    dt = float(model.opt.timestep)
    start = data.qpos[arm.qpos_addrs].copy()
    goal = np.asarray(goal, dtype=np.float64)
    duration = trajectory_duration(start, goal, config)
    kp, kd = np.asarray(config.stiffness), np.asarray(config.damping)
    arm.controller.set_params(_STOPPED)
    arm.controller.hold(data)
    steps = round((duration + config.settle_s) / dt)
    for i in range(steps):
        s = min(1.0, (i * dt) / duration)
        shape = s**3 * (10 - 15 * s + 6 * s * s)
        rate = 30 * s**2 * (1 - s) ** 2 / duration
        q_ref, dq_ref = start + shape * (goal - start), rate * (goal - start)
        q, dq = data.qpos[arm.qpos_addrs], data.qvel[arm.dof_addrs]
        data.qfrc_applied[arm.dof_addrs] = kp * (q_ref - q) + kd * (dq_ref - dq)
        if others and i % refresh_substeps == 0:
            for other in others:
                other.controller.refresh(data, refresh_substeps * dt, new_period=True)
        mujoco.mj_step(model, data)
    data.qfrc_applied[arm.dof_addrs] = 0.0
    mujoco.mj_forward(model, data)
    arm.controller.set_params(params)
    arm.controller.hold(data)
    return steps * dt
