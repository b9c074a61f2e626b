"""Tight fits of the RAM/DIMM and USB props, driven by a compliant hand with no robot.

The hand is one gravity-compensated body on three slides and three hinges with position
actuators of the Franka episode impedance (2000 N/m, 150 N m/rad, damping 89 / 7) and
reference limiting: each step the actuator target is the current pose plus the error
clipped per axis, so a clip of F / 2000 on the push axis presses with F newtons. Its
inertia (1.5 kg, 0.02 kg m^2) is below the Franka's reflected TCP inertia (several kg,
>= 0.05 kg m^2 with joint armature), so penetrations here are upper bounds. Parts are
mounted rigidly on the hand (an ideal grasp); the grasp itself is the gripper's business.
"""

from __future__ import annotations

import os
from pathlib import Path

import mujoco
import numpy as np
import pytest

from hilserl_bench import geometry as geo
from hilserl_bench.envs.arena import add_arena
from hilserl_bench.envs.props.motherboard import add_motherboard
from hilserl_bench.envs.props.ram_stick import RAM_HEIGHT, add_ram_stick
from hilserl_bench.envs.props.usb import GRIP, SHELL, add_usb_plug, add_usb_port

KP = np.array([2000.0] * 3 + [150.0] * 3)
KD = np.array([89.0] * 3 + [7.0] * 3)
BOARD_POSE = np.array([0.5, 0.05, 0.0, *geo.euler_to_quat([0, 0, 0.3])])
PORT_POSE = np.array([0.55, -0.1, 0.0, *geo.euler_to_quat([0, 0, -0.4])])
MM = 1e-3


def _world() -> mujoco.MjSpec:
    spec = mujoco.MjSpec()
    spec.compiler.degree = False
    return add_arena(spec)


def _add_hand(spec: mujoco.MjSpec, pose: np.ndarray) -> mujoco.MjsBody:
    hand = spec.worldbody.add_body(name="rig_hand", pos=pose[:3].tolist(), quat=geo.quat_to_mujoco(pose[3:]).tolist())
    hand.gravcomp, hand.mass, hand.inertia, hand.explicitinertial = 1.0, 1.5, [0.02] * 3, True
    for i in range(6):
        axis = [0.0, 0.0, 0.0]
        axis[i % 3] = 1.0
        kind = mujoco.mjtJoint.mjJNT_SLIDE if i < 3 else mujoco.mjtJoint.mjJNT_HINGE
        joint = hand.add_joint(name=f"rig_{i}", type=kind, axis=axis)
        joint.damping[0] = KD[i]
        spec.add_actuator(name=f"rig_{i}", target=joint.name, trntype=mujoco.mjtTrn.mjTRN_JOINT).set_to_position(
            kp=KP[i], kv=0.0)
    return hand


def _push(model: mujoco.MjModel, data: mujoco.MjData, axis: int, force: float, groups: tuple, seconds: float = 0.8,
          ) -> float:
    """Press along hand ``axis`` with ``force`` N, holding the other axes; returns the max tight-fit penetration."""
    adr = np.array([model.jnt_qposadr[model.joint(f"rig_{i}").id] for i in range(6)])
    target = np.zeros(6)
    target[axis] = 0.1
    clip = np.array([0.01] * 3 + [0.05] * 3)
    clip[axis] = force / KP[axis]
    masks = [np.isin(np.arange(model.ngeom), [model.geom(n).id for n in g]) for g in groups]
    deepest = 0.0
    for _ in range(round(seconds / model.opt.timestep)):
        q = data.qpos[adr]
        data.ctrl[:] = q + np.clip(target - q, -clip, clip)
        mujoco.mj_step(model, data)
        geoms = data.contact.geom[: data.ncon]
        hit = (masks[0][geoms[:, 0]] & masks[1][geoms[:, 1]]) | (masks[1][geoms[:, 0]] & masks[0][geoms[:, 1]])
        if hit.any():
            deepest = max(deepest, -float(data.contact.dist[: data.ncon][hit].min()))
    return deepest


def _ram_push(force: float, dy: float = 0.0, yaw: float = 0.0, welded: bool = False):
    """Press the stick into the slot; ``welded`` holds a free-jointed stick by a stiff weld instead of mounting it."""
    spec = _world()
    slot = add_motherboard(spec, BOARD_POSE)
    entry = np.array(slot.entry_pose)
    offset = geo.quat_to_mat(entry[3:]) @ np.array([0.0, dy, RAM_HEIGHT / 2 + 0.003])
    pose = np.concatenate([entry[:3] + offset, geo.quat_mul(entry[3:], geo.euler_to_quat([0.0, 0.0, yaw]))])
    hand = _add_hand(spec, pose)
    if welded:
        ram = add_ram_stick(spec, pose)
        weld = spec.add_equality(type=mujoco.mjtEq.mjEQ_WELD, name1=hand.name, name2=ram.body,
                                 objtype=mujoco.mjtObj.mjOBJ_BODY)
        weld.data[:3] = 0.0  # MjSpec's default data puts the weld anchor 1 m off
        weld.solref, weld.solimp = [0.004, 1.0], [0.95, 0.99, 0.001, 0.5, 2.0]
    else:
        ram = add_ram_stick(spec, [0, 0, 0, 0, 0, 0, 1], parent=hand)
    model = spec.compile()
    data = mujoco.MjData(model)
    pen = _push(model, data, 2, -force, (ram.fit_geoms, slot.fit_geoms))
    return model, data, slot, ram, pen


def _seat_errors(data: mujoco.MjData, slot, ram) -> np.ndarray:
    return np.array([np.linalg.norm(data.site(a).xpos - data.site(b).xpos) for a, b in (
        (ram.bottom_left_site, slot.seat_left_site), (ram.bottom_right_site, slot.seat_right_site))])


@pytest.mark.parametrize(("force", "dy", "welded"), [(10.0, 0.0, False), (10.0, 0.5 * MM, False),
                                                     (10.0, -0.5 * MM, False), (20.0, 0.0, False),
                                                     (10.0, 0.0, True), (20.0, 0.5 * MM, True)])
def test_ram_seats_under_a_firm_push(force: float, dy: float, welded: bool) -> None:
    _, data, slot, ram, pen = _ram_push(force, dy=dy, welded=welded)
    assert np.all(_seat_errors(data, slot, ram) < 1 * MM), _seat_errors(data, slot, ram)
    assert data.joint(slot.bed_joint).qpos[0] < -0.9 * slot.bed_travel
    assert pen < 1 * MM


def test_ram_light_push_does_not_seat() -> None:
    _, data, slot, ram, pen = _ram_push(1.0)
    errors = _seat_errors(data, slot, ram)
    assert np.all(errors > 1.2 * MM) and np.all(errors < 2 * MM), errors
    assert data.joint(slot.bed_joint).qpos[0] > -0.1 * MM
    assert pen < 1 * MM


@pytest.mark.parametrize(("dy", "yaw"), [(2 * MM, 0.0), (-2 * MM, 0.0), (0.0, np.radians(3.0))])
def test_ram_misaligned_stays_out(dy: float, yaw: float) -> None:
    _, data, slot, ram, pen = _ram_push(10.0, dy=dy, yaw=yaw)
    mouth_z = data.site(slot.entry_site).xpos[2]
    bottoms = [data.site(s).xpos[2] for s in (ram.bottom_left_site, ram.bottom_right_site)]
    assert min(bottoms) > mouth_z - 0.5 * MM, (np.array(bottoms) - mouth_z)
    assert data.joint(slot.bed_joint).qpos[0] > -0.1 * MM
    assert pen < 1 * MM


@pytest.mark.parametrize("welded", [False, True])
def test_ram_reversed_stick_lands_on_the_key(welded: bool) -> None:
    """Turned 180 degrees the notch misses the key ridge: under a 20 N push the edge rests on the ridge top
    (a compliant grasp lets the stick tip onto the bed at one end; the other stays up)."""
    _, data, slot, ram, pen = _ram_push(20.0, yaw=np.pi, welded=welded)
    seat_z = data.site(slot.seat_left_site).xpos[2]
    bottoms = np.array([data.site(s).xpos[2] for s in (ram.bottom_left_site, ram.bottom_right_site)]) - seat_z
    assert bottoms.max() > slot.key_height - 0.5 * MM, bottoms
    assert bottoms.min() > 1.2 * MM, bottoms
    assert pen < 1 * MM


def test_ram_seating_force_threshold() -> None:
    """Depth is a monotone function of force: 2.5 N does not move the bed, 7 N reaches the stop."""
    depths = {f: _ram_push(f)[1].joint("dimm_bed_slide").qpos[0] for f in (2.5, 7.0)}
    assert depths[2.5] > -0.05 * MM and depths[7.0] < -1.4 * MM, depths


def _usb_push(force: float, dy: float = 0.0, dz: float = 0.0):
    spec = _world()
    port = add_usb_port(spec, PORT_POSE)
    mouth = np.array(port.mouth_pose)
    offset = geo.quat_to_mat(mouth[3:]) @ np.array([-(GRIP[0] / 2 + SHELL[0]) - 0.004, dy, dz])
    plug = add_usb_plug(spec, [0, 0, 0, 0, 0, 0, 1], parent=_add_hand(spec, np.concatenate([mouth[:3] + offset,
                                                                                           mouth[3:]])))
    model = spec.compile()
    data = mujoco.MjData(model)
    pen = _push(model, data, 0, force, (plug.fit_geoms, port.fit_geoms), seconds=0.6)
    return data, port, plug, pen


@pytest.mark.parametrize(("force", "dy", "dz"), [(10.0, 0.0, 0.0), (10.0, 0.5 * MM, 0.0), (10.0, 0.0, -0.5 * MM),
                                                  (20.0, 0.0, 0.0)])
def test_usb_plug_inserts_when_aligned(force: float, dy: float, dz: float) -> None:
    data, port, plug, pen = _usb_push(force, dy, dz)
    error = np.linalg.norm(data.site(plug.tip_site).xpos - data.site(port.bottom_site).xpos)
    assert error < 0.5 * MM, error
    assert pen < 1 * MM


@pytest.mark.parametrize(("dy", "dz"), [(2 * MM, 0.0), (-2 * MM, 0.0), (0.0, 2 * MM), (0.0, -2 * MM)])
def test_usb_plug_blocked_when_off(dy: float, dz: float) -> None:
    data, port, plug, pen = _usb_push(10.0, dy, dz)
    mouth = np.array(port.mouth_pose)
    depth = (geo.quat_to_mat(mouth[3:]).T @ (data.site(plug.tip_site).xpos - mouth[:3]))[0]
    assert depth < 0.5 * MM, depth
    assert pen < 1 * MM


def test_usb_plug_rests_on_table() -> None:
    spec = _world()
    plug = add_usb_plug(spec, [0.4, 0.1, 0.0041, *geo.euler_to_quat([0, 0, 0.7])])
    model = spec.compile()
    data = mujoco.MjData(model)
    body = model.body(plug.body).id
    mujoco.mj_step(model, data, nstep=250)
    start, drift = data.xpos[body].copy(), 0.0
    for _ in range(500):
        mujoco.mj_step(model, data)
        drift = max(drift, float(np.linalg.norm(data.xpos[body] - start)))
    assert drift < 0.1 * MM
    assert abs(start[2] - plug.rest_z) < 0.1 * MM


def test_names_and_poses_match_the_model() -> None:
    spec = _world()
    slot = add_motherboard(spec, BOARD_POSE, prefix="a_")
    port = add_usb_port(spec, PORT_POSE, prefix="a_")
    model = spec.compile()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    np.testing.assert_allclose(data.site(slot.entry_site).xpos, slot.entry_pose[:3], atol=1e-9)
    np.testing.assert_allclose(data.site(port.mouth_site).xpos, port.mouth_pose[:3], atol=1e-9)
    assert slot.entry_site == "a_dimm_slot_entry" and port.bottom_site == "a_usb_port_bottom"
    assert 0.2 * MM <= slot.clearance <= 0.3 * MM
    np.testing.assert_allclose(slot.groove_width, 1.8 * MM)
    for name in (*slot.fit_geoms, *port.fit_geoms):
        assert model.geom(name).contype[0] == 1 and model.geom(name).conaffinity[0] == 3


def test_render_props(tmp_path: Path) -> None:
    """One 256x256 picture per prop (set PROPS_RENDER_DIR to keep them)."""
    from hilserl_bench.rendering import require_renderer

    try:
        require_renderer()
    except RuntimeError as err:
        pytest.skip(str(err))
    out = Path(os.environ.get("PROPS_RENDER_DIR", tmp_path))
    spec = _world()
    add_motherboard(spec, [0.4, 0.0, 0.0, 0, 0, 0, 1])
    add_ram_stick(spec, [0.4, -0.02, 0.035, 0, 0, 0, 1])
    add_usb_port(spec, [0.4, 0.3, 0.0, 0, 0, 0, 1])
    add_usb_plug(spec, [0.36, 0.29, 0.004, 0, 0, 0, 1])
    model = spec.compile()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    views = {"motherboard": ([0.4, 0.0, 0.02], 0.42, 150, -35), "ram_slot": ([0.4, -0.02, 0.03], 0.2, 120, -20),
             "usb": ([0.385, 0.3, 0.02], 0.13, 35, -25)}
    with mujoco.Renderer(model, 256, 256) as renderer:
        for name, (lookat, distance, azimuth, elevation) in views.items():
            cam = mujoco.MjvCamera()
            cam.lookat[:], cam.distance, cam.azimuth, cam.elevation = lookat, distance, azimuth, elevation
            renderer.update_scene(data, camera=cam)
            pixels = renderer.render()
            assert pixels.shape == (256, 256, 3) and pixels.std() > 5
            import imageio.v3 as iio

            iio.imwrite(out / f"props_{name}.png", pixels)
