"""The real-Franka backend: the same :class:`~hilserl_bench.backend.Backend` seam, over HTTP.

:class:`RealArm` is the last line of safety before a pose leaves the machine: it
refuses non-finite poses, re-clips into the task's safety box, shortens steps larger
than the per-step translation/rotation limits (measured from the previous command,
re-synchronised to the measured pose after every reset), and sends /clearerr before
/pose as the official client does. :class:`RealBackend` keeps the control rate on a
monotonic clock (reporting ``overrun_s`` instead of drifting), resets the arm like the
official stack, and reads the cameras. With ``config.emulator`` it uses the emulator's
``/sim/`` routes (resets, cameras, scene state) to run whole episodes against ``serve-sim``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.backend import ResetPlan, SceneState
from hilserl_bench.real.cameras import CameraError, open_camera
from hilserl_bench.real.client import RobotClient, RobotError, RobotEStopError, ServerFlags
from hilserl_bench.real.config import CameraConfig, RobotConfig
from hilserl_bench.robot_types import ArmState, ImpedanceParams
from hilserl_bench.task import SafetyBox, Task

log = logging.getLogger(__name__)


class RealArm:
    """One arm behind one robot server (:class:`~hilserl_bench.backend.ArmBackend`)."""

    def __init__(self, client: RobotClient, box: SafetyBox, config: RobotConfig) -> None:
        self.client, self.box, self.config = client, box, config
        self.reference: np.ndarray | None = None
        """Previous commanded pose; per-step limits are measured from it."""
        self.flags = ServerFlags()
        self.command_time: float | None = None
        """``time.monotonic()`` of the first /pose since the last resync (starts the control clock)."""
        self.wrench_limits: tuple[np.ndarray, np.ndarray] | None = None
        """Wrench tasks: per-component (low, high) the server applies; /wrench values are clipped to them."""

    def set_pose(self, pose: np.ndarray) -> None:
        pose = np.array(pose, dtype=np.float64)
        if pose.shape != (7,) or not np.all(np.isfinite(pose)):
            raise ValueError(f"refusing to send pose {pose.tolist()} to {self.client.url}: need 7 finite numbers")
        if self.flags.estop:
            raise RobotEStopError(f"emergency stop engaged on {self.client.url}; reset after releasing it")
        if not self.box.contains(pose):
            pose = self.box.clip(pose)
        pose = self._limit_step(pose)
        if self.config.clear_errors == "always" or self.flags.error:
            self.client.clear_error()
        if self.command_time is None:
            self.command_time = time.monotonic()
        self.client.set_pose(pose)
        self.reference = pose

    def set_wrench(self, wrench: np.ndarray) -> None:
        """/wrench (wrench-controlled server): refuses non-finite values, clips like the server, then sends."""
        wrench = np.array(wrench, dtype=np.float64)
        if wrench.shape != (6,) or not np.all(np.isfinite(wrench)):
            raise ValueError(f"refusing to send wrench {wrench.tolist()} to {self.client.url}: need 6 finite numbers")
        if self.flags.estop:
            raise RobotEStopError(f"emergency stop engaged on {self.client.url}; reset after releasing it")
        if self.wrench_limits is not None:
            wrench = np.clip(wrench, *self.wrench_limits)
        if self.flags.error:
            self.client.clear_error()
        if self.command_time is None:
            self.command_time = time.monotonic()
        self.client.set_wrench(wrench)

    def wrench_reset(self) -> None:
        """/reset (wrench-controlled server): joint PD back to the reset posture; blocks while it moves."""
        self.client.wrench_reset()

    def _limit_step(self, pose: np.ndarray) -> np.ndarray:
        ref = self.reference
        if ref is None:
            return pose
        delta = pose[:3] - ref[:3]
        dist, max_t = float(np.linalg.norm(delta)), self.config.max_step_translation
        if dist > max_t:
            pose[:3] = ref[:3] + delta * (max_t / dist)
        angle, max_r = float(np.linalg.norm(geo.orientation_error(ref[3:], pose[3:]))), self.config.max_step_rotation
        if angle > max_r:
            pose[3:] = geo.quat_slerp(ref[3:], pose[3:], max_r / angle)
        return pose

    def get_state(self) -> ArmState:
        state, self.flags = self.client.read_state()
        return state

    def set_gripper(self, closed: bool) -> None:
        if self.flags.estop:
            raise RobotEStopError(f"emergency stop engaged on {self.client.url}")
        self.client.set_gripper(closed)

    def update_params(self, params: ImpedanceParams) -> None:
        self.client.update_params(params)

    def joint_reset(self) -> None:
        self.client.joint_reset()

    def clear_error(self) -> None:
        self.client.clear_error()

    def resync(self) -> np.ndarray:
        """Make the measured pose the reference of the next command's step limits."""
        self.reference, self.command_time = self.get_state().pose.copy(), None
        return self.reference


class RealBackend:
    """A real cell (one or two arms, cameras, a monotonic clock); constructing it does no I/O."""

    def __init__(self, task: Task, config: RobotConfig, cameras: dict[str, CameraConfig] | None = None) -> None:
        self.task, self.config = task, config
        self.clients = tuple(RobotClient(url, config.timeout_s, config.read_retries, config.jointreset_timeout_s)
                             for url in config.urls_for(task.arms))
        self.arms = tuple(RealArm(c, box, config) for c, box in zip(self.clients, task.arm_safety_boxes, strict=True))
        if task.control_mode == "wrench":
            for arm in self.arms:
                arm.wrench_limits = task.wrench_server.limits()
        self.camera_configs = {**config.cameras, **(cameras or {})}
        self._cameras: dict[str, Any] = {}
        self._control_dt = 1.0 / task.config.control_hz
        self._connected, self._sim_clock, self._pace = False, False, config.pace is not False
        self._episodes, self._episode_start, self._next_tick = 0, time.monotonic(), None
        self.step_penetration, self.frame_times = 0.0, {}
        """Emulator's deepest penetration in the last period; ``time.monotonic()`` of each camera's last frame."""
        if config.emulator:
            self.render_overview = self._render_overview
        reach = float(np.sqrt(3.0) * task.config.action_scale[0])
        if config.max_step_translation < reach:
            log.warning("max_step_translation %.3f m is below the %.3f m one full %s action can command; larger "
                        "steps will be shortened (raise it in the robot config to run the task as specified)",
                        config.max_step_translation, reach, task.task_id)

    @property
    def control_dt(self) -> float:
        return self._control_dt

    @property
    def time(self) -> float:
        if self._sim_clock and self.arms[0].flags.time is not None:
            return self.arms[0].flags.time
        return time.monotonic() - self._episode_start

    @property
    def estopped(self) -> bool:
        """Whether any arm's last state reported an engaged emergency stop."""
        return any(arm.flags.estop for arm in self.arms)

    def connect(self) -> None:
        """Check every server answers /getstate; against the emulator, check it runs this task."""
        if self._connected:
            return
        for arm in self.arms:
            arm.get_state()
        if self.config.emulator:
            info = self.clients[0].sim_info()
            if info["task"] != self.task.task_id:
                raise RobotError(f"emulator at {self.clients[0].url} runs task {info['task']!r}, "
                                 f"not {self.task.task_id!r}; start it with serve-sim --task {self.task.task_id}")
            self._sim_clock = info["time_model"] == "step"
        self._pace = self.config.pace if self.config.pace is not None else not self._sim_clock
        self._connected = True

    def close(self) -> None:
        for handle in (*self._cameras.values(), *self.clients):
            handle.close()
        self._cameras.clear()
        self._connected = False

    def wait_for_next_step(self) -> dict[str, float]:
        """Sleep to the next tick of the control clock; a late tick is reported, and the schedule restarts.

        The clock of an episode starts with its first command, so the time the env spends
        building the reset observation (e.g. opening cameras) is not counted as an overrun.
        """
        if not self._pace:
            return {"overrun_s": 0.0}
        now = time.monotonic()
        if self._next_tick is None:
            starts = [arm.command_time for arm in self.arms if arm.command_time is not None]
            self._next_tick = min(starts, default=now) + self._control_dt
        if now <= self._next_tick:
            time.sleep(self._next_tick - now)
            overrun, self._next_tick = 0.0, self._next_tick + self._control_dt
        else:
            overrun, self._next_tick = now - self._next_tick, now + self._control_dt
        return {"overrun_s": overrun}

    def reset(self, plan: ResetPlan, reset_params: ImpedanceParams, episode_params: ImpedanceParams,
              rng: np.random.Generator) -> None:
        self.connect()
        for arm in self.arms:
            arm.get_state()
            if arm.flags.estop:
                raise RobotEStopError(f"emergency stop engaged on {arm.client.url}; release it, then reset")
        self._episodes += 1
        if self.config.emulator:
            self.clients[0].sim_reset(plan, reset_params, episode_params)
        else:
            if plan.object_poses or plan.held_objects:
                log.info("reset: props %s are left to the person resetting the cell",
                         sorted({*plan.object_poses, *plan.held_objects}))
            if self.task.control_mode == "wrench":
                self._wrench_hardware_reset(plan)
            else:
                self._hardware_reset(plan, reset_params, episode_params)
        for arm in self.arms:
            arm.resync()
        self._episode_start, self._next_tick = time.monotonic(), None

    def _hardware_reset(self, plan: ResetPlan, reset_params: ImpedanceParams,
                        episode_params: ImpedanceParams) -> None:
        """Reset params, optional /jointreset, interpolated move to the plan, gripper, compliant params."""
        goals = np.array([plan.arm_pose(i) for i in range(len(self.arms))])
        if not np.all(np.isfinite(goals)):
            raise ValueError(f"reset pose {goals.tolist()} is not finite")
        for arm in self.arms:
            arm.clear_error()
            arm.update_params(reset_params)
        every = self.config.jointreset_every
        if every and self._episodes % every == 0:
            for arm in self.arms:
                arm.joint_reset()
        starts = [arm.get_state().pose for arm in self.arms]
        n = max(1, self.config.reset_move_steps)
        for k in range(1, n + 1):
            for arm, start, goal in zip(self.arms, starts, goals, strict=True):
                waypoint = np.concatenate([start[:3] + k / n * (goal[:3] - start[:3]),
                                           geo.quat_slerp(start[3:], goal[3:], k / n)])
                arm.client.clear_error()
                arm.client.set_pose(waypoint)
            time.sleep(self.config.reset_move_s / n)
        for arm in self.arms:
            arm.set_gripper(plan.gripper_closed)
        time.sleep(self.config.reset_settle_s)
        for arm in self.arms:
            arm.update_params(episode_params)

    def _wrench_hardware_reset(self, plan: ResetPlan) -> None:
        """The wrench server's reset: /clearerr, /reset (joint PD to its reset posture), gripper, pause.

        The wrench variant has no /pose or /update_param: the reset posture is the server's,
        and the task's ``tcp_pose`` is only checked against what the arm reached.
        """
        for arm in self.arms:
            arm.clear_error()
            arm.wrench_reset()
            arm.set_gripper(plan.gripper_closed)
        time.sleep(self.config.reset_settle_s)
        for arm in self.arms:
            reached = arm.get_state().pose
            if np.linalg.norm(reached[:3] - np.asarray(plan.tcp_pose)[:3]) > 0.05:
                log.warning("wrench reset on %s ended at %s, more than 5 cm from the task's reset pose %s",
                            arm.client.url, np.round(reached[:3], 3).tolist(), np.round(plan.tcp_pose[:3], 3).tolist())

    def camera_frames(self, cameras: tuple[str, ...]) -> dict[str, np.ndarray]:
        frames = {}
        for name in cameras:
            frames[name] = self._camera(name).read()
            self.frame_times[name] = time.monotonic()
        return frames

    def _camera(self, name: str) -> Any:
        if name in self._cameras:
            return self._cameras[name]
        cfg = self.camera_configs.get(name)
        if cfg is None and self.config.emulator:
            cfg = CameraConfig(kind="emulator")
        if cfg is None:
            configured = ", ".join(sorted(self.camera_configs)) or "none"
            raise CameraError(f"camera {name!r} has no entry in the robot config's 'cameras' (configured: "
                              f"{configured}); add it to the file given with --robot-config (see docs/real_robot.md), "
                              "or add --emulator when the server is `hilserl-bench serve-sim`")
        if cfg.kind == "emulator" and not self.config.emulator:
            raise CameraError(f"camera {name!r} is an emulator camera but the config does not set emulator: true")
        calib = self.config.tasks.get(self.task.task_id)
        crop = calib.crops.get(name, cfg.crop) if calib is not None and cfg.kind != "emulator" else cfg.crop
        self._cameras[name] = open_camera(name, cfg, crop, self.task.config.image_size, self.clients[0],
                                          self.config.camera_stall_s, self.config.camera_start_s)
        return self._cameras[name]

    def scene_state(self) -> SceneState | None:
        """Privileged state from the emulator; ``None`` on hardware."""
        if not self.config.emulator:
            return None
        scene, self.step_penetration = self.clients[0].sim_scene_state()
        return scene

    def _render_overview(self) -> np.ndarray:
        return self.clients[0].sim_camera("overview", 240)

