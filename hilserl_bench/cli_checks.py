"""Checks of command-line input made before any work starts, each failing with one line that says the fix.

Every command validates its paths and backend choices here first, so a mistake never
leaves half-written output behind (a run folder, a replaced video) that then blocks the
corrected command. Messages name CLI flags (``--obs-mode pixels``), never Python
arguments, because the person reading them typed flags.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from hilserl_bench.backend_options import BackendOptions
from hilserl_bench.errors import UserFacingError

DEFAULT_EPISODES = 20
"""The one ``--episodes`` default of rollout, record, eval, run and the learning table."""
REAL_ROBOT_DOC = "docs/real_robot.md"


def default_obs_mode(robot: BackendOptions) -> str:
    """``state`` in simulation (fast, privileged object state); ``pixels`` on a real robot, which has no such state."""
    return "pixels" if robot.backend == "real" else "state"


def _robot_config(robot: BackendOptions) -> Any:
    from hilserl_bench.real.config import load_config

    return load_config(robot.robot_config) if robot.robot_config is not None else None


def _uses_emulator(robot: BackendOptions) -> bool:
    if robot.emulator:
        return True
    config = _robot_config(robot)
    return bool(config is not None and config.emulator)


def resolve_obs_mode(obs_mode: str | None, robot: BackendOptions, task: str) -> str:
    """The observation mode to use: the backend's default when none was given, checked against the backend.

    On ``--backend real``, state needs the emulator's privileged object state and pixels
    need a camera entry per policy camera (or the emulator's cameras).
    """
    mode = obs_mode or default_obs_mode(robot)
    if robot.backend != "real":
        return mode
    robot.make_kwargs()
    if _uses_emulator(robot):
        return mode
    if mode == "state":
        raise UserFacingError("--obs-mode state needs privileged object state, which only the simulator and "
                              "serve-sim provide: use --obs-mode pixels on a real robot, or add --emulator when "
                              "--robot-url points at `hilserl-bench serve-sim`")
    from hilserl_bench import registry

    config = _robot_config(robot)
    configured = set(config.cameras) if config is not None else set()
    missing = [cam for cam in registry.task_class(task).cameras if cam not in configured]
    if missing:
        raise UserFacingError(f"--obs-mode pixels on --backend real needs the cameras {', '.join(missing)} in a "
                              f"robot config (--robot-config FILE, see {REAL_ROBOT_DOC}); against `hilserl-bench "
                              "serve-sim` add --emulator to use its cameras")
    return mode


def check_out_dir(path: Path, flag: str = "--out") -> Path:
    """A folder path that is not a file and whose parents are not files (it is created later)."""
    path = Path(path)
    for candidate in (path, *path.parents):
        if candidate.exists():
            if not candidate.is_dir():
                where = "" if candidate == path else f" (its parent {candidate} is a file)"
                raise UserFacingError(f"{flag} {path} is not a folder{where}; give a folder path, "
                                      "it is created when missing")
            break
    return path


def check_video_path(path: Path, flag: str = "--video") -> Path:
    """An ``.mp4`` file path whose folder is (or can be) a folder."""
    path = Path(path)
    if path.is_dir() or str(path).endswith(("/", "\\")):
        example = path / "episode.mp4"
        raise UserFacingError(f"{flag} {path} is a folder; give a file name ending in .mp4, e.g. {example}")
    if path.suffix.lower() != ".mp4":
        example = path.with_suffix(".mp4") if path.suffix else path.with_name(path.name + ".mp4")
        raise UserFacingError(f"{flag} {path}: videos are written as H.264 mp4; give a file name ending in .mp4, "
                              f"e.g. {example}")
    check_out_dir(path.parent, flag=f"{flag} folder")
    return path


def check_log_backend(log: str) -> None:
    """``--log tensorboard`` / ``wandb`` need optional packages; say which before the run starts."""
    import importlib.util

    if log == "tensorboard" and not any(importlib.util.find_spec(m) for m in ("tensorboardX", "torch")):
        raise UserFacingError("--log tensorboard needs tensorboardX: pip install tensorboardX "
                              "(or drop --log; metrics.csv is always written)")
    if log == "wandb" and importlib.util.find_spec("wandb") is None:
        raise UserFacingError("--log wandb needs the wandb package: pip install wandb "
                              "(or drop --log; metrics.csv is always written)")


def check_positive(value: int, flag: str) -> None:
    """``--episodes``, ``--steps``: at least 1."""
    if value < 1:
        raise UserFacingError(f"{flag} must be >= 1, got {value}")


def round_floats(value: Any, digits: int = 6) -> Any:
    """Floats rounded to ``digits`` decimals inside dicts/lists, so JSON shows 1.6, not 1.6000000000000003."""
    if isinstance(value, float):
        return value if not math.isfinite(value) else round(value, digits)
    if isinstance(value, dict):
        return {k: round_floats(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [round_floats(v, digits) for v in value]
    return value


def format_value(value: Any) -> str:
    """How a report value is shown in a terminal table: '-' for missing, 3 decimals for floats."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def print_report(report: dict[str, Any]) -> None:
    """One ``key  value`` line per entry (rollout and eval share it)."""
    width = max(len(k) for k in report)
    for key, value in report.items():
        print(f"{key:<{width}}  {format_value(value)}")
