"""The simulated Panda matches the published kinematics, holds still, grasps, and renders."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import mujoco
import numpy as np
import pytest

from hilserl_bench.envs import franka_model as fm
from hilserl_bench.envs.cell import arm_element, build_cell

IDENTITY_POSE = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])


def _single_arm(props: tuple[tuple[str, list[float], float], ...] = ()) -> tuple[mujoco.MjModel, mujoco.MjData]:
    spec = build_cell({"": IDENTITY_POSE})
    for name, half, mass in props:
        body = spec.worldbody.add_body(name=name, pos=[0.5, 0.0, 0.25])
        body.add_freejoint()
        body.add_geom(type=mujoco.mjtGeom.mjGEOM_BOX, size=half, mass=mass, contype=1, conaffinity=3,
                      friction=[1.0, 0.005, 0.0001])
    model = spec.compile()
    data = mujoco.MjData(model)
    data.qpos[:7] = fm.HOME_QPOS
    mujoco.mj_forward(model, data)
    return model, data


def _tcp(model: mujoco.MjModel, data: mujoco.MjData) -> tuple[np.ndarray, np.ndarray]:
    sid = model.site(fm.TCP_SITE).id
    return data.site_xpos[sid].copy(), data.site_xmat[sid].reshape(3, 3).copy()


def _width(data: mujoco.MjData) -> float:
    return float(data.qpos[7] + data.qpos[8])


def _ik_lift(model: mujoco.MjModel, data: mujoco.MjData, dz: float) -> np.ndarray:
    """Joint posture with the TCP raised by ``dz`` and still pointing down (damped least squares)."""
    scratch = mujoco.MjData(model)
    scratch.qpos[:] = data.qpos
    sid = model.site(fm.TCP_SITE).id
    target = data.site_xpos[sid] + [0.0, 0.0, dz]
    jp, jr = np.zeros((3, model.nv)), np.zeros((3, model.nv))
    for _ in range(30):
        mujoco.mj_kinematics(model, scratch)
        mujoco.mj_comPos(model, scratch)
        rot = scratch.site_xmat[sid].reshape(3, 3)
        err = np.concatenate([target - scratch.site_xpos[sid], 0.5 * (np.cross(rot[:, 2], [0, 0, -1.0])
                                                                     + np.cross(rot[:, 0], [1.0, 0, 0]))])
        mujoco.mj_jacSite(model, scratch, jp, jr, sid)
        jac = np.vstack([jp[:, :7], jr[:, :7]])
        scratch.qpos[:7] += jac.T @ np.linalg.solve(jac @ jac.T + 1e-6 * np.eye(6), err)
    return scratch.qpos[:7].copy()


def test_fk_matches_dh_table() -> None:
    model = fm.build_panda().compile()
    data = mujoco.MjData(model)
    rng = np.random.default_rng(0)
    for _ in range(20):
        q = rng.uniform(fm.JOINT_LIMITS[:, 0], fm.JOINT_LIMITS[:, 1])
        data.qpos[:7] = q
        mujoco.mj_kinematics(model, data)
        expected = fm.panda_fk(q)
        pos, rot = _tcp(model, data)
        np.testing.assert_allclose(pos, expected[:3, 3], atol=1e-6)
        np.testing.assert_allclose(rot, expected[:3, :3], atol=1e-6)


def test_model_constants() -> None:
    model = fm.build_panda().compile()
    np.testing.assert_allclose(model.jnt_range[:7], fm.JOINT_LIMITS)
    np.testing.assert_allclose(model.jnt_actfrcrange[:7, 1], fm.TORQUE_LIMITS)
    assert model.nu == 1 and model.actuator(fm.GRIPPER_ACTUATOR).ctrlrange.tolist() == [
        fm.GRIPPER_CLOSE_CTRL, fm.GRIPPER_OPEN_CTRL]
    assert 17.0 < model.body_subtreemass[model.body("link0").id] - 0.73 < 18.5
    assert np.all(model.body_gravcomp[1:] == 1.0)
    robot = model.geom_bodyid > 0
    assert np.all(model.geom_contype[robot] == 2) and np.all(model.geom_conaffinity[robot] == 1)


def test_home_pose_points_down_at_table_workspace() -> None:
    pos, rot = _tcp(*_single_arm())
    np.testing.assert_allclose(pos, [0.5, 0.0, 0.25], atol=2e-3)
    assert np.degrees(np.arccos(np.clip(-rot[2, 2], -1, 1))) < 1.0
    assert np.all((fm.JOINT_LIMITS[:, 0] <= fm.HOME_QPOS) & (fm.JOINT_LIMITS[:, 1] >= fm.HOME_QPOS))


def test_gravity_compensation_holds_home() -> None:
    model, data = _single_arm()
    start, _ = _tcp(model, data)
    for _ in range(int(1.0 / model.opt.timestep)):
        mujoco.mj_step(model, data)
    assert np.linalg.norm(_tcp(model, data)[0] - start) < 0.01


def test_gripper_closes_and_opens() -> None:
    model, data = _single_arm()
    data.qpos[7:9] = 0.04
    data.ctrl[0] = fm.GRIPPER_CLOSE_CTRL
    for _ in range(500):
        mujoco.mj_step(model, data)
    assert abs(_width(data)) < 0.002
    data.ctrl[0] = fm.GRIPPER_OPEN_CTRL
    for _ in range(500):
        mujoco.mj_step(model, data)
    assert 0.075 < _width(data) <= fm.GRIPPER_MAX_WIDTH + 1e-3


@pytest.mark.parametrize(("half", "mass"), [
    ([0.01, 0.01, 0.008], 0.05),  # 20 mm box
    ([0.02, 0.00065, 0.015], 0.015),  # 1.3 mm PCB
    ([0.006, 0.0025, 0.0075], 0.01),  # 5 x 12 mm USB plug
], ids=["box", "pcb", "usb"])
def test_grasp_holds_part_while_lifting_and_pushed(half: list[float], mass: float) -> None:
    model, data = _single_arm((("part", half, mass),))
    part = model.body("part").id
    data.qpos[7:9] = half[1] + 0.001
    mujoco.mj_forward(model, data)
    data.qpos[9:12], data.qpos[12:16] = _tcp(model, data)[0], [0.0, 1.0, 0.0, 0.0]
    q_up = _ik_lift(model, data, 0.1)
    kp = np.array([600.0, 600, 600, 600, 250, 150, 50])
    kd = 2.0 * np.sqrt(0.5 * kp)
    data.ctrl[0] = fm.GRIPPER_CLOSE_CTRL

    def hold_offset(seconds: float, q_goal: np.ndarray, push: np.ndarray | None = None) -> np.ndarray:
        q_start, n = data.qpos[:7].copy(), int(seconds / model.opt.timestep)
        for k in range(n):
            s = min(1.0, k / (0.8 * n))
            q_ref = q_start + (3 * s * s - 2 * s**3) * (q_goal - q_start)
            data.qfrc_applied[:7] = kp * (q_ref - data.qpos[:7]) - kd * data.qvel[:7]
            data.xfrc_applied[part, :3] = 0.0 if push is None else push
            mujoco.mj_step(model, data)
        pos, rot = _tcp(model, data)
        return rot.T @ (data.xpos[part] - pos)

    grasped = hold_offset(0.3, fm.HOME_QPOS)
    # The pads' impedance (fm.PAD_SOLIMP) lets a gram-scale part squeezed at 70 N in by up to ~0.6 mm a side:
    # the price of grasps that never launch the part (tests/test_usb_replica.py).
    assert abs(_width(data) - 2 * half[1]) < 0.0013
    lifted = hold_offset(1.0, q_up)
    assert data.xpos[part][2] > 0.34
    assert np.linalg.norm(lifted - grasped) < 0.002
    for push in ([0, 0, 15.0], [15.0, 0, 0], [0, 0, -15.0]):
        pushed = hold_offset(0.3, q_up, np.array(push))
        assert np.linalg.norm(pushed - grasped) < 0.003


def test_cells_compile_with_expected_names() -> None:
    single = build_cell({"": IDENTITY_POSE}).compile()
    for name in fm.JOINT_NAMES + fm.FINGER_JOINT_NAMES:
        single.joint(arm_element("", name))
    dual = build_cell({"left/": np.array([0, 0.3, 0, 0, 0, 0, 1.0]), "right/": np.array([0, -0.3, 0, 0, 0, 0, 1.0])})
    model = dual.compile()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    assert model.nu == 2 and model.njnt == 18
    left, right = (model.site(arm_element(p, fm.TCP_SITE)).id for p in ("left/", "right/"))
    np.testing.assert_allclose(data.site_xpos[left] - data.site_xpos[right], [0, 0.6, 0], atol=1e-9)
    np.testing.assert_allclose(model.jnt_range[model.joint("right/joint2").id], fm.JOINT_LIMITS[1])
    for prefix in ("left/", "right/"):
        model.actuator(arm_element(prefix, fm.GRIPPER_ACTUATOR))
        for cam in fm.WRIST_CAMERAS:
            model.camera(arm_element(prefix, cam))


RENDER_SCRIPT = textwrap.dedent("""
    import mujoco, numpy as np
    from hilserl_bench.envs import franka_model as fm
    from hilserl_bench.envs.cell import build_cell
    try:
        model = build_cell({"": np.array([0, 0, 0, 0, 0, 0, 1.0])}).compile()
        renderer = mujoco.Renderer(model, 128, 128)
    except Exception as exc:
        print("NOGL", type(exc).__name__, exc)
        raise SystemExit(0)
    data = mujoco.MjData(model)
    data.qpos[:7] = fm.HOME_QPOS
    mujoco.mj_forward(model, data)
    for cam in fm.WRIST_CAMERAS:
        renderer.update_scene(data, cam)
        img = renderer.render()
        print("STD", cam, img.shape, float(img.reshape(-1, 3).std(axis=0).max()))
    renderer.close()
""")


def test_wrist_cameras_render() -> None:
    env = {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    out = subprocess.run([sys.executable, "-c", RENDER_SCRIPT], env=env, capture_output=True, text=True, timeout=60)
    if "NOGL" in out.stdout:
        pytest.skip(f"no OpenGL for MUJOCO_GL={env['MUJOCO_GL']}: {out.stdout.strip()}")
    assert out.returncode == 0, out.stderr
    lines = [line.split() for line in out.stdout.splitlines() if line.startswith("STD")]
    assert [line[1] for line in lines] == list(fm.WRIST_CAMERAS)
    for line in lines:
        assert "(128," in line[2] and float(line[-1]) > 5.0
