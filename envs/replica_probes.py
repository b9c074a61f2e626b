"""Physics probes every task replica must pass (replica_quality.md section 3), for tests and benchmarks.

* :func:`grasp_launch_trial`: bring the open hand to a relative pose around a free
  object under control (from above, as a policy would), close the fingers, lift,
  and watch the object's speed at EVERY physics step. A grasp must never launch a
  part, whatever the relative pose.
* :func:`sinking_under_press`: how far a free part sinks into the table when pressed
  down with a given force (soft contacts scale with mass, so light parts are the test).

Both drive the simulated cell directly (no env step) so nothing is sampled between
physics steps; the arm moves exactly as an env step would move it (the same
controller refresh schedule as :meth:`SimBackend.wait_for_next_step`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mujoco
import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.envs.sim_backend import SimBackend


@dataclass(frozen=True)
class LaunchTrial:
    """Outcome of one close-the-fingers trial."""

    max_speed: float
    """Largest linear speed (m/s) of any point of the object (origin or centre of mass) at any physics step."""
    max_spin: float
    """Largest angular speed (rad/s) of the object at any physics step."""
    min_z: float
    """Lowest height (m) of the object's origin at any physics step."""
    final_z: float
    """Height (m) of the object's origin after the lift."""
    in_workspace: bool
    """Whether the object's origin stayed inside the task's workspace box at every physics step."""


def control_period(backend: SimBackend, watch: Callable[[], None]) -> None:
    """Simulate one control period like :meth:`SimBackend.wait_for_next_step`, calling ``watch`` after each step."""
    m, d, dt = backend.model, backend.data, backend.config.physics_dt
    for i, n in enumerate(backend._chunks):
        for arm in backend.arms:
            arm.controller.refresh(d, n * dt, new_period=i == 0)
        for _ in range(n):
            mujoco.mj_step(m, d)
            watch()


def grasp_launch_trial(env, body: str, grasp_pose: np.ndarray, *, settle_steps: int = 12, close_steps: int = 8,
                       lift_steps: int = 10, lift_to: float = 0.06, arm_index: int = 0,
                       workspace=None) -> LaunchTrial:
    """Teleport the open hand 3 cm above ``grasp_pose``, servo down to it, close, lift to ``lift_to`` (m).

    ``env`` is a reset raw :class:`FrankaEnv` on the simulator; ``grasp_pose`` is the
    (possibly off, tilted or turned) TCP pose at which the fingers close, in the base frame of
    arm ``arm_index`` (two-arm cells: the other arm holds still). ``workspace`` (a box with
    ``low`` / ``high`` in the world) defaults to the task's own.
    """
    raw = env.unwrapped
    backend: SimBackend = raw.backend
    m, d = backend.model, backend.data
    arm = backend.arms[arm_index]
    body_id = m.body(body).id
    dof = int(m.jnt_dofadr[m.body(body).jntadr[0]])
    above = grasp_pose.copy()
    above[2] += 0.03
    d.qpos[arm.qpos_addrs] = arm.solve_ik(above, d.qpos[arm.qpos_addrs].copy())
    d.qvel[arm.dof_addrs] = 0.0
    mujoco.mj_forward(m, d)
    arm.controller.hold(d, above)
    workspace = raw.task.workspace() if workspace is None else workspace
    box = raw.task.arm_safety_boxes[arm_index] if len(backend.arms) > 1 else raw.task.safety_box
    stats = {"speed": 0.0, "spin": 0.0, "min_z": np.inf, "inside": True}
    com_offset = d.xipos[body_id] - d.xpos[body_id]

    def watch() -> None:
        lin, ang = d.qvel[dof:dof + 3], d.qvel[dof + 3:dof + 6]
        spin = float(np.linalg.norm(ang))
        lever = float(np.linalg.norm(com_offset))
        stats["speed"] = max(stats["speed"], float(np.linalg.norm(lin)) + spin * lever)
        stats["spin"] = max(stats["spin"], spin)
        stats["min_z"] = min(stats["min_z"], float(d.xpos[body_id][2]))
        if workspace is not None:
            p = d.xpos[body_id]
            stats["inside"] &= bool(np.all(p >= workspace.low) and np.all(p <= workspace.high))

    scale_t = raw.task.config.action_scale[0]
    for k in range(settle_steps + close_steps + lift_steps):
        pose = arm.tcp_pose()
        goal = grasp_pose.copy()
        if k >= settle_steps + close_steps:
            goal[2] = lift_to
        step = np.clip(goal[:3] - pose[:3], -scale_t, scale_t)
        arm.set_pose(box.clip(np.concatenate([pose[:3] + step, goal[3:]])))
        arm.set_gripper(k >= settle_steps)
        control_period(backend, watch)
    return LaunchTrial(stats["speed"], stats["spin"], stats["min_z"], float(d.xpos[body_id][2]), stats["inside"])


def random_relative_grasp(grasp: np.ndarray, rng: np.random.Generator, *, xy: float = 0.015, yaw: float = np.pi / 2,
                          z_low: float = -0.012, z_high: float = 0.012, tilt: float = 0.1) -> np.ndarray:
    """A TCP pose around ``grasp``: uniform xy offset, yaw turn, height and roll/pitch within the given ranges."""
    pose = grasp.copy()
    pose[:2] += rng.uniform(-xy, xy, size=2)
    pose[2] += rng.uniform(z_low, z_high)
    turn = geo.euler_to_quat(np.array([*rng.uniform(-tilt, tilt, size=2), rng.uniform(-yaw, yaw)]))
    pose[3:] = geo.quat_mul(turn, grasp[3:])
    return pose


def sinking_under_press(spec_builder: Callable[[mujoco.MjSpec], str], force: float, rest_z: float,
                        seconds: float = 1.0) -> float:
    """Depth (m) a free body sinks below ``rest_z`` when pressed down with ``force`` newtons.

    ``spec_builder`` adds the arena and the part to an empty spec and returns the body name.
    """
    spec = mujoco.MjSpec()
    spec.compiler.degree = False
    name = spec_builder(spec)
    model = spec.compile()
    data = mujoco.MjData(model)
    body = model.body(name).id
    mujoco.mj_step(model, data, nstep=round(0.5 / model.opt.timestep))
    data.xfrc_applied[body, 2] = -force
    deepest = 0.0
    for _ in range(round(seconds / model.opt.timestep)):
        mujoco.mj_step(model, data)
        deepest = max(deepest, rest_z - float(data.xpos[body][2]))
    return deepest
