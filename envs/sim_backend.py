"""The simulated robot cell: one MuJoCo model holding the arm(s), the arena and a task's props.

:class:`SimBackend` implements :class:`hilserl_bench.backend.Backend`. Time advances
in chunks of ``refresh_substeps`` physics steps run in C (``mj_step`` with
``nstep``), with the equilibrium filter and nullspace torque refreshed between
chunks. Tight-fit penetration comes from contact sensors that MuJoCo evaluates at every
physics step and keeps in a history ring read once per chunk
(:mod:`hilserl_bench.envs.penetration`), so ``info["penetration"]`` is the maximum over
every state the control period visited, not a sample.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import mujoco
import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.backend import ResetPlan, SceneState
from hilserl_bench.envs import franka_model as fm
from hilserl_bench.envs.cell import arm_prefixes, build_cell
from hilserl_bench.envs.impedance import add_impedance_actuators
from hilserl_bench.envs.penetration import SENSOR_PREFIX, PenetrationMeter, add_penetration_sensors, deepest_in_contacts
from hilserl_bench.envs.sim_arm import SimArm
from hilserl_bench.robot_types import ImpedanceParams
from hilserl_bench.task import Task

OVERVIEW_CAMERA = "overview"


@dataclass(frozen=True)
class SimConfig:
    """Simulator settings that are not part of a task's definition."""

    physics_dt: float = 0.002
    """Physics timestep (s); 500 Hz as the issue requires at least."""
    refresh_substeps: int = 25
    """Physics steps between refreshes of the equilibrium filter and nullspace torque (25 = 20 Hz)."""
    grasp_settle_s: float = 1.0
    """Longest reset time during which held props are pinned while the fingers close on them
    (pinning ends as soon as the fingers stall on the part)."""
    free_settle_s: float = 0.2
    """Reset time after releasing held props, before the episode starts."""
    overview_size: tuple[int, int] = (240, 320)
    """(height, width) of ``render()`` frames."""
    track_penetration: bool = True
    """Measure tight-fit penetration after every physics step; False skips it (penetration
    reads NaN, "not measured"), which ``bench env`` uses to show what the measurement costs."""


class SimBackend:
    """A task's cell in MuJoCo; constructing it builds and compiles the model, nothing else."""

    def __init__(self, task: Task, config: SimConfig | None = None) -> None:
        self.task = task
        self.config = config or SimConfig()
        self.model = self.build_spec(task, self.config).compile()
        self.data = mujoco.MjData(self.model)
        self.arms = tuple(SimArm(self.model, self.data, prefix, base)
                          for prefix, base in zip(arm_prefixes(len(task.arms)), task.arm_base_poses(), strict=True))
        self._control_dt = 1.0 / task.config.control_hz
        self.substeps = max(1, round(self._control_dt / self.config.physics_dt))
        self._chunks = _split(self.substeps, self.config.refresh_substeps)
        self._tracked = {name: self.model.body(name).id for name in task.tracked_bodies()}
        group_a, group_b = task.tight_fit_geoms()
        self._fit_a = _geom_mask(self.model, group_a)
        self._fit_b = _geom_mask(self.model, group_b)
        sensors = [self.model.sensor(i).name for i in range(self.model.nsensor)]
        sensors = [name for name in sensors if name.startswith(SENSOR_PREFIX)]
        self._meter = PenetrationMeter(self.model, sensors) if sensors else None
        self._renderers: dict[tuple[int, int], mujoco.Renderer] = {}
        self._episode_start = 0.0
        self.max_penetration = 0.0
        """Deepest tight-fit penetration (m) over every physics step since the last reset."""
        self.step_penetration = 0.0
        """Deepest tight-fit penetration (m) over every physics step of the last control period."""

    @staticmethod
    def build_spec(task: Task, config: SimConfig | None = None) -> mujoco.MjSpec:
        """The cell's spec: arena, arm(s) with their impedance actuators, the task's props and cameras."""
        config = config or SimConfig()
        prefixes = arm_prefixes(len(task.arms))
        spec = build_cell(dict(zip(prefixes, task.arm_base_poses(), strict=True)))
        for prefix in prefixes:
            add_impedance_actuators(spec, prefix, fm.TCP_SITE)
        spec.option.timestep = config.physics_dt
        task.build_scene(spec)
        if config.track_penetration:
            add_penetration_sensors(spec, *task.tight_fit_geoms(), samples=config.refresh_substeps)
        if not any(cam.name == OVERVIEW_CAMERA for cam in spec.cameras):
            spec.worldbody.add_camera(name=OVERVIEW_CAMERA, pos=[1.25, -0.75, 0.65],
                                      xyaxes=[0.55, 0.83, 0, -0.3, 0.2, 0.93], fovy=45)
        return spec

    @staticmethod
    def model_xml(task: Task) -> str:
        """MJCF text of the task's cell, for tools that load XML (dm_control, the MuJoCo viewer)."""
        spec = SimBackend.build_spec(task)
        spec.compile()
        return spec.to_xml()

    # -- Backend ----------------------------------------------------------------------
    @property
    def control_dt(self) -> float:
        return self._control_dt

    @property
    def time(self) -> float:
        return float(self.data.time - self._episode_start)

    @property
    def estopped(self) -> bool:
        """The simulated cell has no emergency stop."""
        return False

    def connect(self) -> None:
        """Nothing to connect; renderers are created on first use."""

    def close(self) -> None:
        for renderer in self._renderers.values():
            renderer.close()
        self._renderers.clear()

    def wait_for_next_step(self) -> dict[str, float]:
        """Simulate one control period, measuring tight-fit penetration at every physics step."""
        dt = self.config.physics_dt
        deepest = []
        for i, n in enumerate(self._chunks):
            for arm in self.arms:
                arm.controller.refresh(self.data, n * dt, new_period=i == 0)
            deepest.append(self.advance(n))
        self.step_penetration = float(np.max(deepest))
        self.max_penetration = float(np.max([self.max_penetration, self.step_penetration]))
        return {"overrun_s": 0.0}

    def advance(self, nstep: int) -> float:
        """Run ``nstep`` physics steps with the controller as it is; returns their deepest penetration (m).

        NaN when penetration is not tracked (``SimConfig.track_penetration=False``), 0 when
        the task has no tight fit.
        """
        if self._meter is not None:
            return self._meter.step(self.model, self.data, nstep)
        mujoco.mj_step(self.model, self.data, nstep=nstep)
        return float("nan") if self._fit_a is not None and not self.config.track_penetration else 0.0

    def reset(self, plan: ResetPlan, reset_params: ImpedanceParams, episode_params: ImpedanceParams,
              rng: np.random.Generator) -> None:
        """Teleport the arms to the planned poses (IK), place props, close on held props, settle.

        Held props are placed relative to the first arm's TCP (``ResetPlan.arm_pose(0)``).
        """
        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)
        poses = [plan.arm_pose(i) for i in range(len(self.arms))]
        for arm, pose in zip(self.arms, poses, strict=True):
            d.qpos[arm.qpos_addrs] = arm.solve_ik(pose)
            d.qpos[arm.finger_qpos_addrs] = fm.GRIPPER_MAX_WIDTH / 2
        for name, pose in plan.object_poses.items():
            self._place(name, pose)
        for name, rel in plan.held_objects.items():
            self._place(name, self.arms[0].base.to_world(geo.pose_compose(poses[0], rel)))
        mujoco.mj_forward(m, d)
        for arm, pose in zip(self.arms, poses, strict=True):
            arm.update_params(reset_params)
            arm.controller.hold(d, pose)
            arm.set_gripper(plan.gripper_closed)
        pinned = {name: d.qpos[self._free_qpos(name)].copy() for name in plan.held_objects}
        self._settle(self.config.grasp_settle_s, pinned)
        self._settle(self.config.free_settle_s, {})
        for arm in self.arms:
            arm.update_params(episode_params)
            arm.controller.hold(d)
        mujoco.mj_forward(m, d)
        self._episode_start = float(d.time)
        self.max_penetration = 0.0
        self.step_penetration = 0.0

    def camera_frames(self, cameras: tuple[str, ...]) -> dict[str, np.ndarray]:
        size = self.task.config.image_size
        renderer = self._renderer(size, size)
        frames = {}
        for cam in cameras:
            renderer.update_scene(self.data, camera=cam)
            frames[cam] = renderer.render()
        return frames

    def scene_state(self) -> SceneState:
        d = self.data
        poses = {name: np.concatenate([d.xpos[i], geo.quat_from_mujoco(d.xquat[i])])
                 for name, i in self._tracked.items()}
        return SceneState(poses=poses, penetration=self.penetration())

    # -- simulator extras -------------------------------------------------------------
    def render_overview(self) -> np.ndarray:
        """A (H, W, 3) frame from the overview camera, for videos and README pictures."""
        renderer = self._renderer(*self.config.overview_size)
        renderer.update_scene(self.data, camera=OVERVIEW_CAMERA)
        return renderer.render()

    def penetration(self) -> float:
        """Deepest interpenetration (m) between the task's two tight-fit geom groups in the current contacts.

        Current as of the last ``mj_step`` or ``mj_forward`` (set a state, call
        ``mj_forward``, and this measures that state).
        """
        if self._meter is not None:
            return self._meter.current(self.data)
        if self._fit_a is None or self._fit_b is None:
            return 0.0
        return deepest_in_contacts(self.data, self._fit_a, self._fit_b)

    def raw_physics_seconds(self, n_env_steps: int, states: list[mujoco.MjData] | None = None) -> float:
        """Wall time of plain ``mj_step`` for the substeps of ``n_env_steps``.

        With ``states`` (snapshots taken before each env step) every step is replayed
        from its own snapshot, so the reference does exactly the physics the env did;
        without, it steps on from a copy of the current state.
        """
        if states is None:
            data = copy.copy(self.data)
            start = time.perf_counter()
            for _ in range(n_env_steps):
                mujoco.mj_step(self.model, data, nstep=self.substeps)
            return time.perf_counter() - start
        elapsed = 0.0
        for snapshot in states[:n_env_steps]:
            data = copy.copy(snapshot)
            start = time.perf_counter()
            mujoco.mj_step(self.model, data, nstep=self.substeps)
            elapsed += time.perf_counter() - start
        return elapsed

    def _settle(self, duration: float, pinned: dict[str, np.ndarray]) -> None:
        """Step with the controller running; pinned props are held in place until the fingers stall."""
        m, d = self.model, self.data
        chunk = 5 if pinned else self.config.refresh_substeps
        min_steps = round(0.1 / self.config.physics_dt)
        fingers = np.concatenate([arm.finger_qpos_addrs for arm in self.arms])
        finger_dofs = [self._dof_of_qpos(int(a)) for a in fingers]
        steps = round(duration / self.config.physics_dt)
        for done in range(0, steps, chunk):
            for arm in self.arms:
                arm.controller.refresh(d, chunk * self.config.physics_dt)
            mujoco.mj_step(m, d, nstep=chunk)
            if not pinned:
                continue
            for name, qpos in pinned.items():
                d.qpos[self._free_qpos(name)] = qpos
                d.qvel[self._free_dof(name)] = 0.0
            if done >= min_steps and np.all(np.abs(d.qvel[finger_dofs]) < 1e-3):
                break

    def _dof_of_qpos(self, qpos_addr: int) -> int:
        joint = int(np.flatnonzero(self.model.jnt_qposadr == qpos_addr)[0])
        return int(self.model.jnt_dofadr[joint])

    def _place(self, body_name: str, pose: np.ndarray) -> None:
        self.data.qpos[self._free_qpos(body_name)] = np.concatenate([pose[:3], geo.quat_to_mujoco(pose[3:])])
        self.data.qvel[self._free_dof(body_name)] = 0.0

    def _free_qpos(self, body_name: str) -> slice:
        joint = self.model.body(body_name).jntadr[0]
        if joint < 0 or self.model.jnt_type[joint] != mujoco.mjtJoint.mjJNT_FREE:
            raise ValueError(f"body {body_name!r} has no free joint; only free props can be placed")
        start = self.model.jnt_qposadr[joint]
        return slice(start, start + 7)

    def _free_dof(self, body_name: str) -> slice:
        start = self.model.jnt_dofadr[self.model.body(body_name).jntadr[0]]
        return slice(start, start + 6)

    def _renderer(self, height: int, width: int) -> mujoco.Renderer:
        key = (height, width)
        if key not in self._renderers:
            from hilserl_bench.rendering import require_renderer

            require_renderer()
            self._renderers[key] = mujoco.Renderer(self.model, height=height, width=width)
        return self._renderers[key]


def _split(total: int, chunk: int) -> tuple[int, ...]:
    """``total`` steps as chunks of at most ``chunk``."""
    full, rest = divmod(total, max(1, chunk))
    return (chunk,) * full + ((rest,) if rest else ())


def _geom_mask(model: mujoco.MjModel, names: tuple[str, ...]) -> np.ndarray | None:
    if not names:
        return None
    mask = np.zeros(model.ngeom, dtype=bool)
    for name in names:
        mask[model.geom(name).id] = True
    return mask
