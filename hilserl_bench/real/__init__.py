"""The real-Franka backend: robot-server HTTP client, safety checks, cameras, per-robot config.

``hilserl_bench.make(task, backend="real", robot_url=..., cameras=..., config=...)``
builds the same env as the simulator over the official robot-server protocol; the
same code drives ``hilserl-bench serve-sim`` (the MuJoCo emulator) for dry runs.
"""

from __future__ import annotations

from typing import Any

from hilserl_bench.env import FrankaEnv
from hilserl_bench.real.backend import RealArm, RealBackend
from hilserl_bench.real.cameras import CameraError
from hilserl_bench.real.client import (
    RobotClient,
    RobotCommandError,
    RobotConnectionError,
    RobotError,
    RobotEStopError,
    RobotProtocolError,
    RobotTimeoutError,
)
from hilserl_bench.real.config import CameraConfig, RobotConfig, TaskCalibration, calibrated_task, load_config
from hilserl_bench.task import Task


def make_real_env(task: Task, obs_mode: str = "pixels", render_mode: str | None = None,
                  robot_url: str | dict[str, str] | tuple[str, ...] | None = None,
                  cameras: dict[str, CameraConfig | dict[str, Any]] | None = None,
                  config: Any = None) -> FrankaEnv:
    """The env for ``task`` on a real cell; ``robot_url`` and ``cameras`` override the config file's entries."""
    cfg = load_config(config)
    if robot_url is not None:
        if isinstance(robot_url, str) and "," in robot_url:
            robot_url = tuple(u.strip() for u in robot_url.split(","))
            if len(robot_url) != len(task.arms):
                raise ValueError(f"robot_url lists {len(robot_url)} URLs; task {task.task_id!r} has arms "
                                 f"{list(task.arms)} (pass one URL per arm, comma-separated, in that order)")
        if isinstance(robot_url, str):
            if len(task.arms) != 1:
                raise ValueError(f"task {task.task_id!r} has arms {list(task.arms)}: pass robot_url as "
                                 "{'left': URL, 'right': URL} or 'URL_LEFT,URL_RIGHT'")
            robot_url = {task.arms[0]: robot_url}
        elif not isinstance(robot_url, dict):
            robot_url = dict(zip(task.arms, robot_url, strict=True))
        cfg = cfg.replace(robot_urls=dict(robot_url))
    cams = {name: c if isinstance(c, CameraConfig) else CameraConfig(**c) for name, c in (cameras or {}).items()}
    task = calibrated_task(task, cfg.tasks.get(task.task_id))
    return FrankaEnv(task, RealBackend(task, cfg, cams), obs_mode=obs_mode, render_mode=render_mode)


__all__ = ["CameraConfig", "CameraError", "RealArm", "RealBackend", "RobotClient",
           "RobotCommandError", "RobotConfig", "RobotConnectionError", "RobotEStopError", "RobotError",
           "RobotProtocolError", "RobotTimeoutError", "TaskCalibration", "load_config", "make_real_env"]
