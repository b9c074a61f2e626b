"""SSD assembly: the success predicate on constructed states, and the socket's physics on a compliant rig."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

import hilserl_bench
from hilserl_bench import geometry as geo
from hilserl_bench.backend import SceneState
from hilserl_bench.envs.arena import add_arena
from hilserl_bench.envs.experts import make_expert
from hilserl_bench.envs.props import m2_ssd as m2
from hilserl_bench.envs.tasks.ssd_assembly import BOARD_POSE, SsdAssembly, board_in_socket

MM = 1e-3


@pytest.fixture(scope="module")
def task() -> SsdAssembly:
    return SsdAssembly()


def _scene(task: SsdAssembly, board_in_socket_frame: np.ndarray, penetration: float = 0.0) -> SceneState:
    return SceneState(poses={"m2_ssd": geo.pose_compose(task.socket_pose, board_in_socket_frame)},
                      penetration=penetration)


def _moved(pose: np.ndarray, dxyz=(0.0, 0.0, 0.0), euler=(0.0, 0.0, 0.0)) -> np.ndarray:
    out = pose.copy()
    out[:3] += np.asarray(dxyz)
    out[3:] = geo.quat_mul(out[3:], geo.euler_to_quat(np.asarray(euler, dtype=float)))
    return out


def test_seated_board_succeeds(task: SsdAssembly) -> None:
    ev = task.evaluate(_scene(task, board_in_socket(0.0)), ())
    assert ev.success, ev.terms
    assert abs(ev.terms["edge_shortfall_mm"]) < 1e-6 and ev.terms["tilt_deg"] < 1e-6


@pytest.mark.parametrize(("name", "dxyz", "euler", "penetration"), [
    ("edge 0.8 mm short", (-0.8 * MM, 0, 0), (0, 0, 0), 0.0),
    ("edge 0.8 mm through the end wall", (0.8 * MM, 0, 0), (0, 0, 0), 0.0),
    ("1 mm sideways", (0, 1.0 * MM, 0), (0, 0, 0), 0.0),
    ("far end 1 mm above the standoff", (0, 0, 0), (0, np.deg2rad(0.75), 0), 0.0),
    ("edge on top of the socket roof", (0, 0, 2.0 * MM), (0, np.deg2rad(1.3), 0), 0.0),
    ("sunk 1 mm through the standoff", (0, 0, -1.0 * MM), (0, 0, 0), 0.0),
    ("tilted 3 deg sideways", (0, 0, 0), (np.deg2rad(3.0), 0, 0), 0.0),
    ("upside down (key through the board)", (0, 0, 0), (np.pi, 0, 0), 0.0),
    ("seated but interpenetrating 1 mm", (0, 0, 0), (0, 0, 0), 1.0 * MM),
])
def test_wrong_states_fail(task: SsdAssembly, name, dxyz, euler, penetration) -> None:
    ev = task.evaluate(_scene(task, _moved(board_in_socket(0.0), dxyz, euler), penetration), ())
    assert not ev.success, (name, ev.terms)


def test_inserted_but_not_laid_down_fails(task: SsdAssembly) -> None:
    ev = task.evaluate(_scene(task, board_in_socket(m2.INSERT_ANGLE)), ())
    assert not ev.success and ev.terms["tilt_deg"] > 19.0


def test_reversed_board_fails(task: SsdAssembly) -> None:
    """Turned end for end, the screw end sits in the socket: the predicate looks at the gold-finger edge."""
    seated = board_in_socket(0.0)
    reversed_ = seated.copy()
    reversed_[:3] = seated[:3] + np.array([-m2.SSD_LENGTH, 0, 0])
    reversed_[3:] = geo.euler_to_quat(np.array([0.0, 0.0, np.pi]))
    assert not task.evaluate(_scene(task, reversed_), ()).success


# -- physics on a compliant rig (no robot) -------------------------------------------------------
KP = np.array([2000.0] * 3 + [150.0] * 3)
KD = np.array([89.0] * 3 + [7.0] * 3)


def add_rig_hand(spec: mujoco.MjSpec, pose: np.ndarray) -> mujoco.MjsBody:
    """A gravity-compensated 1.5 kg body on three slides and three hinges, each a Franka-impedance servo."""
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


def push_rig(model: mujoco.MjModel, data: mujoco.MjData, force: np.ndarray, groups: tuple,
             seconds: float = 1.0) -> float:
    """Press with ``force`` (N, hand frame axes) through reference limiting; returns the max penetration
    between the two geom groups over every physics step."""
    adr = np.array([model.jnt_qposadr[model.joint(f"rig_{i}").id] for i in range(6)])
    target = np.zeros(6)
    target[:3] = 0.1 * force / np.linalg.norm(force)
    clip = np.concatenate([np.maximum(np.abs(force) / KP[:3], 1e-4), [0.05] * 3])
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


def _rig_push(angle: float, dy: float = 0.0, dz: float = 0.0, flip: bool = False, force: float = 6.0,
              retract: float = 0.008):
    """Mount the board on the rig hand at ``angle``, its edge ``retract`` behind the insertion path; push along."""
    spec = mujoco.MjSpec()
    spec.compiler.degree = False
    add_arena(spec)
    sock = m2.add_m2_motherboard(spec, BOARD_POSE)
    socket_pose = np.array(sock.socket_pose)
    start = board_in_socket(angle, retract)
    start[1] += dy
    start[2] += dz
    if flip:
        start[3:] = geo.quat_mul(start[3:], geo.euler_to_quat(np.array([np.pi, 0.0, 0.0])))
    world = geo.pose_compose(socket_pose, start)
    hand = add_rig_hand(spec, world)
    ssd = m2.add_m2_ssd(spec, [0, 0, 0, 0, 0, 0, 1], parent=hand)
    model = spec.compile()
    data = mujoco.MjData(model)
    pen = push_rig(model, data, np.array([force, 0.0, 0.0]), (ssd.fit_geoms, sock.fit_geoms))
    board = geo.pose_compose(geo.pose_inverse(socket_pose), np.concatenate(
        [data.body(ssd.body).xpos, geo.quat_from_mujoco(data.body(ssd.body).xquat)]))
    return board, pen


def _edge_depth(board: np.ndarray) -> float:
    """How far the edge has travelled along the 20-degree path, from the mouth (m)."""
    seat = board_in_socket(m2.INSERT_ANGLE)
    axis = geo.quat_to_mat(seat[3:])[:, 0]
    return float((board[:3] - seat[:3]) @ axis)


@pytest.mark.parametrize(("dy", "dz"), [(0.0, 0.0), (0.6 * MM, 0.0), (-0.6 * MM, 0.0), (0.0, 0.3 * MM)])
def test_aligned_board_enters_at_20_degrees(dy: float, dz: float) -> None:
    board, pen = _rig_push(m2.INSERT_ANGLE, dy, dz)
    assert _edge_depth(board) > -0.4 * MM, _edge_depth(board)
    assert pen < 0.5 * MM, pen


@pytest.mark.parametrize(("dy", "dz"), [(2.0 * MM, 0.0), (0.0, -1.2 * MM)])
def test_misaligned_board_stops_at_the_mouth(dy: float, dz: float) -> None:
    board, pen = _rig_push(m2.INSERT_ANGLE, dy, dz)
    assert _edge_depth(board) < -2.0 * MM, _edge_depth(board)
    assert pen < 1.0 * MM, pen


def test_upside_down_board_meets_the_key() -> None:
    board, pen = _rig_push(m2.INSERT_ANGLE, flip=True)
    assert _edge_depth(board) < -2.5 * MM, _edge_depth(board)
    assert pen < 1.0 * MM, pen


def test_flat_board_is_stopped_by_the_standoff_post() -> None:
    """Slid in flat at socket height from behind the standoff, the board's edge meets the post."""
    board, pen = _rig_push(0.0, retract=0.082, dz=0.0002)
    assert board[0] < m2.SOCKET_DEPTH - 0.07, board[:3]
    assert pen < 1.0 * MM, pen


def test_expert_starts_from_random_states() -> None:
    """After 30 random steps the expert still finishes (it reads its phase from the TCP pose)."""
    env = hilserl_bench.make("ssd_assembly", obs_mode="state")
    expert = make_expert(env)
    rng = np.random.default_rng(1)
    wins = 0
    for seed in range(3):
        obs, _ = env.reset(seed=seed)
        for _ in range(30):
            obs, *_ = env.step(rng.uniform(-1, 1, 6))
        expert.reset(np.random.default_rng(seed))
        for _ in range(70):
            obs, _, term, trunc, info = env.step(expert.act(obs))
            if term:
                break
        wins += bool(info["succeed"])
    env.close()
    assert wins >= 2, wins
