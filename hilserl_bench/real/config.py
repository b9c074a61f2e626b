"""Per-robot configuration as data: server URLs, cameras, crops, calibrated poses, safety box.

Everything that differs between two real cells lives in one user-edited JSON file
(TOML is read too), never in code. Unknown keys are errors that name the key, so a
typo does not silently fall back to a default; keys starting with ``_`` are comments.
See ``examples/robot_config.example.json``.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.task import SafetyBox, Task

DEFAULT_URL = "http://127.0.0.1:5000/"


@dataclass(frozen=True)
class CameraConfig:
    """One camera plugged into the policy machine."""

    kind: Literal["realsense", "opencv", "emulator"] = "realsense"
    """Driver: a RealSense by serial, any OpenCV device, or the emulator's ``/sim/camera`` renderer."""
    serial: str = ""
    """RealSense serial number (``rs-enumerate-devices`` lists them)."""
    device: int | str = 0
    """OpenCV device index, path (``/dev/video2``) or stream URL."""
    width: int = 640
    """Capture width (pixels) before cropping."""
    height: int = 480
    """Capture height (pixels) before cropping."""
    fps: int = 15
    """Capture rate; the env samples the latest frame at 10 Hz."""
    crop: tuple[int, int, int, int] | None = None
    """Default crop (top, bottom, left, right) in capture pixels; a task's ``crops`` entry overrides it."""
    exposure: float | None = None
    """Manual exposure (RealSense, microseconds); ``None`` keeps auto exposure."""


@dataclass(frozen=True)
class TaskCalibration:
    """One task's poses on this cell; fields left out keep the task's offsets relative to its target."""

    target_pose: tuple[float, ...] | None = None
    """TCP pose at success [x, y, z, qx, qy, qz, qw] (write it with ``hilserl-bench calibrate``), or
    [x, y, z, roll, pitch, yaw] as official HIL-SERL configs write ``TARGET_POSE``."""
    reset_pose: tuple[float, ...] | None = None
    """Nominal episode start pose; default: the task's reset offset (xyz + Euler, as the official
    configs write ``RESET_POSE = TARGET_POSE + offset``) added to ``target_pose``."""
    safety_box_low: tuple[float, ...] | None = None
    """Lower bounds [x, y, z, roll, pitch, yaw]; default: the task's box moved with the target."""
    safety_box_high: tuple[float, ...] | None = None
    """Upper bounds [x, y, z, roll, pitch, yaw]."""
    crops: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    """Per-camera crop (top, bottom, left, right) for this task (hardware cameras; emulator frames are not cropped)."""
    official_euler_pitch_flip: bool = False
    """Parity flag: 6-value poses were copied from an official config, whose Euler helper negates pitch;
    convert them the same way so the arm goes where the official stack sent it. Off: standard xyz Euler."""


@dataclass(frozen=True)
class RobotConfig:
    """How to reach and drive one real cell (or the emulator standing in for it)."""

    robot_urls: dict[str, str] = field(default_factory=lambda: {"arm": DEFAULT_URL})
    """Server base URL per arm name (``arm``, or ``left`` and ``right`` for dual-arm tasks)."""
    emulator: bool = False
    """The servers are ``hilserl-bench serve-sim``: use its ``/sim/`` routes for resets, cameras, scene state."""
    timeout_s: float = 1.0
    """Timeout of every HTTP call except /jointreset (s)."""
    jointreset_timeout_s: float = 60.0
    """Timeout of /jointreset, which blocks for 10 to 45 s on hardware."""
    read_retries: int = 1
    """Extra attempts for idempotent reads (/getstate, cameras); commands are never retried."""
    clear_errors: Literal["always", "on_report"] = "always"
    """``always``: /clearerr before each /pose (official client); ``on_report``: only after /getstate reports one."""
    pace: bool | None = None
    """Sleep to keep the control rate; ``None``: yes, except against a deterministic (step-mode) emulator."""
    jointreset_every: int = 0
    """/jointreset before every N-th episode (0 = never)."""
    reset_move_s: float = 1.0
    """Duration of the interpolated move to the reset pose (s)."""
    reset_move_steps: int = 10
    """Number of /pose waypoints in that move."""
    reset_settle_s: float = 0.5
    """Pause after the move (and after gripper commands) before the episode starts (s)."""
    max_step_translation: float = 0.05
    """Largest change of the commanded position between two commands (m); larger steps are shortened."""
    max_step_rotation: float = 0.3
    """Largest change of the commanded orientation between two commands (rad)."""
    camera_stall_s: float = 1.0
    """A camera whose newest frame is older than this raises ``CameraError`` (s)."""
    camera_start_s: float = 5.0
    """Time a camera may take to deliver its first frame (s)."""
    cameras: dict[str, CameraConfig] = field(default_factory=dict)
    """Policy cameras by the task's camera name (``wrist_1``, ``wrist_2``, ...)."""
    tasks: dict[str, TaskCalibration] = field(default_factory=dict)
    """Calibrated poses, safety box and crops per task id."""

    def urls_for(self, arms: tuple[str, ...]) -> tuple[str, ...]:
        """Base URLs in task arm order; a single URL serves a single-arm task whatever its key."""
        if len(arms) == 1 and len(self.robot_urls) == 1:
            return (_slash(next(iter(self.robot_urls.values()))),)
        missing = [a for a in arms if a not in self.robot_urls]
        if missing:
            raise ValueError(f"robot_urls has no entry for arm(s) {missing}; the task's arms are {list(arms)}")
        return tuple(_slash(self.robot_urls[a]) for a in arms)

    def replace(self, **changes: Any) -> RobotConfig:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RobotConfig:
        """Parse and check a config mapping; errors name the offending key."""
        values = _fields(cls, data, "config")
        if "cameras" in values:
            values["cameras"] = {k: CameraConfig(**_fields(CameraConfig, v, f"cameras.{k}"))
                                 for k, v in values["cameras"].items()}
        if "tasks" in values:
            values["tasks"] = {k: TaskCalibration(**_fields(TaskCalibration, v, f"tasks.{k}"))
                               for k, v in values["tasks"].items()}
        if "robot_urls" in values and not isinstance(values["robot_urls"], dict):
            raise ValueError("config key 'robot_urls' must map arm names to URLs")
        config = cls(**values)
        if config.clear_errors not in ("always", "on_report"):
            raise ValueError(f"config key 'clear_errors'={config.clear_errors!r}; choose 'always' or 'on_report'")
        for name in ("timeout_s", "jointreset_timeout_s", "reset_move_s", "max_step_translation",
                     "max_step_rotation", "camera_stall_s", "camera_start_s"):
            if not float(getattr(config, name)) > 0:
                raise ValueError(f"config key {name!r} must be > 0, got {getattr(config, name)!r}")
        return config

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_config(source: str | Path | dict[str, Any] | RobotConfig | None) -> RobotConfig:
    """A :class:`RobotConfig` from a JSON/TOML file, a mapping, a config, or defaults for ``None``."""
    if source is None:
        return RobotConfig()
    if isinstance(source, RobotConfig):
        return source
    if isinstance(source, dict):
        return RobotConfig.from_dict(source)
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"robot config {path} does not exist; see examples/robot_config.example.json")
    text = path.read_text()
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"robot config {path} is not valid {path.suffix[1:].upper() or 'JSON'}: {exc}") from None
    try:
        return RobotConfig.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"robot config {path}: {exc}") from None


def write_task_pose(path: str | Path, task_id: str, key: str, pose: np.ndarray, url: str | None = None) -> None:
    """Set ``tasks.<task_id>.<key>`` in a JSON config (created if missing), keeping everything else."""
    path = Path(path)
    if path.suffix == ".toml":
        raise ValueError(f"{path}: calibrate writes JSON configs only; convert the file or pass a .json path")
    data = json.loads(path.read_text()) if path.is_file() else {"robot_urls": {"arm": url or DEFAULT_URL}}
    data.setdefault("tasks", {}).setdefault(task_id, {})[key] = [round(float(v), 6) for v in pose]
    RobotConfig.from_dict(data)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def calibrated_task(task: Task, calib: TaskCalibration | None) -> Task:
    """``task`` with this cell's target/reset poses and safety box (a subclass instance; same config)."""
    if calib is None or (calib.target_pose is None and calib.reset_pose is None and calib.safety_box_low is None):
        return task
    if len(task.arms) != 1:
        raise ValueError(f"tasks.{task.task_id}: target/reset/safety-box calibration is per single arm; dual-arm "
                         "tasks place their arms in code (DualArmTask.cell and world_boxes): remove those keys")
    old_target = task.target_pose
    flip = calib.official_euler_pitch_flip
    target = _pose(calib.target_pose, "target_pose", flip) if calib.target_pose is not None else old_target
    shift = geo.pose_to_6d(target) - geo.pose_to_6d(old_target)
    shift[3:] = (shift[3:] + np.pi) % (2 * np.pi) - np.pi
    reset = (_pose(calib.reset_pose, "reset_pose", flip) if calib.reset_pose is not None
             else geo.pose_from_6d(geo.pose_to_6d(task.reset_pose) + shift))
    box = task.safety_box
    if calib.safety_box_low is not None and calib.safety_box_high is not None:
        box = SafetyBox(np.asarray(calib.safety_box_low, float), np.asarray(calib.safety_box_high, float))
    else:
        box = SafetyBox(box.low + shift, box.high + shift)
    base = type(task)
    overrides = {"target_pose": property(lambda self: target.copy()),
                 "reset_pose": property(lambda self: reset.copy()),
                 "safety_box": property(lambda self: box)}
    return type(f"Calibrated{base.__name__}", (base,), overrides)(task.config)


def _pose(values: Any, name: str, official_pitch_flip: bool = False) -> np.ndarray:
    """A 7-vector pose from 7 numbers (quaternion xyzw) or 6 (xyz + extrinsic xyz Euler)."""
    pose = np.asarray(values, dtype=np.float64)
    if pose.shape not in ((7,), (6,)) or not np.all(np.isfinite(pose)):
        raise ValueError(f"{name} must be 7 finite numbers [x, y, z, qx, qy, qz, qw] or 6 "
                         f"[x, y, z, roll, pitch, yaw], got {values!r}")
    if pose.shape == (6,):
        to_quat = geo.euler_to_quat_official if official_pitch_flip else geo.euler_to_quat
        return np.concatenate([pose[:3], to_quat(pose[3:])])
    return np.concatenate([pose[:3], geo.quat_normalize(pose[3:])])


def _fields(cls: type, data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be a mapping, got {type(data).__name__}")
    known = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in data.items() if not k.startswith("_")}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} in {where}; allowed: {sorted(known)}")
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def _slash(url: str) -> str:
    """Base URLs end with a slash; the endpoint name is appended."""
    return url if url.endswith("/") else url + "/"
