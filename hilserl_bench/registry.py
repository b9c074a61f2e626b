"""Task registry, ``make()`` and the versioned gymnasium ids.

Tasks register their class here (``@register``) when ``hilserl_bench.envs.tasks`` is
imported. That happens at the end of this module, so ``import hilserl_bench`` is all
``gym.make("hilserl_bench/RamInsertion-v0")`` needs, and ``gym.make("hilserl_bench:
hilserl_bench/RamInsertion-v0")`` needs no import at all (gymnasium imports the module
named before the colon; gymnasium 1.x has no plugin entry points to discover packages
by). ``hilserl_bench/__init__.py`` chooses the headless GL backend before importing
this module, so MuJoCo is still imported only after ``MUJOCO_GL`` is set.
"""

from __future__ import annotations

import re
from typing import Any

import gymnasium as gym

from hilserl_bench.env import OBS_MODES, FrankaEnv
from hilserl_bench.task import Task

BACKENDS: tuple[str, ...] = ("sim", "real")
"""Backends ``make()`` accepts: the MuJoCo replica, or a real cell (or its emulator) over HTTP."""
GYM_NAMESPACE = "hilserl_bench"

_TASKS: dict[str, type[Task]] = {}
_loaded = False


class UnknownTaskError(ValueError):
    """Raised for a task id that is not registered; the message lists the valid ids."""


def register(task_cls: type[Task]) -> type[Task]:
    """Class decorator: add a task and its versioned gymnasium id (e.g. ``hilserl_bench/RamInsertion-v0``)."""
    if not task_cls.task_id:
        raise ValueError(f"{task_cls.__name__} has no task_id")
    _TASKS[task_cls.task_id] = task_cls
    gym_id = gym_id_for(task_cls.task_id)
    if gym_id not in gym.registry:
        gym.register(id=gym_id, entry_point="hilserl_bench.registry:make", kwargs={"task_id": task_cls.task_id})
    return task_cls


def gym_id_for(task_id: str) -> str:
    """``ram_insertion`` -> ``hilserl_bench/RamInsertion-v0``."""
    camel = "".join(part.capitalize() for part in re.split(r"[_\-]", task_id))
    return f"{GYM_NAMESPACE}/{camel}-v0"


def _load() -> None:
    global _loaded
    if not _loaded:
        import hilserl_bench.envs.tasks  # noqa: F401  (registers the tasks)

        _loaded = True


def tasks() -> list[str]:
    """Registered task ids, sorted."""
    _load()
    return sorted(_TASKS)


def task_class(task_id: str) -> type[Task]:
    """The task class for an id, or :class:`UnknownTaskError` listing the valid ones."""
    _load()
    try:
        return _TASKS[task_id]
    except KeyError:
        raise UnknownTaskError(f"unknown task {task_id!r}; valid tasks: {', '.join(sorted(_TASKS))}") from None


def make(task_id: str, backend: str = "sim", obs_mode: str = "pixels", render_mode: str | None = None,
         sim_config: Any = None, robot_url: Any = None, cameras: Any = None, config: Any = None,
         **overrides: Any) -> FrankaEnv:
    """Build a task's env.

    Args:
        task_id: a registered id (see :func:`tasks`).
        backend: ``"sim"`` (MuJoCo replica) or ``"real"`` (robot servers over HTTP:
            a real Franka cell, or ``hilserl-bench serve-sim`` with ``emulator: true``).
        obs_mode: ``"pixels"`` (the paper's proprioception + cameras) or ``"state"``
            (proprioception + privileged task state; simulator and emulator only).
        render_mode: ``None`` or ``"rgb_array"`` (an overview camera for videos).
        sim_config: an ``envs.sim_backend.SimConfig`` to change simulator settings.
        robot_url: real backend: server base URL, or ``{"left": URL, "right": URL}``
            for dual-arm tasks; overrides the config's ``robot_urls``.
        cameras: real backend: ``{camera: CameraConfig or dict}`` overriding the config's cameras.
        config: real backend: a robot config file (JSON/TOML), dict or
            ``hilserl_bench.real.RobotConfig`` (URLs, cameras, crops, calibrated poses, safety box).
        **overrides: fields of the task's :class:`~hilserl_bench.task.TaskConfig`
            (e.g. ``max_steps=50``); a bad name or value raises naming the field.
    """
    task_cls = task_class(task_id)
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} is not available; choose one of {list(BACKENDS)}")
    if obs_mode not in OBS_MODES:
        raise ValueError(f"obs_mode={obs_mode!r} is not supported; choose one of {list(OBS_MODES)}")
    task = task_cls(task_cls.default_config().replace(**overrides))
    if backend == "real":
        from hilserl_bench.real import make_real_env

        return make_real_env(task, obs_mode, render_mode, robot_url=robot_url, cameras=cameras, config=config)
    if robot_url is not None or cameras is not None or config is not None:
        raise ValueError("robot_url, cameras and config apply to backend='real' only")
    if task.control_mode == "wrench":
        from hilserl_bench.envs.sim_wrench_backend import SimWrenchBackend

        return FrankaEnv(task, SimWrenchBackend(task, sim_config), obs_mode=obs_mode, render_mode=render_mode)
    from hilserl_bench.envs.sim_backend import SimBackend

    return FrankaEnv(task, SimBackend(task, sim_config), obs_mode=obs_mode, render_mode=render_mode)


def _register_all() -> None:
    """Register every task (and its gymnasium id) now; a broken optional task must not break the import."""
    try:
        _load()
    except ImportError as exc:  # pragma: no cover  (reported again, with its cause, at the first lookup)
        import warnings

        warnings.warn(f"hilserl_bench tasks could not be registered yet: {exc}", stacklevel=2)


_register_all()
