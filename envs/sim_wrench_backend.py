"""The simulated cell behind the wrench-controlled server variant (object flipping, Jenga whipping).

:class:`SimWrenchBackend` is :class:`~hilserl_bench.envs.sim_backend.SimBackend` (whose
spec already holds the wrench controller's actuators for wrench tasks, see
:mod:`hilserl_bench.envs.wrench_controller`) with :class:`SimWrenchArm` in place of the
impedance arm, 10 ms refresh chunks and a reset that clamps tools in the hand. The arm offers what the wrench
server offers (/wrench, /reset, /getstate, gripper) and refuses what it lacks (/pose,
/update_param, /jointreset).

Tools held in the hand (the pan, the whip) are a task's ``held_objects``: at reset they
are placed at their planned pose relative to the TCP, the fingers close on them, and a
weld equality named ``<body>_grip`` (added by the task's scene) ties them to the hand
at exactly that relative pose, as a tool clamped in the fingers would be. A friction
grasp would let a 0.4 kg pan pivot in the pads under the flip's accelerations; the
paper's tools are held firmly, so the weld is the closer model.
"""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.backend import ResetPlan
from hilserl_bench.envs import franka_model as fm
from hilserl_bench.envs.props.held_tool import GRIP_SUFFIX
from hilserl_bench.envs.sim_arm import SimArm
from hilserl_bench.envs.sim_backend import SimBackend, SimConfig, _split
from hilserl_bench.envs.wrench_controller import WRENCH_REFRESH_SUBSTEPS, WrenchController
from hilserl_bench.robot_types import ImpedanceParams
from hilserl_bench.task import Task
from hilserl_bench.wrench import WrenchServerParams


class SimWrenchArm(SimArm):
    """A Panda under the wrench controller; :attr:`controller` is a :class:`WrenchController`."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, prefix: str, params: WrenchServerParams) -> None:
        super().__init__(model, data, prefix)
        self.controller = WrenchController(model, prefix, fm.TCP_SITE, fm.JOINT_NAMES, params)

    def set_wrench(self, wrench: np.ndarray) -> None:
        """The server's /wrench."""
        self.controller.command(self._data, wrench)

    def wrench_reset(self, q_target: np.ndarray | None = None, duration: float | None = None) -> None:
        """The server's /reset: joint PD toward ``q_target`` (default: stay) for ``duration`` s, then wrench mode.

        Blocks while it simulates the move, as the real /reset blocks for its duration.
        """
        m, d = self._model, self._data
        self.controller.hold(d)
        if q_target is not None:
            self.controller.set_joint_target(d, q_target)
        steps = round((self.controller.params.reset_duration_s if duration is None else duration) / m.opt.timestep)
        mujoco.mj_step(m, d, nstep=max(1, steps))
        self.controller.start_wrench(d)
        mujoco.mj_forward(m, d)

    def set_pose(self, pose: np.ndarray) -> None:
        raise NotImplementedError("the wrench-controlled server has no /pose; send wrenches with set_wrench")

    def update_params(self, params: ImpedanceParams) -> None:
        """The wrench server has no /update_param; its gains are server configuration (ignored here)."""

    def joint_reset(self) -> None:
        raise NotImplementedError("the wrench-controlled server has no /jointreset; use wrench_reset (/reset)")


class SimWrenchBackend(SimBackend):
    """A wrench task's cell (see the module docstring)."""

    def __init__(self, task: Task, config: SimConfig | None = None) -> None:
        config = config or SimConfig()
        config = dataclasses.replace(config, refresh_substeps=min(config.refresh_substeps, WRENCH_REFRESH_SUBSTEPS))
        super().__init__(task, config)
        self.arms = (SimWrenchArm(self.model, self.data, "", task.wrench_server),)
        self._chunks = _split(self.substeps, self.config.refresh_substeps)
        self._hand = self.model.body("hand").id
        self._grips = {self.model.equality(i).name[:-len(GRIP_SUFFIX)]: i for i in range(self.model.neq)
                       if self.model.equality(i).name.endswith(GRIP_SUFFIX)}

    def reset(self, plan: ResetPlan, reset_params: ImpedanceParams, episode_params: ImpedanceParams,
              rng: np.random.Generator) -> None:
        """IK to the planned pose, props placed, tools welded in the closed hand, 1 s joint-PD settle.

        Free props are placed through ``qpos0``, so bodies that start asleep (``sleep="init"``,
        the Jenga tower) are asleep at their new place after ``mj_resetData``.
        """
        m, d = self.model, self.data
        for name, pose in plan.object_poses.items():
            m.qpos0[self._free_qpos(name)] = np.concatenate([pose[:3], geo.quat_to_mujoco(pose[3:])])
        for name, value in plan.friction.items():
            m.geom_friction[m.geom(name).id, 0] = value
        mujoco.mj_resetData(m, d)
        arm = self.arms[0]
        d.qpos[arm.qpos_addrs] = arm.solve_ik(plan.tcp_pose)
        for name, rel in plan.held_objects.items():
            self._place(name, geo.pose_compose(plan.tcp_pose, rel))
        mujoco.mj_forward(m, d)
        for name, eq in self._grips.items():
            d.eq_active[eq] = name in plan.held_objects
            if name in plan.held_objects:
                self._weld_here(eq, name)
        arm.set_gripper(plan.gripper_closed)
        arm.controller.hold(d)
        self._settle(self.config.grasp_settle_s, {})
        arm.controller.start_wrench(d)
        mujoco.mj_forward(m, d)
        self._episode_start = float(d.time)
        self.max_penetration = 0.0
        self.step_penetration = 0.0
        self._last_penetration = self.penetration()

    def _weld_here(self, eq: int, body_name: str) -> None:
        """Set the grip weld's relative pose to the body's current pose in the hand frame."""
        d = self.data
        body = self.model.body(body_name).id
        hand = np.concatenate([d.xpos[self._hand], geo.quat_from_mujoco(d.xquat[self._hand])])
        prop = np.concatenate([d.xpos[body], geo.quat_from_mujoco(d.xquat[body])])
        rel = geo.pose_compose(geo.pose_inverse(hand), prop)
        self.model.eq_data[eq, :3] = 0.0
        self.model.eq_data[eq, 3:6] = rel[:3]
        self.model.eq_data[eq, 6:10] = geo.quat_to_mujoco(rel[3:])
