"""hilserl-bench: simulated HIL-SERL tasks and a real-Franka backend behind one env interface.

``make(task_id, backend="sim", obs_mode="pixels", **overrides)`` builds an env;
``tasks()`` lists the ids. The headless GL backend (EGL, else OSMesa) is chosen here,
before anything imports MuJoCo, because MuJoCo reads ``MUJOCO_GL`` at import time.
"""

from hilserl_bench.rendering import select_gl_backend

select_gl_backend()

from hilserl_bench.registry import UnknownTaskError, gym_id_for, make, task_class, tasks  # noqa: E402

__version__ = "0.1.0"
__all__ = ["UnknownTaskError", "gym_id_for", "make", "task_class", "tasks", "__version__"]
