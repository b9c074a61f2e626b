"""Choose the headless OpenGL backend before any test module imports MuJoCo (it reads MUJOCO_GL once),
and mark the known replica gaps of tests/known_gaps.py."""

import pytest
from known_gaps import KNOWN_GAPS

import hilserl_bench  # noqa: F401  (before any test module imports MuJoCo)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the (test, task) pairs listed in tests/known_gaps.py as strict xfails with their reason."""
    for item in items:
        spec = getattr(item, "callspec", None)
        if spec is None:
            continue
        task = spec.params.get("task") or spec.params.get("task_id") or spec.params.get("state_env")
        reason = KNOWN_GAPS.get((item.originalname, task))
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
