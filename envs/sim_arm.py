"""One simulated Franka arm, offering exactly what a robot server offers.

:class:`SimArm` implements :class:`hilserl_bench.backend.ArmBackend` on a shared
``MjModel``/``MjData``: /pose becomes the impedance target, /getstate reads the
model, the gripper commands drive the hand's servo. The external wrench is
estimated the way the Franka does it, from joint torques: the constraint (contact)
torques on the arm joints are mapped through the TCP Jacobian, and reported like
libfranka's ``K_F_ext_hat_K``: the wrench the robot exerts on its environment,
expressed in the TCP frame (pressing down with a down-pointing gripper reads +z).
"""

from __future__ import annotations

import mujoco
import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.envs import franka_model as fm
from hilserl_bench.envs.cell import arm_element
from hilserl_bench.envs.impedance import ImpedanceController
from hilserl_bench.robot_types import ArmState, ImpedanceParams


class SimArm:
    """A Panda in the shared simulation, addressed by its name prefix."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, prefix: str,
                 base_pose: np.ndarray | None = None) -> None:
        self._model, self._data, self.prefix = model, data, prefix
        joint_ids = [model.joint(arm_element(prefix, j)).id for j in fm.JOINT_NAMES]
        self.qpos_addrs = np.array([model.jnt_qposadr[j] for j in joint_ids])
        self.dof_addrs = np.array([model.jnt_dofadr[j] for j in joint_ids])
        """Arm DoF addresses (fancy-indexing with them copies, so the state arrays are fresh)."""
        fingers = [model.joint(arm_element(prefix, j)).id for j in fm.FINGER_JOINT_NAMES]
        self.finger_qpos_addrs = np.array([model.jnt_qposadr[j] for j in fingers])
        self._gripper = model.actuator(arm_element(prefix, fm.GRIPPER_ACTUATOR)).id
        self._tcp = model.site(arm_element(prefix, fm.TCP_SITE)).id
        self.controller = ImpedanceController(model, prefix, fm.TCP_SITE, self.dof_addrs, fm.HOME_QPOS,
                                               base_pose)
        self.base = self.controller.base
        """Where this arm stands in the world; every pose it reports or accepts is in its base frame."""
        self._jac = np.zeros((6, model.nv))
        self.gripper_closed = False

    # -- ArmBackend -------------------------------------------------------------------
    def set_pose(self, pose: np.ndarray) -> None:
        """New impedance equilibrium (the server's /pose)."""
        self.controller.set_target(pose)

    def get_state(self) -> ArmState:
        """Measured state (the server's /getstate), computed from the current MjData."""
        d = self._data
        mujoco.mj_jacSite(self._model, d, self._jac[:3], self._jac[3:], self._tcp)
        jac = self._jac[:, self.dof_addrs]
        dq = d.qvel[self.dof_addrs].copy()
        base = self.base
        base_jac = jac if base.identity else np.vstack([base.vector_from_world(jac[:3]),
                                                        base.vector_from_world(jac[3:])])
        pose = self.controller.tcp_pose(d)
        wrench_on_robot = _wrench_from_joint_torques(jac, d.qfrc_constraint[self.dof_addrs] + self._pushed(d))
        rot_t = d.site_xmat[self._tcp].reshape(3, 3).T
        force = -rot_t @ wrench_on_robot[:3]
        torque = -rot_t @ wrench_on_robot[3:]
        return ArmState(
            pose=pose,
            vel=base_jac @ dq,
            force=force,
            torque=torque,
            q=d.qpos[self.qpos_addrs].copy(),
            dq=dq,
            gripper_pos=self.gripper_opening(),
            jacobian=base_jac,
            timestamp=float(d.time),
        )

    def _pushed(self, d: mujoco.MjData) -> np.ndarray | float:
        """Joint torques of forces applied to bodies (``xfrc_applied``: simulated pushes, see
        :mod:`hilserl_bench.envs.disturbed_env`), which a real arm's torque sensors would feel too."""
        if not d.xfrc_applied.any():
            return 0.0
        qfrc = np.zeros(self._model.nv)
        for body in np.flatnonzero(np.any(d.xfrc_applied != 0.0, axis=1)):
            mujoco.mj_applyFT(self._model, d, d.xfrc_applied[body, :3].copy(), d.xfrc_applied[body, 3:].copy(),
                              d.xipos[body].copy(), int(body), qfrc)
        return qfrc[self.dof_addrs]

    def set_gripper(self, closed: bool) -> None:
        """Binary gripper command: close onto whatever is between the fingers, or open fully."""
        self._data.ctrl[self._gripper] = fm.GRIPPER_CLOSE_CTRL if closed else fm.GRIPPER_OPEN_CTRL
        self.gripper_closed = bool(closed)

    def update_params(self, params: ImpedanceParams) -> None:
        """Retune the controller (the server's /update_param)."""
        self.controller.set_params(params)

    def joint_reset(self) -> None:
        """Put the joints at the home posture at rest and hold the resulting TCP pose."""
        d = self._data
        d.qpos[self.qpos_addrs] = fm.HOME_QPOS
        d.qvel[self.dof_addrs] = 0.0
        mujoco.mj_kinematics(self._model, d)
        self.controller.hold(d)

    def clear_error(self) -> None:
        """The simulated arm never enters a reflex error state; nothing to clear."""

    # -- simulator helpers ----------------------------------------------------------------
    def gripper_opening(self) -> float:
        """Finger opening normalised to [0, 1] (1 = fully open), like the server's gripper_pos."""
        width = float(np.sum(self._data.qpos[self.finger_qpos_addrs]))
        return float(np.clip(width / fm.GRIPPER_MAX_WIDTH, 0.0, 1.0))

    def tcp_pose(self) -> np.ndarray:
        """Measured TCP pose, base frame."""
        return self.controller.tcp_pose(self._data)

    def solve_ik(self, pose: np.ndarray, q_init: np.ndarray | None = None, iterations: int = 100) -> np.ndarray:
        """Joint positions putting the TCP at base-frame ``pose`` (damped least squares on a scratch MjData)."""
        m = self._model
        pose = self.base.to_world(np.asarray(pose, dtype=np.float64))
        scratch = mujoco.MjData(m)
        q = np.array(fm.HOME_QPOS if q_init is None else q_init, dtype=np.float64)
        lo, hi = fm.JOINT_LIMITS[:, 0], fm.JOINT_LIMITS[:, 1]
        jac = np.zeros((6, m.nv))
        for _ in range(iterations):
            scratch.qpos[self.qpos_addrs] = q
            mujoco.mj_kinematics(m, scratch)
            mujoco.mj_comPos(m, scratch)
            current = np.concatenate([scratch.site_xpos[self._tcp], _site_quat(scratch, self._tcp)])
            err = np.concatenate([pose[:3] - current[:3], geo.orientation_error(current[3:], pose[3:])])
            if np.linalg.norm(err[:3]) < 1e-6 and np.linalg.norm(err[3:]) < 1e-5:
                break
            mujoco.mj_jacSite(m, scratch, jac[:3], jac[3:], self._tcp)
            j = jac[:, self.dof_addrs]
            dq = j.T @ np.linalg.solve(j @ j.T + 1e-4 * np.eye(6), err)
            dq += 0.05 * (np.eye(7) - np.linalg.pinv(j) @ j) @ (fm.HOME_QPOS - q)
            q = np.clip(q + dq, lo + 1e-3, hi - 1e-3)
        return q


def _site_quat(data: mujoco.MjData, site_id: int) -> np.ndarray:
    quat = np.empty(4)
    mujoco.mju_mat2Quat(quat, data.site_xmat[site_id])
    return geo.quat_from_mujoco(quat)


def _wrench_from_joint_torques(jac: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Base-frame wrench F with J^T F = tau (damped least squares, as robot drivers do)."""
    return np.linalg.solve(jac @ jac.T + 1e-6 * np.eye(6), jac @ tau)
