"""Cartesian impedance control that runs inside MuJoCo's compiled step.

The real controller (robot_server.md) computes, at 1 kHz,
``tau = J^T(-K clip(e) - D J dq) + nullspace``, with the equilibrium low-pass
filtered toward the commanded pose. Running that law in Python every substep costs
~40 us per call and caps a 500 Hz simulation at a few hundred env steps/s. Instead
the law is built from MuJoCo actuators so the per-substep work happens in C:

* Two mocap bodies carry the (filtered) equilibrium: ``eq_pos`` keeps the base
  orientation, so translation is measured in base-frame axes; ``eq_rot`` carries
  the equilibrium orientation.
* Six *spring* actuators use a site transmission from the TCP with the mocap site as
  ``refsite``: their length is the pose error e, their force ``-K e`` and their
  ``forcerange`` is ``[-K clip_neg, K clip_pos]``, which is exactly the real
  controller's per-axis, per-direction reference limiting ``K clip(e)``.
* Six *damper* actuators on the same transmissions give the unclipped ``-D xdot``;
  being linear in velocity, implicitfast integrates them implicitly (stable at 2 ms).
* The moment arms are the TCP Jacobian, so MuJoCo applies ``J^T F`` itself, and the
  joints' ``actuatorfrcrange`` clamps the sum at the Franka's torque limits.

Python only refreshes the equilibrium filter and the nullspace torque every few
substeps (:meth:`ImpedanceController.refresh`). Known differences from the real
controller, all small at the task speeds: orientation clips act about the
equilibrium frame's axes rather than the base frame's (identical for isotropic
clips); no integral term (its default gain is 0); no Coriolis feed-forward and no
1 Nm/tick torque-rate limit; gains switch instantly instead of being filtered; the
nullspace spring has no damping term (the joints' own damping serves) and its
stiffness is capped at :data:`NULLSPACE_STIFFNESS_CAP` for stability.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.robot_types import ImpedanceParams

AXES = ("x", "y", "z", "rx", "ry", "rz")
IDENTITY_POSE = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
EQ_FILTER_TIME_CONSTANT = 0.2
"""Seconds; the real controller's 0.005-per-millisecond low-pass on the equilibrium."""
NULLSPACE_STIFFNESS_CAP = 5.0
"""N m/rad. The nullspace spring is a torque held between 20 Hz refreshes; measured on
the RAM cell, holding a pose stays exact up to a joint weight of 10 and oscillates
(growing, y and roll) from 40, so the real joint-1 weight of 100 is applied as 5.
Below the cap (the default 0.2 on other joints) values are used as given."""


def add_impedance_actuators(spec: mujoco.MjSpec, prefix: str, tcp_site: str) -> None:
    """Add the equilibrium mocaps and the 12 spring/damper actuators for one arm."""
    for body_name in ("eq_pos", "eq_rot"):
        body = spec.worldbody.add_body(name=f"{prefix}{body_name}", mocap=True)
        body.add_site(name=f"{prefix}{body_name}_site", size=[0.002, 0, 0], rgba=[0, 0, 0, 0], group=5)
    for i, axis in enumerate(AXES):
        gear = [0.0] * 6
        gear[i] = 1.0
        refsite = f"{prefix}eq_pos_site" if i < 3 else f"{prefix}eq_rot_site"
        for kind in ("spring", "damper"):
            act = spec.add_actuator(name=f"{prefix}imp_{kind}_{axis}", target=f"{prefix}{tcp_site}", refsite=refsite)
            act.trntype = mujoco.mjtTrn.mjTRN_SITE
            act.gear = gear
            act.gaintype = mujoco.mjtGain.mjGAIN_FIXED
            act.gainprm[0] = 0.0
            act.biastype = mujoco.mjtBias.mjBIAS_AFFINE
            act.ctrllimited = 0
            if kind == "spring":
                act.forcelimited = 1
                act.forcerange = [-1.0, 1.0]


class ImpedanceController:
    """Runtime side of one arm's controller: parameters, target, equilibrium filter.

    ``set_target`` is the server's /pose; ``refresh`` advances the equilibrium filter
    by ``dt`` and recomputes the nullspace torque, and is called every few substeps.
    """

    def __init__(self, model: mujoco.MjModel, prefix: str, tcp_site: str, arm_dof_addrs: np.ndarray,
                 home_qpos: np.ndarray, base_pose: np.ndarray | None = None) -> None:
        self._model = model
        self.base = BaseFrame(base_pose)
        self._tcp = model.site(f"{prefix}{tcp_site}").id
        self._mocap_pos = model.body(f"{prefix}eq_pos").mocapid[0]
        self._mocap_rot = model.body(f"{prefix}eq_rot").mocapid[0]
        self._springs = np.array([model.actuator(f"{prefix}imp_spring_{a}").id for a in AXES])
        self._dampers = np.array([model.actuator(f"{prefix}imp_damper_{a}").id for a in AXES])
        self._dofs = _as_slice(np.asarray(arm_dof_addrs))
        self._qpos_addrs = _as_slice(np.array([model.jnt_qposadr[model.dof_jntid[d]] for d in arm_dof_addrs]))
        self._n_dofs = len(arm_dof_addrs)
        self._home = np.asarray(home_qpos, dtype=np.float64)
        self._jac = np.zeros((6, model.nv))
        self.params = ImpedanceParams()
        self.target = np.concatenate([np.zeros(3), geo.IDENTITY_QUAT])
        self.equilibrium = self.target.copy()
        self._ns_weights = np.ones(self._n_dofs)
        self._projector: np.ndarray | None = None
        self._alpha, self._alpha_dt = 0.0, -1.0

    def set_params(self, params: ImpedanceParams) -> None:
        """Write gains and reference limits into the model (the server's /update_param)."""
        m = self._model
        k_t, k_r = params.translational_stiffness, params.rotational_stiffness
        d_t, d_r = params.translational_damping, params.rotational_damping
        clip_pos_t, clip_neg_t = params.translational_clip()
        clip_pos_r, clip_neg_r = params.rotational_clip()
        stiffness = np.array([k_t] * 3 + [k_r] * 3)
        damping = np.array([d_t] * 3 + [d_r] * 3)
        clip_pos = np.concatenate([clip_pos_t, clip_pos_r])
        clip_neg = np.concatenate([clip_neg_t, clip_neg_r])
        for i in range(6):
            s, d = self._springs[i], self._dampers[i]
            m.actuator_biasprm[s, :3] = (0.0, -stiffness[i], 0.0)
            m.actuator_forcerange[s] = (-stiffness[i] * clip_neg[i], stiffness[i] * clip_pos[i])
            m.actuator_biasprm[d, :3] = (0.0, 0.0, -damping[i])
        self._ns_weights = np.full(self._n_dofs, params.nullspace_stiffness)
        self._ns_weights[0] = params.joint1_nullspace_stiffness
        self._ns_weights = np.minimum(self._ns_weights, NULLSPACE_STIFFNESS_CAP)
        self.params = params

    def set_target(self, pose: np.ndarray) -> None:
        """New commanded equilibrium; the filter moves toward it over ~0.2 s."""
        self.target = np.array(pose, dtype=np.float64)

    def hold(self, data: mujoco.MjData, pose: np.ndarray | None = None) -> None:
        """Jump target and equilibrium to ``pose`` (default: the measured TCP pose)."""
        if pose is None:
            pose = self.tcp_pose(data)
        self.target = np.array(pose, dtype=np.float64)
        self.equilibrium = self.target.copy()
        self._write_mocaps(data)
        self._projector = None

    def tcp_pose(self, data: mujoco.MjData) -> np.ndarray:
        """Measured TCP pose in this arm's base frame (the world frame for a single arm at the origin)."""
        quat = np.empty(4)
        mujoco.mju_mat2Quat(quat, data.site_xmat[self._tcp])
        return self.base.from_world(np.concatenate([data.site_xpos[self._tcp], geo.quat_from_mujoco(quat)]))

    def refresh(self, data: mujoco.MjData, dt: float, new_period: bool = False) -> None:
        """Advance the equilibrium filter by ``dt`` and refresh the nullspace torque.

        ``new_period`` recomputes the nullspace projector (once per control period is
        plenty: the Jacobian barely changes in 0.1 s at task speeds).
        """
        if dt != self._alpha_dt:
            self._alpha, self._alpha_dt = 1.0 - math.exp(-dt / EQ_FILTER_TIME_CONSTANT), dt
        alpha = self._alpha
        eq = self.equilibrium
        eq[:3] += alpha * (self.target[:3] - eq[:3])
        q_target = self.target[3:] if float(np.dot(eq[3:], self.target[3:])) >= 0 else -self.target[3:]
        q = eq[3:] + alpha * (q_target - eq[3:])
        eq[3:] = q / math.sqrt(float(np.dot(q, q)))
        self._write_mocaps(data)
        if new_period or self._projector is None:
            self._update_projector(data)
        self._apply_nullspace(data)

    def _write_mocaps(self, data: mujoco.MjData) -> None:
        eq = self.base.to_world(self.equilibrium)
        data.mocap_pos[self._mocap_pos] = eq[:3]
        data.mocap_quat[self._mocap_pos] = self.base.mujoco_quat
        data.mocap_pos[self._mocap_rot] = eq[:3]
        data.mocap_quat[self._mocap_rot] = (eq[6], eq[3], eq[4], eq[5])

    def _update_projector(self, data: mujoco.MjData) -> None:
        """N^T = I - J^T (J J^T)^-1 J: joint torques through it exert no force at the TCP."""
        mujoco.mj_jacSite(self._model, data, self._jac[:3], self._jac[3:], self._tcp)
        jac = self._jac[:, self._dofs]
        self._projector = np.eye(self._n_dofs) - jac.T @ np.linalg.solve(jac @ jac.T + 1e-6 * np.eye(6), jac)

    def _apply_nullspace(self, data: mujoco.MjData) -> None:
        """tau_ns = N^T K_ns (q_home - q), held until the next refresh.

        The real controller adds ``-2 sqrt(K_ns) dq``; a velocity term held constant
        over a 50 ms chunk destabilises the elbow-swivel mode, so damping comes from
        the model's joint damping instead, which MuJoCo integrates implicitly.
        """
        q = data.qpos[self._qpos_addrs]
        data.qfrc_applied[self._dofs] = self._projector @ (self._ns_weights * (self._home - q))

    @property
    def spring_actuators(self) -> np.ndarray:
        """Actuator ids of the six clipped springs (x, y, z, rx, ry, rz)."""
        return self._springs


class BaseFrame:
    """An arm's base pose in the world: servers speak base-frame poses, MuJoCo world-frame ones.

    The identity (a single arm at the origin) converts nothing, so single-arm cells pay no cost.
    The translation springs' reference (``eq_pos``) is turned with the base, so the per-axis
    reference limits act along the arm's own base axes, as on the real controller.
    """

    def __init__(self, pose: np.ndarray | None) -> None:
        pose = IDENTITY_POSE if pose is None else np.asarray(pose, dtype=np.float64)
        self.pose = np.concatenate([pose[:3], geo.quat_normalize(pose[3:])])
        self.identity = bool(np.allclose(self.pose, IDENTITY_POSE))
        self.rotation = geo.quat_to_mat(self.pose[3:])
        self.mujoco_quat = geo.quat_to_mujoco(self.pose[3:])
        self._inverse = geo.pose_inverse(self.pose)

    def to_world(self, pose: np.ndarray) -> np.ndarray:
        """Base-frame 7-vector pose as a world pose."""
        return pose if self.identity else geo.pose_compose(self.pose, pose)

    def from_world(self, pose: np.ndarray) -> np.ndarray:
        """World 7-vector pose in this base frame."""
        return pose if self.identity else geo.pose_compose(self._inverse, pose)

    def vector_from_world(self, vec: np.ndarray) -> np.ndarray:
        """World-frame (3, ...) vectors (velocities, Jacobian rows) in base-frame axes."""
        return vec if self.identity else self.rotation.T @ vec


def _as_slice(addrs: np.ndarray) -> slice | np.ndarray:
    """Contiguous addresses as a slice (a view, several times cheaper to index with)."""
    if len(addrs) and np.all(np.diff(addrs) == 1):
        return slice(int(addrs[0]), int(addrs[-1]) + 1)
    return addrs
