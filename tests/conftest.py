"""Choose the headless OpenGL backend before any test module imports MuJoCo (it reads MUJOCO_GL once)."""

import hilserl_bench  # noqa: F401
