"""The one env class every task and backend share.

:class:`FrankaEnv` turns a task (what to do) and a backend (what moves) into a
gymnasium env, doing what the official client does each 10 Hz step
(robot_server.md): clip the action to [-1, 1], scale it, add it to the measured pose
(rotation as an xyz-Euler delta left-multiplied onto the measured orientation),
clip the target into the task's safety box, send it, apply the gripper rule, wait
for the next tick, read the state and the cameras. Out-of-range actions are
clipped silently (as on hardware); NaN/inf or a wrong shape raise ``ValueError``.
Tasks with ``control_mode == "wrench"`` (the dynamic tasks) instead scale their action
by the task's wrench scale into a base-frame wrench and send it to the wrench server
variant (/wrench), as the official wrench env does; their proprioception adds ``q`` and
``dq``, and ``full_length`` tasks (Jenga) are judged, and rewarded, at their last step only.

Observations: ``state`` (tcp_pose, tcp_vel, tcp_force, tcp_torque, gripper_pose;
keys prefixed ``left/`` / ``right/`` on dual-arm tasks) plus ``images`` (camera ->
uint8 RGB) in ``obs_mode="pixels"`` or ``task`` (privileged task state, simulator and
emulator only) in ``obs_mode="state"``. Time limits set ``truncated``; success sets
``terminated``, and so does an engaged emergency stop (``info["estop"]``) or a free
object leaving the task's workspace box (``info["object_lost"]``, a failure; see
:class:`hilserl_bench.task.Workspace`). ``info`` always carries ``succeed``, ``estop``,
``object_lost``, ``overrun_s`` (how late the control tick was;
0 in simulation) and ``is_intervention`` (False here; intervention wrappers set it
with ``intervene_action`` / ``teleop_action``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import gymnasium as gym
import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.backend import Backend, SceneState
from hilserl_bench.robot_types import ArmState
from hilserl_bench.task import Task
from hilserl_bench.wrench import WRENCH_AXES

ObsMode = Literal["pixels", "state"]
OBS_MODES: tuple[str, ...] = ("pixels", "state")
GRIPPER_SLEEP_S = 0.6
"""The official client's minimum time between two gripper commands."""
_TWIST_NAMES = ("dx", "dy", "dz", "drx", "dry", "drz")


class FrankaEnv(gym.Env):
    """A task run on a backend; see the module docstring for the step semantics."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, task: Task, backend: Backend, obs_mode: ObsMode = "pixels",
                 render_mode: str | None = None) -> None:
        if obs_mode not in OBS_MODES:
            raise ValueError(f"obs_mode={obs_mode!r} is not supported; choose one of {list(OBS_MODES)}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode={render_mode!r} is not supported; choose None or 'rgb_array'")
        self.task, self.backend, self.obs_mode, self.render_mode = task, backend, obs_mode, render_mode
        self.metadata = {**self.metadata, "render_fps": task.config.control_hz}
        n = len(task.arms)
        self._prefixes = tuple("" if n == 1 else f"{arm}/" for arm in task.arms)
        self._per_arm = 7 if task.learned_gripper else 6
        per_arm_names = _TWIST_NAMES + (("gripper",) if task.learned_gripper else ())
        if task.control_mode == "wrench":
            self._per_arm = len(task.wrench_axes)
            per_arm_names = tuple(WRENCH_AXES[i] for i in task.wrench_axes)
        self.action_names = tuple(f"{p}{name}" for p in self._prefixes for name in per_arm_names)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(task.action_dim,), dtype=np.float32)
        self.observation_space = self._build_observation_space()
        self._states: tuple[ArmState, ...] = ()
        self._gripper_closed = [False] * n
        self._last_gripper_time = [-np.inf] * n
        self._steps = 0
        self.last_obs: dict[str, Any] = {}
        self.last_scene: SceneState | None = None
        """The scene read at the last reset or step; readers reuse it rather than query the backend again
        (over HTTP a read costs a request and restarts the emulator's penetration window)."""
        """The latest raw observation (base frame), for experts running beside wrapped policies."""

    @property
    def control_dt(self) -> float:
        """Seconds per env step."""
        return self.backend.control_dt

    def _build_observation_space(self) -> gym.spaces.Dict:
        inf = np.inf
        state = {}
        for p in self._prefixes:
            state[f"{p}tcp_pose"] = gym.spaces.Box(-inf, inf, (7,), np.float32)
            state[f"{p}tcp_vel"] = gym.spaces.Box(-inf, inf, (6,), np.float32)
            state[f"{p}tcp_force"] = gym.spaces.Box(-inf, inf, (3,), np.float32)
            state[f"{p}tcp_torque"] = gym.spaces.Box(-inf, inf, (3,), np.float32)
            state[f"{p}gripper_pose"] = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
            if self.task.joint_proprio:
                state[f"{p}q"] = gym.spaces.Box(-inf, inf, (7,), np.float32)
                state[f"{p}dq"] = gym.spaces.Box(-inf, inf, (7,), np.float32)
        spaces: dict[str, gym.Space] = {"state": gym.spaces.Dict(state)}
        if self.obs_mode == "pixels":
            size = self.task.config.image_size
            spaces["images"] = gym.spaces.Dict(
                {cam: gym.spaces.Box(0, 255, (size, size, 3), np.uint8) for cam in self.task.cameras}
            )
        else:
            spaces["task"] = gym.spaces.Dict(
                {k: gym.spaces.Box(-inf, inf, (dim,), np.float32) for k, dim in self.task.task_state_dims().items()}
            )
        return gym.spaces.Dict(spaces)

    # -- gymnasium API ---------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        plan = self.task.reset_plan(self.np_random)
        self.backend.reset(plan, self.task.reset_params, self.task.episode_params, self.np_random)
        self._gripper_closed = [plan.gripper_closed] * len(self.task.arms)
        self._last_gripper_time = [-np.inf] * len(self.task.arms)
        self._steps = 0
        self._states = tuple(arm.get_state() for arm in self.backend.arms)
        scene = self.last_scene = self.backend.scene_state()
        evaluation = self.task.evaluate(scene, self._states)
        self.last_obs = self._observation(scene)
        timing = {"overrun_s": 0.0, "estop": bool(self.backend.estopped), "object_lost": bool(self._lost(scene))}
        return self.last_obs, self._info(evaluation, scene, timing)

    def step(self, action: np.ndarray):
        action = np.clip(self.check_action(action), -1.0, 1.0)
        if self.task.control_mode == "wrench":
            return self._finish_step(self._send_wrenches(action))
        scale_t, scale_r, _ = self.task.config.action_scale
        boxes = self.task.arm_safety_boxes
        now = self.backend.time
        for i, arm in enumerate(self.backend.arms):
            a = action[i * self._per_arm:(i + 1) * self._per_arm]
            pose = self._states[i].pose
            target = np.empty(7)
            target[:3] = pose[:3] + a[:3] * scale_t
            target[3:] = geo.quat_mul(geo.euler_to_quat(a[3:6] * scale_r), pose[3:])
            arm.set_pose(boxes[i].clip(target))
            if self.task.learned_gripper:
                self._apply_gripper(i, arm, float(a[6]), now)
        return self._finish_step(self.backend.wait_for_next_step())

    def _send_wrenches(self, action: np.ndarray) -> dict[str, float]:
        """Wrench tasks: each arm's action block, scaled by the task's wrench scale, goes to /wrench."""
        for i, arm in enumerate(self.backend.arms):
            arm.set_wrench(self.task.action_to_wrench(action[i * self._per_arm:(i + 1) * self._per_arm]))
        return self.backend.wait_for_next_step()

    def _finish_step(self, timing: dict[str, float]):
        self._steps += 1
        self._states = tuple(arm.get_state() for arm in self.backend.arms)
        scene = self.last_scene = self.backend.scene_state()
        evaluation = self.task.evaluate(scene, self._states)
        if self.task.full_length and self._steps < self.task.config.max_steps:
            evaluation = dataclasses.replace(evaluation, success=False)
        lost = self._lost(scene)
        if lost:
            evaluation = dataclasses.replace(evaluation, success=False)
        reward = self.task.reward(evaluation)
        estop = bool(self.backend.estopped)
        terminated = bool(evaluation.success) or estop or bool(lost)
        truncated = self._steps >= self.task.config.max_steps and not terminated
        timing = {**timing, "estop": estop, "object_lost": bool(lost)}
        self.last_obs = self._observation(scene)
        return self.last_obs, reward, terminated, truncated, self._info(evaluation, scene, timing)

    @property
    def arm_states(self) -> tuple[ArmState, ...]:
        """The latest measured state of each arm (base frames), in ``task.arms`` order."""
        return self._states

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        overview = getattr(self.backend, "render_overview", None)
        if overview is not None:
            return overview()
        return np.concatenate(list(self.backend.camera_frames(self.task.cameras).values()), axis=1)

    def close(self) -> None:
        self.backend.close()

    # -- helpers -----------------------------------------------------------------------
    def check_action(self, action: Any) -> np.ndarray:
        """The action as float64, or ``ValueError`` naming what is wrong with it."""
        a = np.asarray(action, dtype=np.float64)
        if a.shape != self.action_space.shape:
            raise ValueError(
                f"action has shape {a.shape}; expected {self.action_space.shape} with entries {list(self.action_names)}"
            )
        bad = np.flatnonzero(~np.isfinite(a))
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"action[{i}] ({self.action_names[i]}) is {a[i]}; every entry must be finite")
        return a

    def _lost(self, scene) -> tuple[str, ...]:
        """Tracked objects outside the task's workspace box (none without a box or a scene)."""
        workspace = self.task.workspace()
        return () if workspace is None else workspace.lost(scene)

    def _apply_gripper(self, i: int, arm: Any, command: float, now: float) -> None:
        """Close at <= -0.5, open at >= 0.5; only state changes, at most one per GRIPPER_SLEEP_S."""
        want_closed = True if command <= -0.5 else False if command >= 0.5 else None
        if want_closed is None or want_closed == self._gripper_closed[i]:
            return
        if now - self._last_gripper_time[i] < GRIPPER_SLEEP_S:
            return
        arm.set_gripper(want_closed)
        self._gripper_closed[i] = want_closed
        self._last_gripper_time[i] = now

    def _observation(self, scene) -> dict[str, Any]:
        state = {}
        for p, s in zip(self._prefixes, self._states, strict=True):
            state[f"{p}tcp_pose"] = s.pose.astype(np.float32)
            state[f"{p}tcp_vel"] = s.vel.astype(np.float32)
            state[f"{p}tcp_force"] = s.force.astype(np.float32)
            state[f"{p}tcp_torque"] = s.torque.astype(np.float32)
            state[f"{p}gripper_pose"] = np.array([s.gripper_pos], dtype=np.float32)
            if self.task.joint_proprio:
                state[f"{p}q"] = s.q.astype(np.float32)
                state[f"{p}dq"] = s.dq.astype(np.float32)
        obs: dict[str, Any] = {"state": state}
        if self.obs_mode == "pixels":
            obs["images"] = self.backend.camera_frames(self.task.cameras)
        else:
            if scene is None:
                raise RuntimeError("obs_mode='state' needs privileged task state, which only the simulator "
                                   "and the emulator provide; use obs_mode='pixels' on hardware")
            obs["task"] = {k: v.astype(np.float32) for k, v in self.task.task_state(scene, self._states).items()}
        return obs

    def _info(self, evaluation, scene, timing: dict[str, float]) -> dict[str, Any]:
        info: dict[str, Any] = {"succeed": bool(evaluation.success), "is_intervention": False}
        info.update(evaluation.terms)
        info.update(timing)
        if scene is not None:
            info["penetration"] = float(getattr(self.backend, "step_penetration", scene.penetration))
        return info
