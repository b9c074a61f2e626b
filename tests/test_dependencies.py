"""The dependency pins hold: dm_control works with the installed MuJoCo and loads our cells.

dm_control 1.0.50 breaks on mujoco 4 (missing ``MjModel.flex_vertedge``), so pyproject pins
``mujoco<4``; these tests fail loudly if a resolver ever pulls a combination that breaks.
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

import hilserl_bench
from hilserl_bench.envs.sim_backend import SimBackend


def test_mujoco_is_below_4():
    major = int(mujoco.__version__.split(".")[0])
    assert major < 4, f"mujoco {mujoco.__version__}: dm_control needs mujoco<4 (see pyproject.toml)"


@pytest.mark.parametrize("task_id", hilserl_bench.tasks())
def test_dm_control_physics_loads_our_cell(task_id):
    from dm_control import mujoco as dm_mujoco

    env = hilserl_bench.make(task_id, obs_mode="state")
    model = env.unwrapped.backend.model
    xml = SimBackend.model_xml(env.unwrapped.task)
    physics = dm_mujoco.Physics.from_xml_string(xml)
    assert physics.model.nq == model.nq and physics.model.nu == model.nu
    physics.step()
    assert np.all(np.isfinite(physics.data.qpos))
    env.close()
