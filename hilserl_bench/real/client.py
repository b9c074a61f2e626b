"""HTTP client for one official HIL-SERL Franka robot server (robot_server.md).

Compared with the official client: one ``requests.Session`` per server (keep-alive),
a timeout on every call, retries only for idempotent reads, and answers validated
field by field, so a dead, slow or broken server ends in a specific exception that
names the URL, the endpoint and the field instead of a hang or a ``KeyError``.
The ``/sim/...`` methods talk to the emulator only (``hilserl-bench serve-sim``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import requests

from hilserl_bench.backend import ResetPlan, SceneState
from hilserl_bench.robot_types import ArmState, ImpedanceParams


class RobotError(RuntimeError):
    """Anything that went wrong talking to a robot server."""


class RobotConnectionError(RobotError):
    """The server is unreachable, dropped the connection, or did not answer in time."""


class RobotTimeoutError(RobotConnectionError):
    """The server accepted the connection but did not answer within the timeout."""


class RobotProtocolError(RobotError):
    """The server answered something that is not the protocol (bad JSON, missing or malformed field)."""


class RobotCommandError(RobotError):
    """The server refused a command (HTTP 4xx/5xx), e.g. an out-of-range /update_param value."""


class RobotEStopError(RobotError):
    """The emergency stop is engaged; release it on the robot before resetting."""


_STATE_SHAPES: dict[str, tuple[int, ...]] = {"pose": (7,), "vel": (6,), "force": (3,), "torque": (3,),
                                             "q": (7,), "dq": (7,), "jacobian": (6, 7), "gripper_pos": ()}


@dataclass(frozen=True)
class ServerFlags:
    """Optional /getstate extension fields (the emulator, or a server patched to report them)."""

    error: str | None = None
    """Active controller error, if the server reports it."""
    estop: bool = False
    """Whether the emergency stop is engaged."""
    time: float | None = None
    """Server-side episode clock (the emulator's simulated seconds)."""


def _short_reason(exc: BaseException) -> str:
    """The root cause of a requests failure ("Connection refused"), not urllib3's nested pool description."""
    import re

    match = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(exc))
    return match.group(1).strip() if match else type(exc).__name__


class RobotClient:
    """One robot server at ``url`` (base URL; endpoint names are appended)."""

    def __init__(self, url: str, timeout_s: float = 1.0, read_retries: int = 1,
                 jointreset_timeout_s: float = 60.0) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.timeout_s, self.read_retries, self.jointreset_timeout_s = timeout_s, read_retries, jointreset_timeout_s
        self.session = requests.Session()

    def close(self) -> None:
        self.session.close()

    # -- transport ------------------------------------------------------------------------
    def post(self, endpoint: str, body: Any = None, *, read: bool = False, timeout: float | None = None,
             params: dict[str, Any] | None = None) -> requests.Response:
        """POST with a timeout; reads are retried ``read_retries`` times, commands never."""
        attempts = 1 + (self.read_retries if read else 0)
        where = f"{self.url}{endpoint}"
        for attempt in range(attempts):
            try:
                resp = self.session.post(where, json=body, params=params, timeout=timeout or self.timeout_s)
            except requests.Timeout:
                error: RobotConnectionError = RobotTimeoutError(
                    f"robot server {where} did not answer within {timeout or self.timeout_s:.2f} s")
            except requests.RequestException as exc:
                error = RobotConnectionError(f"robot server {where} is unreachable ({_short_reason(exc)})")
            else:
                if resp.status_code != 200:
                    raise RobotCommandError(f"robot server {where} answered HTTP {resp.status_code}: "
                                            f"{resp.text.strip()[:300]}")
                return resp
            if attempt + 1 < attempts:
                time.sleep(0.02)
        raise error

    def command(self, endpoint: str, body: Any = None, timeout: float | None = None) -> str:
        """A command endpoint; returns the plain-text acknowledgement."""
        return self.post(endpoint, body, timeout=timeout).text

    def read_json(self, endpoint: str, body: Any = None, fields: tuple[str, ...] = ()) -> dict[str, Any]:
        """A getter; the answer must be a JSON object holding ``fields``."""
        resp = self.post(endpoint, body, read=True)
        try:
            data = resp.json()
        except ValueError:
            raise RobotProtocolError(f"{self.url}{endpoint} answered non-JSON: {resp.text[:120]!r}") from None
        if not isinstance(data, dict):
            raise RobotProtocolError(f"{self.url}{endpoint} answered {type(data).__name__}, expected a JSON object")
        missing = [f for f in fields if f not in data]
        if missing:
            raise RobotProtocolError(f"{self.url}{endpoint} answer lacks field(s) {missing}; got {sorted(data)}")
        return data

    def _array(self, endpoint: str, data: dict[str, Any], name: str, shape: tuple[int, ...]) -> np.ndarray:
        try:
            value = np.asarray(data[name], dtype=np.float64)
        except (TypeError, ValueError):
            raise RobotProtocolError(f"{self.url}{endpoint} field {name!r} is not numeric: {data[name]!r:.80}") \
                from None
        if value.shape != shape:
            raise RobotProtocolError(f"{self.url}{endpoint} field {name!r} has shape {value.shape}, expected {shape}")
        if not np.all(np.isfinite(value)):
            raise RobotProtocolError(f"{self.url}{endpoint} field {name!r} holds non-finite values")
        return value

    # -- the robot-server protocol ----------------------------------------------------------
    def read_state(self) -> tuple[ArmState, ServerFlags]:
        """/getstate, validated, stamped with ``time.monotonic()`` on arrival."""
        data = self.read_json("getstate", fields=tuple(_STATE_SHAPES))
        stamp = time.monotonic()
        v = {name: self._array("getstate", data, name, shape) for name, shape in _STATE_SHAPES.items()}
        state = ArmState(pose=v["pose"], vel=v["vel"], force=v["force"], torque=v["torque"], q=v["q"], dq=v["dq"],
                         gripper_pos=float(v["gripper_pos"]), jacobian=v["jacobian"], timestamp=stamp)
        sim_time = data.get("time")
        flags = ServerFlags(error=data.get("error") or None, estop=bool(data.get("estop", False)),
                            time=float(sim_time) if isinstance(sim_time, int | float) else None)
        return state, flags

    def get_pose(self) -> np.ndarray:
        """/getpos."""
        return self._array("getpos", self.read_json("getpos", fields=("pose",)), "pose", (7,))

    def set_pose(self, pose: np.ndarray) -> None:
        """/pose with [x, y, z, qx, qy, qz, qw]."""
        self.command("pose", {"arr": [float(v) for v in pose]})

    def clear_error(self) -> None:
        self.command("clearerr")

    def update_params(self, params: ImpedanceParams | dict[str, float]) -> None:
        body = params.to_dict() if isinstance(params, ImpedanceParams) else dict(params)
        self.command("update_param", body)

    def joint_reset(self) -> None:
        """/jointreset; blocks 10 to 45 s on hardware, hence its own timeout."""
        self.command("jointreset", timeout=self.jointreset_timeout_s)

    def set_gripper(self, closed: bool) -> None:
        self.command("close_gripper" if closed else "open_gripper")

    def move_gripper(self, pos: int) -> None:
        """/move_gripper with 0..255 (width = pos / 2550 m on the Franka hand)."""
        self.command("move_gripper", {"gripper_pos": int(np.clip(pos, 0, 255))})

    def set_wrench(self, wrench: np.ndarray) -> None:
        """/wrench (wrench-controlled server variant): [fx, fy, fz, tx, ty, tz] held for at most 0.1 s."""
        self.command("wrench", {"arr": [float(v) for v in wrench]})

    def wrench_reset(self) -> None:
        """/reset (wrench-controlled server variant): joint-impedance reset."""
        self.command("reset", timeout=self.jointreset_timeout_s)

    # -- emulator only ------------------------------------------------------------------------
    def sim_info(self) -> dict[str, Any]:
        return self.read_json("sim/info", fields=("task", "time_model", "control_dt"))

    def sim_reset(self, plan: ResetPlan, reset_params: ImpedanceParams, episode_params: ImpedanceParams) -> None:
        body = {"tcp_pose": np.asarray(plan.tcp_pose, dtype=float).tolist(), "gripper_closed": plan.gripper_closed,
                "object_poses": {k: np.asarray(v, dtype=float).tolist() for k, v in plan.object_poses.items()},
                "held_objects": {k: np.asarray(v, dtype=float).tolist() for k, v in plan.held_objects.items()},
                "friction": {k: float(v) for k, v in plan.friction.items()},
                "reset_params": reset_params.to_dict(), "episode_params": episode_params.to_dict()}
        self.post("sim/reset", body, timeout=max(self.timeout_s, 10.0))

    def sim_camera(self, name: str, size: int) -> np.ndarray:
        resp = self.post(f"sim/camera/{name}", read=True, params={"size": size})
        shape = tuple(int(s) for s in resp.headers.get("X-Frame-Shape", "0").split(","))
        frame = np.frombuffer(resp.content, dtype=np.uint8)
        if frame.size != int(np.prod(shape)):
            raise RobotProtocolError(f"{self.url}sim/camera/{name}: {frame.size} bytes do not fit shape {shape}")
        return frame.reshape(shape)

    def sim_scene_state(self) -> tuple[SceneState, float]:
        """(scene, deepest penetration since the previous call)."""
        data = self.read_json("sim/scene_state", fields=("poses", "penetration", "step_penetration"))
        poses = {k: self._array("sim/scene_state", data["poses"], k, (7,)) for k in data["poses"]}
        scene = SceneState(poses=poses, contacts={k: bool(v) for k, v in data.get("contacts", {}).items()},
                           penetration=float(data["penetration"]))
        return scene, float(data["step_penetration"])
