"""Scripted experts, one per task, for demos and scripted interventions.

``make_expert(env, noise)`` returns the task's expert bound to ``env``. Experts act
in the raw env's action space (base-frame twists). Each expert's docstring says what
it reads: experts that use only the configured target pose, proprioception and F/T
also run on hardware; those that need a free object's pose are sim-only.
"""

from __future__ import annotations

from typing import Any

from hilserl_bench.envs.experts.base import Expert, Progress, pose_distance, servo_action

_EXPERTS: dict[str, type[Expert]] = {}


def register_expert(task_id: str):
    """Class decorator binding an expert class to a task id."""

    def wrap(cls: type[Expert]) -> type[Expert]:
        _EXPERTS[task_id] = cls
        return cls

    return wrap


def make_expert(env: Any, noise: float = 0.0) -> Expert:
    """The scripted expert of ``env``'s task, adding Gaussian action noise of std ``noise``."""
    import hilserl_bench.envs.tasks  # noqa: F401  (registers tasks and their experts)

    task_id = env.unwrapped.task.task_id
    if task_id not in _EXPERTS:
        raise ValueError(f"no scripted expert for task {task_id!r}; experts exist for {sorted(_EXPERTS)}")
    if noise < 0:
        raise ValueError(f"noise={noise} must be >= 0 (it is the std of Gaussian action noise)")
    return _EXPERTS[task_id](env.unwrapped, noise)


__all__ = ["Expert", "Progress", "make_expert", "pose_distance", "register_expert", "servo_action"]
