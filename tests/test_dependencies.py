"""The dependency pins hold: dm_control (the optional [dm-control] extra) works with the installed MuJoCo.

dm_control 1.0.50 breaks on mujoco 4 (missing ``MjModel.flex_vertedge``), so the extra pins
``mujoco<4``; these tests fail loudly if a resolver ever pulls a combination that breaks.
Without the extra they skip: the package itself never imports dm_control.
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

import hilserl_bench
from hilserl_bench.envs.sim_backend import SimBackend


def test_mujoco_is_below_4():
    pytest.importorskip("dm_control", reason="the mujoco<4 pin belongs to the [dm-control] extra")
    major = int(mujoco.__version__.split(".")[0])
    assert major < 4, f"mujoco {mujoco.__version__}: dm_control needs mujoco<4 (see pyproject.toml)"


@pytest.mark.parametrize("task_id", hilserl_bench.tasks())
def test_dm_control_physics_loads_our_cell(task_id):
    dm_mujoco = pytest.importorskip("dm_control.mujoco", reason="needs the [dm-control] extra")

    env = hilserl_bench.make(task_id, obs_mode="state")
    model = env.unwrapped.backend.model
    xml = SimBackend.model_xml(env.unwrapped.task)
    physics = dm_mujoco.Physics.from_xml_string(xml)
    assert physics.model.nq == model.nq and physics.model.nu == model.nu
    physics.step()
    assert np.all(np.isfinite(physics.data.qpos))
    env.close()
