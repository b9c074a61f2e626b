"""Franka Panda arm + Franka Hand as a ``mujoco.MjSpec``, built from published numbers.

Kinematics follow Franka's official modified-DH (Craig) table, so every link frame is
the DH frame and :func:`panda_fk` can check the model. Link inertials are those
identified by Gaz et al., RA-L 2019 (barycentric tensors in link-parallel axes); the
fixed base carries the rest of the ~17.8 kg datasheet mass. Geometry is primitives
only so CPU rendering stays fast.

TCP frame (= hand frame, the flange turned -45 deg about its z): z points out of the
gripper, the fingers close along y (``left_finger`` sits at +y), x completes the frame.
At :data:`HOME_QPOS` the TCP has x = world x, y = -world y, z = -world z.
"""

from __future__ import annotations

import mujoco
import numpy as np

from hilserl_bench.geometry import mat_to_quat, quat_from_mujoco, quat_to_mat, quat_to_mujoco

JOINT_NAMES = tuple(f"joint{i}" for i in range(1, 8))
FINGER_JOINT_NAMES = ("finger_joint1", "finger_joint2")
TCP_SITE = "tcp"
FLANGE_SITE = "flange"
FINGER_BODIES = ("left_finger", "right_finger")
FINGER_PADS = ("left_finger_pad", "right_finger_pad")
WRIST_CAMERAS = ("wrist_1", "wrist_2")
GRIPPER_ACTUATOR = "gripper"
GRIPPER_OPEN_CTRL = 0.09
GRIPPER_CLOSE_CTRL = -0.05
GRIPPER_MAX_WIDTH = 0.08
GRIPPER_FORCE = 70.0
JOINT_LIMITS = np.array([
    [-2.8973, 2.8973], [-1.7628, 1.7628], [-2.8973, 2.8973], [-3.0718, -0.0698],
    [-2.8973, 2.8973], [-0.0175, 3.7525], [-2.8973, 2.8973],
])
TORQUE_LIMITS = np.array([87.0, 87.0, 87.0, 87.0, 12.0, 12.0, 12.0])
HOME_QPOS = np.array([0.0, -0.041759, 0.0, -2.334272, 0.0, 2.292514, 0.785398])

# (a, d, alpha) per joint, then the flange; Craig convention: Rx(alpha) Tx(a) Rz(q) Tz(d).
DH = np.array([
    [0.0, 0.333, 0.0], [0.0, 0.0, -np.pi / 2], [0.0, 0.316, np.pi / 2], [0.0825, 0.0, np.pi / 2],
    [-0.0825, 0.384, -np.pi / 2], [0.0, 0.0, np.pi / 2], [0.088, 0.0, np.pi / 2], [0.0, 0.107, 0.0],
])
TCP_OFFSET = 0.1034
HAND_YAW = -np.pi / 4
# Gaz et al. 2019: mass, COM (link frame), inertia about the COM (xx, xy, xz, yy, yz, zz).
LINK_MASS = (4.970684, 0.646926, 3.228604, 3.587895, 1.225946, 1.666555, 0.735522)
LINK_COM = (
    (3.875e-03, 2.081e-03, 0.0), (-3.141e-03, -2.872e-02, 3.495e-03), (2.7518e-02, 3.9252e-02, -6.6502e-02),
    (-5.317e-02, 1.04419e-01, 2.7454e-02), (-1.1953e-02, 4.1065e-02, -3.8437e-02),
    (6.0149e-02, -1.4117e-02, -1.0517e-02), (1.0517e-02, -4.252e-03, 6.1597e-02),
)
LINK_INERTIA = (
    (7.0337e-01, -1.3900e-04, 6.7720e-03, 7.0661e-01, 1.9169e-02, 9.1170e-03),
    (7.9620e-03, -3.9250e-03, 1.0254e-02, 2.8110e-02, 7.0400e-04, 2.5995e-02),
    (3.7242e-02, -4.7610e-03, -1.1396e-02, 3.6155e-02, -1.2805e-02, 1.0830e-02),
    (2.5853e-02, 7.7960e-03, -1.3320e-03, 1.9552e-02, 8.6410e-03, 2.8323e-02),
    (3.5549e-02, -2.1170e-03, -4.0370e-03, 2.9474e-02, 2.2900e-04, 8.6270e-03),
    (1.9640e-03, 1.0900e-04, -1.1580e-03, 4.3540e-03, 3.4100e-04, 5.4330e-03),
    (1.2516e-02, -4.2800e-04, -1.1960e-03, 1.0027e-02, -7.4100e-04, 4.8150e-03),
)
BASE_MASS = 1.74
HAND_MASS, FINGER_MASS = 0.67, 0.03
JOINT_DAMPING = (0.5, 0.5, 0.5, 0.5, 0.2, 0.2, 0.1)
JOINT_ARMATURE = (0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05)
FINGER_DAMPING = 900.0
FINGER_ARMATURE = 0.5
FINGER_LIMIT_SOLREF = (0.01, 1.0)
"""Finger limit/coupling constraints: at 0.004 s (2 dt) they pumped energy into pad friction
contacts (the closed hand chattered 0.5 mm on a surface); 0.01 s is steady."""
STIFF_SOLREF, STIFF_SOLIMP = [0.004, 1.0], [0.99, 0.999, 0.001, 0.5, 2.0]
PAD_SOLIMP = [0.95, 0.99, 0.001, 0.5, 2.0]
"""Finger pad impedance. With STIFF_SOLIMP's near-hard 0.99-0.999 (and impratio 10) closing on a 10 g
plug at a turned or edge-on relative pose launched it at up to 100 m/s: squeezed at 70 N, the solver
moved tens of newtons between the pads' contact points from one step to the next. 0.95-0.99 with
impratio 3 keeps every one of 150 random relative poses under 1 m/s (benchmarks/usb_replica_checks.py)."""
GRIPPER_KP = 2000.0
# Capsules (fromto in the link's DH frame, radius) approximating each link's casing.
LINK_CAPSULES = {
    "link0": [((0, 0, 0.02), (0, 0, 0.13), 0.07), ((-0.12, 0, 0.04), (-0.03, 0, 0.04), 0.05)],
    "link1": [((0, 0, -0.19), (0, 0, -0.03), 0.06)],
    "link2": [((0, 0, -0.06), (0, 0, 0.06), 0.06), ((0, 0, 0), (0, -0.2, 0), 0.06)],
    "link3": [((0, 0, -0.12), (0, 0, 0), 0.055), ((0, 0, 0), (0.0825, 0, 0), 0.055)],
    "link4": [((0, 0, -0.05), (0, 0, 0.05), 0.055), ((0, 0, 0), (-0.0825, 0.1, 0), 0.055)],
    "link5": [((0, 0, -0.27), (0, 0, -0.05), 0.05), ((0, 0.06, -0.24), (0, 0.06, -0.04), 0.03),
              ((0, 0, -0.04), (0, 0, 0.02), 0.05)],
    "link6": [((0, 0, -0.03), (0, 0, 0.03), 0.05), ((0, 0, 0), (0.088, 0, 0), 0.045)],
    "link7": [((0, 0, -0.04), (0, 0, 0.08), 0.045)],
}
WHITE, GREY, DARK = (0.92, 0.92, 0.92, 1.0), (0.55, 0.55, 0.58, 1.0), (0.15, 0.15, 0.17, 1.0)


def _dh_transform(a: float, d: float, alpha: float, q: float) -> np.ndarray:
    ca, sa, cq, sq = np.cos(alpha), np.sin(alpha), np.cos(q), np.sin(q)
    return np.array([
        [cq, -sq, 0.0, a],
        [sq * ca, cq * ca, -sa, -sa * d],
        [sq * sa, cq * sa, ca, ca * d],
        [0.0, 0.0, 0.0, 1.0],
    ])


def panda_fk(q: np.ndarray) -> np.ndarray:
    """Base-to-TCP homogeneous transform from the DH table alone (an independent check of the model)."""
    t = np.eye(4)
    for (a, d, alpha), qi in zip(DH, [*np.asarray(q, dtype=float), 0.0], strict=True):
        t = t @ _dh_transform(a, d, alpha, qi)
    hand = _dh_transform(0.0, TCP_OFFSET, 0.0, HAND_YAW)
    return t @ hand


def _robot_geom(body: mujoco.MjsBody, rgba=WHITE, **kwargs) -> mujoco.MjsGeom:
    return body.add_geom(contype=2, conaffinity=1, rgba=rgba, **kwargs)


def _capsule(body: mujoco.MjsBody, p0, p1, radius: float, rgba=WHITE) -> None:
    _robot_geom(body, rgba, type=mujoco.mjtGeom.mjGEOM_CAPSULE, fromto=[*p0, *p1], size=[radius, 0, 0])


def _look_at_quat(eye: np.ndarray, target: np.ndarray, right: np.ndarray) -> np.ndarray:
    """MuJoCo (wxyz) camera quaternion: camera -z toward target, image x along ``right``."""
    z = eye - target
    z = z / np.linalg.norm(z)
    x = right - z * (right @ z)
    x = x / np.linalg.norm(x)
    return quat_to_mujoco(mat_to_quat(np.column_stack([x, np.cross(z, x), z])))


def _add_hand(flange_parent: mujoco.MjsBody) -> None:
    yaw = [np.cos(HAND_YAW / 2), 0.0, 0.0, np.sin(HAND_YAW / 2)]
    hand = flange_parent.add_body(name="hand", pos=[0, 0, DH[7, 1]], quat=yaw)
    hand.gravcomp = 1.0
    hand.mass, hand.ipos, hand.inertia = HAND_MASS, [0, 0, 0.03], [2.3e-3, 5e-4, 2.3e-3]
    hand.explicitinertial = True
    hand.add_site(name=FLANGE_SITE, quat=[yaw[0], 0.0, 0.0, -yaw[3]])
    hand.add_site(name=TCP_SITE, pos=[0, 0, TCP_OFFSET], size=[0.004, 0, 0], rgba=[1, 0.3, 0.2, 1], group=4)
    _robot_geom(hand, GREY, type=mujoco.mjtGeom.mjGEOM_CYLINDER, pos=[0, 0, 0.005], size=[0.04, 0.005, 0])
    _robot_geom(hand, WHITE, type=mujoco.mjtGeom.mjGEOM_BOX, pos=[0, 0, 0.033], size=[0.03, 0.1, 0.023])
    for cam, side in zip(WRIST_CAMERAS, (1.0, -1.0), strict=True):
        eye = np.array([side * 0.062, 0.0, 0.035])
        quat = _look_at_quat(eye, np.array([0.0, 0.0, 0.19]), np.array([0.0, -side, 0.0]))
        hand.add_camera(name=cam, pos=eye, quat=quat, fovy=70.0)
        back = quat_to_mat(quat_from_mujoco(quat))[:, 2]
        _robot_geom(hand, DARK, type=mujoco.mjtGeom.mjGEOM_BOX, pos=eye + 0.0116 * back, quat=quat,
                    size=[0.021, 0.021, 0.0115])
    for name, joint, pad_name, side in zip(FINGER_BODIES, FINGER_JOINT_NAMES, FINGER_PADS, (1.0, -1.0), strict=True):
        finger = hand.add_body(name=name, pos=[0, 0, 0.0584])
        finger.gravcomp = 1.0
        finger.mass, finger.ipos, finger.inertia = FINGER_MASS, [0, side * 0.01, 0.03], [1e-5, 1e-5, 3e-6]
        finger.explicitinertial = True
        finger.add_joint(name=joint, type=mujoco.mjtJoint.mjJNT_SLIDE, axis=[0, side, 0], range=[0, 0.04],
                         limited=mujoco.mjtLimited.mjLIMITED_TRUE, damping=FINGER_DAMPING, armature=FINGER_ARMATURE,
                         solref_limit=FINGER_LIMIT_SOLREF, solimp_limit=STIFF_SOLIMP)
        _robot_geom(finger, GREY, type=mujoco.mjtGeom.mjGEOM_BOX, pos=[0, side * 0.011, 0.018],
                    size=[0.01, 0.007, 0.018])
        pad = _robot_geom(finger, DARK, type=mujoco.mjtGeom.mjGEOM_BOX, pos=[0, side * 0.004, 0.045],
                          size=[0.009, 0.004, 0.009], name=pad_name)
        pad.friction, pad.condim, pad.priority = [1.2, 0.01, 0.0001], 4, 1
        pad.solref, pad.solimp = STIFF_SOLREF, PAD_SOLIMP


def _add_gripper_transmission(spec: mujoco.MjSpec) -> None:
    eq = spec.add_equality(type=mujoco.mjtEq.mjEQ_JOINT, name1=FINGER_JOINT_NAMES[0], name2=FINGER_JOINT_NAMES[1])
    eq.data[:5] = [0, 1, 0, 0, 0]
    eq.solref, eq.solimp = FINGER_LIMIT_SOLREF, STIFF_SOLIMP
    tendon = spec.add_tendon(name="gripper_width")
    for joint in FINGER_JOINT_NAMES:
        tendon.wrap_joint(joint, 1.0)
    act = spec.add_actuator(name=GRIPPER_ACTUATOR, target="gripper_width", trntype=mujoco.mjtTrn.mjTRN_TENDON)
    act.set_to_position(kp=GRIPPER_KP, kv=0.0)
    act.ctrllimited, act.ctrlrange = mujoco.mjtLimited.mjLIMITED_TRUE, [GRIPPER_CLOSE_CTRL, GRIPPER_OPEN_CTRL]
    act.forcelimited, act.forcerange = mujoco.mjtLimited.mjLIMITED_TRUE, [-GRIPPER_FORCE, GRIPPER_FORCE]


def build_panda() -> mujoco.MjSpec:
    """Standalone spec: ``link0`` at the world origin, seven hinge joints, the hand and its gripper servo.

    Arm joints carry no actuators here; their torque limits are joint ``actfrcrange`` so whatever
    actuators a controller adds are clamped per joint, as the real drives are.
    """
    spec = mujoco.MjSpec()
    spec.modelname = "panda"
    spec.compiler.degree = False
    body = spec.worldbody.add_body(name="link0", mass=BASE_MASS, ipos=[-0.04, 0, 0.05],
                                   inertia=[0.01, 0.012, 0.01], explicitinertial=True)
    body.gravcomp = 1.0
    for p0, p1, r in LINK_CAPSULES["link0"]:
        _capsule(body, p0, p1, r)
    for i in range(7):
        a, d, alpha = DH[i]
        ixx, ixy, ixz, iyy, iyz, izz = LINK_INERTIA[i]
        body = body.add_body(name=f"link{i + 1}", pos=[a, -np.sin(alpha) * d, np.cos(alpha) * d],
                             quat=[np.cos(alpha / 2), np.sin(alpha / 2), 0, 0], mass=LINK_MASS[i],
                             ipos=LINK_COM[i], fullinertia=[ixx, iyy, izz, ixy, ixz, iyz], explicitinertial=True)
        body.gravcomp = 1.0
        body.add_joint(name=JOINT_NAMES[i], axis=[0, 0, 1], range=JOINT_LIMITS[i], damping=JOINT_DAMPING[i],
                       armature=JOINT_ARMATURE[i], limited=mujoco.mjtLimited.mjLIMITED_TRUE,
                       actfrclimited=mujoco.mjtLimited.mjLIMITED_TRUE,
                       actfrcrange=[-TORQUE_LIMITS[i], TORQUE_LIMITS[i]])
        for j, (p0, p1, r) in enumerate(LINK_CAPSULES[f"link{i + 1}"]):
            _capsule(body, p0, p1, r, GREY if j == 0 and i % 2 else WHITE)
    _add_hand(body)
    _add_gripper_transmission(spec)
    return spec
