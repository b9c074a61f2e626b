"""Rotation and pose helpers in the robot server's conventions.

Every quaternion in this package is x-y-z-w (scipy order), as on the robot server's
wire; MuJoCo's w-x-y-z order is converted only at the simulator boundary
(:func:`quat_from_mujoco`, :func:`quat_to_mujoco`). Euler angles are extrinsic
x-y-z (roll about base x, then pitch about base y, then yaw about base z), the
convention of ``scipy.spatial.transform.Rotation.from_euler("xyz", ...)`` that the
official client uses. Poses are 7-vectors ``[x, y, z, qx, qy, qz, qw]``.

Plain numpy on purpose: these run inside every env step and must stay cheap.
"""

from __future__ import annotations

import math

import numpy as np

IDENTITY_QUAT = np.array([0.0, 0.0, 0.0, 1.0])


def quat_from_mujoco(q_wxyz: np.ndarray) -> np.ndarray:
    """MuJoCo (w, x, y, z) to (x, y, z, w)."""
    return np.array([q_wxyz[1], q_wxyz[2], q_wxyz[3], q_wxyz[0]])


def quat_to_mujoco(q_xyzw: np.ndarray) -> np.ndarray:
    """(x, y, z, w) to MuJoCo (w, x, y, z)."""
    return np.array([q_xyzw[3], q_xyzw[0], q_xyzw[1], q_xyzw[2]])


def quat_normalize(q: np.ndarray) -> np.ndarray:
    """Unit quaternion with a non-negative w, so equal rotations compare equal."""
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q)
    return -q if q[3] < 0 else q


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a * b (apply b first, then a)."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return np.array([
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    ])


def quat_conj(q: np.ndarray) -> np.ndarray:
    """Inverse of a unit quaternion."""
    return np.array([-q[0], -q[1], -q[2], q[3]])


def quat_to_mat(q: np.ndarray) -> np.ndarray:
    """Rotation matrix of a unit quaternion."""
    x, y, z, w = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def mat_to_quat(m: np.ndarray) -> np.ndarray:
    """Unit quaternion (w >= 0) of a rotation matrix (Shepperd's method)."""
    m = np.asarray(m, dtype=np.float64)
    tr = m[0, 0] + m[1, 1] + m[2, 2]
    if tr > 0:
        s = 2.0 * np.sqrt(tr + 1.0)
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, 0.25 * s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s]
    else:
        s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s, (m[1, 0] - m[0, 1]) / s]
    return quat_normalize(np.array(q))


def rotvec_to_quat(v: np.ndarray) -> np.ndarray:
    """Quaternion of a rotation vector (axis times angle in radians)."""
    v = np.asarray(v, dtype=np.float64)
    angle = float(np.linalg.norm(v))
    if angle < 1e-12:
        return np.array([0.5 * v[0], 0.5 * v[1], 0.5 * v[2], 1.0]) / np.sqrt(1 + 0.25 * angle**2)
    axis = v / angle
    s = np.sin(0.5 * angle)
    return np.array([axis[0] * s, axis[1] * s, axis[2] * s, np.cos(0.5 * angle)])


def quat_to_rotvec(q: np.ndarray) -> np.ndarray:
    """Rotation vector (angle in [0, pi]) of a unit quaternion."""
    q = quat_normalize(q)
    s = float(np.linalg.norm(q[:3]))
    if s < 1e-12:
        return 2.0 * q[:3]
    angle = 2.0 * np.arctan2(s, q[3])
    return q[:3] / s * angle


def euler_to_quat(euler_xyz: np.ndarray) -> np.ndarray:
    """Quaternion (w >= 0) of extrinsic x-y-z Euler angles (roll, pitch, yaw): q = qz * qy * qx."""
    hr, hp, hy = 0.5 * float(euler_xyz[0]), 0.5 * float(euler_xyz[1]), 0.5 * float(euler_xyz[2])
    cr, sr, cp, sp, cy, sy = math.cos(hr), math.sin(hr), math.cos(hp), math.sin(hp), math.cos(hy), math.sin(hy)
    q = np.array([
        sr * cp * cy - cr * sp * sy,
        cr * sp * cy + sr * cp * sy,
        cr * cp * sy - sr * sp * cy,
        cr * cp * cy + sr * sp * sy,
    ])
    return -q if q[3] < 0 else q


def quat_to_euler(q: np.ndarray) -> np.ndarray:
    """Extrinsic x-y-z Euler angles; pitch in [-pi/2, pi/2], roll and yaw in (-pi, pi]."""
    x, y, z, w = (float(v) for v in q)
    n = x * x + y * y + z * z + w * w
    s = 2.0 / n
    m20 = s * (x * z - y * w)
    m21 = s * (y * z + x * w)
    m22 = 1.0 - s * (x * x + y * y)
    m10 = s * (x * y + z * w)
    m00 = 1.0 - s * (y * y + z * z)
    return np.array([math.atan2(m21, m22), math.asin(max(-1.0, min(1.0, -m20))), math.atan2(m10, m00)])


def euler_to_quat_official(euler_xyz: np.ndarray) -> np.ndarray:
    """The official client's Euler helper: standard x-y-z Euler with pitch negated.

    Only for parity with poses written for the official stack (robot_server.md,
    "quirks"); everything else uses :func:`euler_to_quat`.
    """
    r, p, y = euler_xyz
    return euler_to_quat(np.array([r, -p, y]))


def quat_slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation from a (t=0) to b (t=1) along the short arc."""
    if float(np.dot(a, b)) < 0.0:
        b = -b
    delta = quat_mul(b, quat_conj(a))
    return quat_normalize(quat_mul(rotvec_to_quat(t * quat_to_rotvec(delta)), a))


def orientation_error(current: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Rotation vector in the base frame that turns ``current`` into ``target``."""
    return quat_to_rotvec(quat_mul(target, quat_conj(current)))


def pose_to_6d(pose: np.ndarray) -> np.ndarray:
    """[x, y, z, qx, qy, qz, qw] to [x, y, z, roll, pitch, yaw]."""
    return np.concatenate([pose[:3], quat_to_euler(pose[3:])])


def pose_from_6d(pose6: np.ndarray) -> np.ndarray:
    """[x, y, z, roll, pitch, yaw] to [x, y, z, qx, qy, qz, qw]."""
    return np.concatenate([pose6[:3], euler_to_quat(pose6[3:])])


def pose_inverse(pose: np.ndarray) -> np.ndarray:
    """Inverse rigid transform of a 7-vector pose."""
    q_inv = quat_conj(pose[3:])
    return np.concatenate([-quat_to_mat(q_inv) @ pose[:3], q_inv])


def pose_compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pose of b expressed in a's parent frame: T_a * T_b."""
    return np.concatenate([a[:3] + quat_to_mat(a[3:]) @ b[:3], quat_normalize(quat_mul(a[3:], b[3:]))])


def skew(v: np.ndarray) -> np.ndarray:
    """Cross-product matrix: skew(a) @ b == cross(a, b)."""
    return np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
