"""Success predicates of the dual-arm tasks on constructed states: true positives and the cheats."""

from __future__ import annotations

import numpy as np
import pytest

from hilserl_bench import geometry as geo
from hilserl_bench.backend import SceneState
from hilserl_bench.envs.props import dashboard as dash
from hilserl_bench.envs.props import handover as hp
from hilserl_bench.envs.tasks.dashboard_assembly import FRAME_XY, DashboardAssembly
from hilserl_bench.envs.tasks.object_handover import TARGET_XY, ObjectHandover
from hilserl_bench.robot_types import ArmState


def _arm(opening: float) -> ArmState:
    z = np.zeros(3)
    return ArmState(pose=np.array([0.5, 0, 0.2, 1, 0, 0, 0.0]), vel=np.zeros(6), force=z, torque=z,
                    q=np.zeros(7), dq=np.zeros(7), gripper_pos=opening)


def _pose(xyz, euler=(0.0, 0.0, 0.0)) -> np.ndarray:
    return np.concatenate([np.asarray(xyz, dtype=float), geo.euler_to_quat(np.asarray(euler, dtype=float))])


OPEN = (_arm(1.0), _arm(1.0))


@pytest.mark.parametrize(("bar", "arms", "expected"), [
    (_pose([*TARGET_XY, hp.BAR_REST_Z]), OPEN, True),
    (_pose([*(TARGET_XY + [0.005, -0.004]), hp.BAR_REST_Z], (0, 0, 0.2)), OPEN, True),
    (_pose([*TARGET_XY, hp.BAR_REST_Z], (0, np.pi / 2, 0)), OPEN, True),  # rolled onto another face: still rests
    (_pose([*TARGET_XY, hp.BAR_REST_Z]), (_arm(1.0), _arm(0.37)), False),  # still squeezed in the right hand
    (_pose([*TARGET_XY, hp.BAR_REST_Z + 0.01]), OPEN, False),  # hovering above the pad
    (_pose([*TARGET_XY, hp.BAR_REST_Z - 0.005]), OPEN, False),  # sunk into the table
    (_pose([*TARGET_XY, hp.BAR_REST_Z], (0.3, 0, 0)), OPEN, False),  # tilted, propped on something
    (_pose([*(TARGET_XY + [0.02, 0.0]), hp.BAR_REST_Z]), OPEN, False),  # beside the pad
    (_pose([*TARGET_XY, hp.BAR_REST_Z], (0, 0, np.pi / 2)), OPEN, False),  # across the pad
    (_pose([*TARGET_XY, hp.BAR_REST_Z], (np.pi / 2, 0, 0)), OPEN, False),  # standing on end
])
def test_handover_success_is_resting_on_the_pad_and_released(bar, arms, expected):
    task = ObjectHandover()
    assert task.evaluate(SceneState({"bar": bar}), arms).success is expected


def _dashboard_scene(panel_offset=(0.0, 0.0, 0.0), latches=(0.0, 0.0), euler=(0.0, 0.0, 0.0)) -> SceneState:
    panel = _pose([FRAME_XY[0] + panel_offset[0], FRAME_XY[1] + panel_offset[1], dash.FRAME_TOP + panel_offset[2]],
                  euler)
    poses = {"panel": panel}
    for k, y in enumerate(dash.CLIP_Y):
        poses[f"clip{k}_latch"] = np.array([FRAME_XY[0] + latches[k], y, dash.FRAME_TOP, 0, 0, 0, 1.0])
    return SceneState(poses)


@pytest.mark.parametrize(("scene", "expected"), [
    (_dashboard_scene(), True),
    (_dashboard_scene(panel_offset=(-0.001, 0.0, 0.0005), latches=(-0.0004, 0.0003)), True),
    (_dashboard_scene(latches=(0.002, 0.0)), False),  # one tooth still pushed back: not snapped
    (_dashboard_scene(panel_offset=(0.0, 0.0, 0.004)), False),  # teeth home but the plate stands proud
    (_dashboard_scene(panel_offset=(0.0, 0.0, -0.004)), False),  # plate through the beam
    (_dashboard_scene(panel_offset=(0.0, 0.01, 0.0)), False),  # pegs beside their sockets
    (_dashboard_scene(euler=(0.0, 0.0, 0.02)), False),  # turned: the far clip's peg is out of its socket
    (_dashboard_scene(euler=(np.pi, 0.0, 0.0)), False),  # upside down
])
def test_dashboard_success_needs_every_clip_engaged(scene, expected):
    task = DashboardAssembly()
    assert task.evaluate(scene, OPEN).success is expected


def test_dual_arm_tasks_have_per_arm_boxes_that_stop_short_of_each_other():
    task = ObjectHandover()
    left, right = task.arm_safety_boxes
    base_left, base_right = task.arm_base_poses()
    assert left.low[1] + base_left[1] > 0.03 and right.high[1] + base_right[1] < -0.03
    with pytest.raises(AttributeError, match="arm_safety_boxes"):
        _ = task.safety_box
