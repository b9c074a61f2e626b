"""A MuJoCo robot-server emulator: the sim cell behind the real Franka server's HTTP protocol.

:class:`EmulatorCore` owns one :class:`~hilserl_bench.envs.sim_backend.SimBackend`
and makes every MuJoCo call (physics, rendering) on one worker thread, so HTTP threads
never touch MuJoCo and the EGL context stays on its thread. ``emulator_app`` serves it.

Time models (``EmulatorConfig.time_model``):

- ``"wall"`` (default, what ``serve-sim`` runs): before handling any request the
  simulation catches up on the wall time elapsed since the previous request, capped
  at ``max_catchup_s`` (longer idle gaps are dropped, as if the arm had been
  resting). Seen through HTTP this equals physics running in real time, without a
  background thread burning a core while nobody asks.
- ``"step"`` (deterministic, emulator-only): time stands still except that, after a
  /pose (or gripper command), the next request that reads state, or a second /pose
  from the same arm, first simulates exactly one control period via
  ``SimBackend.wait_for_next_step``. A seeded run through HTTP then reproduces the
  sim backend step for step.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from hilserl_bench.backend import ResetPlan
from hilserl_bench.envs import franka_model as fm
from hilserl_bench.envs.joint_move import JointMoveConfig, move_joints
from hilserl_bench.envs.sim_backend import SimBackend
from hilserl_bench.registry import task_class
from hilserl_bench.robot_types import _IMPEDANCE_RANGES, ImpedanceParams

ERROR_KINDS = ("cartesian_reflex", "joint_limit", "communication_constraints")


class EmulatorRequestError(ValueError):
    """A request the real server would misbehave on; the app answers HTTP 400 with this message."""


@dataclass(frozen=True)
class EmulatorConfig:
    """How the emulator keeps time."""

    time_model: Literal["wall", "step"] = "wall"
    """``wall``: real time (catch-up per request); ``step``: one control period per /pose (deterministic)."""
    max_catchup_s: float = 0.5
    """Largest wall-time gap simulated at once in ``wall`` mode; the rest of a longer pause is dropped."""
    call_timeout_s: float = 60.0
    """Longest a request waits for the simulation worker."""
    joint_move: JointMoveConfig = JointMoveConfig()
    """The /jointreset move (duration, gains); in ``wall`` mode the call also blocks that long in wall time."""


class EmulatorCore:
    """The simulated cell plus the server-side state a real controller has (errors, e-stop, params)."""

    def __init__(self, task_id: str, config: EmulatorConfig | None = None, **task_overrides: Any) -> None:
        self.config = config or EmulatorConfig()
        if self.config.time_model not in ("wall", "step"):
            raise ValueError(f"time_model={self.config.time_model!r}; choose 'wall' or 'step'")
        cls = task_class(task_id)
        self.task = cls(cls.default_config().replace(**task_overrides))
        self.sim = SimBackend(self.task)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="emulator-sim")
        self.params = [self.task.episode_params for _ in self.sim.arms]
        self._pending = [False] * len(self.sim.arms)
        self.error: str | None = None
        self.estop = False
        """Whether the (emulated) emergency stop is engaged."""
        self.requests: dict[str, int] = {}
        """Requests served per endpoint (tests and dry runs read it)."""
        self.clamped_params: list[str] = []
        """Keys the last /update_param clamped into their range (the real server does so silently)."""
        self._last_wall, self._dt_residue, self._since_period, self._pen_since_read = time.monotonic(), 0.0, 0.0, 0.0
        self.call(self.reset, {"seed": 0})

    # -- plumbing ----------------------------------------------------------------------
    def call(self, fn, *args: Any) -> Any:
        """Run ``fn(*args)`` on the simulation thread after advancing time per the time model."""
        return self._worker.submit(self._timed, fn, *args).result(timeout=self.config.call_timeout_s)

    def count(self, endpoint: str) -> None:
        self.requests[endpoint] = self.requests.get(endpoint, 0) + 1

    def close(self) -> None:
        """Free renderers on their own thread, then stop the worker; safe to call twice."""
        if self._worker is not None:
            self._worker.submit(self.sim.close).result(timeout=self.config.call_timeout_s)
            self._worker.shutdown(wait=True)
            self._worker = None

    def _timed(self, fn, *args: Any) -> Any:
        if self.config.time_model == "wall":
            self._catch_up()
        return fn(*args)

    def _catch_up(self) -> None:
        now = time.monotonic()
        debt = min(now - self._last_wall, self.config.max_catchup_s) + self._dt_residue
        self._last_wall = now
        dt = self.sim.config.physics_dt
        n = int(debt / dt)
        self._dt_residue = debt - n * dt
        while n > 0:
            k = min(n, self.sim.config.refresh_substeps)
            self._since_period += k * dt
            new_period = self._since_period >= self.sim.control_dt
            self._since_period = 0.0 if new_period else self._since_period
            for arm in self.sim.arms:
                arm.controller.refresh(self.sim.data, k * dt, new_period=new_period)
            self._pen_since_read = max(self._pen_since_read, self.sim.advance(k))
            n -= k

    def _flush(self) -> None:
        """Step mode: simulate the control period opened by the last command, if any."""
        if self.config.time_model == "step" and any(self._pending):
            self.sim.wait_for_next_step()
            self._pen_since_read = max(self._pen_since_read, self.sim.step_penetration)
            self._pending = [False] * len(self._pending)

    def _restart_clock(self) -> None:
        self._last_wall, self._dt_residue = time.monotonic(), 0.0
        self._pending = [False] * len(self._pending)

    # -- the real protocol ----------------------------------------------------------------
    def pose(self, arm: int, pose: Any) -> None:
        values = _vector(pose, 7, "arr")
        if np.linalg.norm(values[3:]) < 0.5:
            raise EmulatorRequestError("field 'arr': quaternion (entries 3..6, x-y-z-w) is not unit length")
        if self._pending[arm]:
            self._flush()
        if self.error is None and not self.estop:
            self.sim.arms[arm].set_pose(values)
        self._pending[arm] = True

    def state(self, arm: int) -> dict[str, Any]:
        self._flush()
        s = self.sim.arms[arm].get_state()
        return {"pose": s.pose.tolist(), "vel": s.vel.tolist(), "force": s.force.tolist(),
                "torque": s.torque.tolist(), "q": s.q.tolist(), "dq": s.dq.tolist(),
                "jacobian": s.jacobian.tolist(), "gripper_pos": float(s.gripper_pos),
                "error": self.error, "estop": self.estop, "time": self.sim.time}

    def gripper(self, arm: int, closed: bool | None, width: float | None = None) -> None:
        if self.estop:
            return
        sim_arm = self.sim.arms[arm]
        if width is None:
            sim_arm.set_gripper(bool(closed))
        else:
            sim_arm.set_gripper(width < fm.GRIPPER_MAX_WIDTH / 2)
            act = self.sim.model.actuator(sim_arm.prefix + fm.GRIPPER_ACTUATOR).id
            self.sim.data.ctrl[act] = float(np.clip(width, 0.0, fm.GRIPPER_OPEN_CTRL))
        self._pending[arm] = True

    def clear_error(self, arm: int) -> None:
        if not self.estop:
            self.error = None

    def update_params(self, arm: int, body: Any) -> list[str]:
        """The real parameter server: clamp each value into its range, apply all; returns the clamped keys."""
        params, clamped = clamp_params(self.params[arm], body)
        self.params[arm] = params
        self.sim.arms[arm].update_params(params)
        self.clamped_params = clamped
        return clamped

    def joint_reset(self, arm: int) -> float:
        """Blocking joint-space move to the home posture carrying what the hand holds; returns its seconds.

        The real move takes 10 to 45 s; the simulated one a few seconds (JointMoveConfig).
        In ``wall`` mode the call also lasts that long, so client timeouts meet a blocking call.
        """
        self._flush()
        started = time.monotonic()
        others = tuple(a for i, a in enumerate(self.sim.arms) if i != arm)
        seconds = move_joints(self.sim.model, self.sim.data, self.sim.arms[arm], fm.HOME_QPOS, self.params[arm],
                              others, self.sim.config.refresh_substeps, self.config.joint_move)
        if self.config.time_model == "wall":
            time.sleep(max(0.0, seconds - (time.monotonic() - started)))
        self._restart_clock()
        return seconds

    # -- emulator-only (/sim/...) ---------------------------------------------------------
    def reset(self, body: dict[str, Any]) -> dict[str, Any]:
        """Place the cell per a ResetPlan body (or the task's own plan for ``seed``), like SimBackend.reset."""
        if self.estop:
            raise EmulatorRequestError("emergency stop engaged; release it with /sim/estop {\"engaged\": false}")
        seed = body.get("seed")
        rng = np.random.default_rng(None if seed is None else int(seed))
        if "tcp_pose" in body:
            plan = ResetPlan(
                tcp_pose=_arm_poses(body["tcp_pose"], len(self.sim.arms)),
                gripper_closed=bool(body.get("gripper_closed", False)),
                object_poses={k: _vector(v, 7, f"object_poses.{k}") for k, v in body.get("object_poses", {}).items()},
                held_objects={k: _vector(v, 7, f"held_objects.{k}") for k, v in body.get("held_objects", {}).items()},
            )
        else:
            plan = self.task.reset_plan(rng)
        try:
            reset_params = ImpedanceParams.from_dict(body.get("reset_params", self.task.reset_params.to_dict()))
            episode_params = ImpedanceParams.from_dict(body.get("episode_params", self.task.episode_params.to_dict()))
        except (TypeError, ValueError) as exc:
            raise EmulatorRequestError(str(exc)) from None
        self.sim.reset(plan, reset_params, episode_params, rng)
        self.params, self.error, self._pen_since_read = [episode_params for _ in self.sim.arms], None, 0.0
        self._restart_clock()
        return {"time": self.sim.time}

    def camera(self, name: str, size: int | None) -> np.ndarray:
        self._flush()
        if name not in self.camera_names():
            raise KeyError(f"no camera {name!r}; cameras: {self.camera_names()}")
        size = int(size or self.task.config.image_size)
        if not 16 <= size <= 1024:
            raise EmulatorRequestError(f"size={size} must be in [16, 1024]")
        renderer = self.sim._renderer(size, size)
        renderer.update_scene(self.sim.data, camera=name)
        return renderer.render()

    def scene_state(self) -> dict[str, Any]:
        self._flush()
        scene = self.sim.scene_state()
        step_pen, self._pen_since_read = self._pen_since_read, 0.0
        return {"poses": {k: v.tolist() for k, v in scene.poses.items()}, "contacts": scene.contacts,
                "penetration": scene.penetration, "step_penetration": step_pen}

    def inject_error(self, kind: str) -> None:
        if kind not in ERROR_KINDS:
            raise EmulatorRequestError(f"kind={kind!r}; choose one of {list(ERROR_KINDS)}")
        self.error = kind
        for arm in self.sim.arms:
            arm.controller.hold(self.sim.data)

    def set_estop(self, engaged: bool) -> None:
        """Engaged: the arm holds where it is and ignores commands until released."""
        self.estop, self.error = bool(engaged), "user_stop" if engaged else None
        for arm in self.sim.arms if engaged else ():
            arm.controller.hold(self.sim.data)

    def camera_names(self) -> list[str]:
        return [self.sim.model.camera(i).name for i in range(self.sim.model.ncam)]

    def info(self) -> dict[str, Any]:
        return {"task": self.task.task_id, "time_model": self.config.time_model, "arms": list(self.task.arms),
                "control_dt": self.sim.control_dt, "image_size": self.task.config.image_size,
                "policy_cameras": list(self.task.cameras), "cameras": self.camera_names(), "time": self.sim.time}


def _arm_poses(value: Any, n_arms: int) -> np.ndarray:
    """``tcp_pose`` of a /sim/reset body: one pose for every arm, or one row per arm."""
    rows = np.asarray(value, dtype=object)
    if rows.ndim == 2:
        if len(rows) != n_arms:
            raise EmulatorRequestError(f"field 'tcp_pose' has {len(rows)} rows; this cell has {n_arms} arms")
        return np.stack([_vector(list(row), 7, f"tcp_pose[{i}]") for i, row in enumerate(rows)])
    return _vector(value, 7, "tcp_pose")


def clamp_params(current: ImpedanceParams, body: Any) -> tuple[ImpedanceParams, list[str]]:
    """Apply an /update_param body the way the real server's dynamic_reconfigure does.

    Every value is clamped into the parameter's documented range (the official
    precision dict's rotational clips of 0.5 become 0.1) and the rest is applied, so
    the official dicts are accepted. An unknown key makes the real client library
    raise before anything is applied (Flask then answers 500 with no detail); we
    answer 400 naming the key instead, and likewise for a value that is not a number.
    """
    if not isinstance(body, dict):
        raise EmulatorRequestError("/update_param expects a JSON object of controller parameters")
    unknown = sorted(set(body) - set(_IMPEDANCE_RANGES))
    if unknown:
        raise EmulatorRequestError(f"/update_param: unknown parameter(s) {unknown}; known: {sorted(_IMPEDANCE_RANGES)}")
    values, clamped = current.to_dict(), []
    for key, raw in body.items():
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not np.isfinite(raw):
            raise EmulatorRequestError(f"/update_param: {key}={raw!r} is not a finite number")
        lo, hi = _IMPEDANCE_RANGES[key]
        values[key] = float(min(max(raw, lo), hi))
        if values[key] != raw:
            clamped.append(key)
    return ImpedanceParams(**values), clamped


def _vector(value: Any, n: int, name: str) -> np.ndarray:
    try:
        out = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise EmulatorRequestError(f"field {name!r} must be a list of {n} numbers") from None
    if out.shape != (n,) or not np.all(np.isfinite(out)):
        raise EmulatorRequestError(f"field {name!r} must be {n} finite numbers, got {value!r}")
    return out
