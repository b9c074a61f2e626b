"""The official wrench-controlled server's law, run inside MuJoCo's compiled step.

The real server (dynamic_tasks.md) computes at 1 kHz
``tau = J^T (wrench_d + p_control) + nullspace + Coriolis``. As for the impedance
controller (:mod:`hilserl_bench.envs.impedance`), the law is built from actuators so
the per-substep work happens in C, and Python only switches modes between chunks of
a few substeps (:data:`WRENCH_REFRESH_SUBSTEPS`, 10 ms):

* Feed-forward: six *motor* actuators with a site transmission on the TCP and a
  base-frame ``refsite`` apply the commanded wrench through ``J^T``. Their
  ``ctrlrange`` is the server's per-component clip (+/-20 N, +/-5 N m) intersected with
  the extra clamps (Fz >= -1 N, tau_y <= 1.5 N m), so MuJoCo applies exactly the
  clipped wrench. The torque-rate limit is approximated by first-order actuator
  dynamics (``filterexact``) whose time constant makes a full-scale force step at a
  0.6 m lever rise no faster than the limit allows (12 ms for 1 N m per 1 ms tick).
* Box PD: six clipped *spring* actuators (force ``-K e`` with ``forcerange``
  ``+/-K clip``: 200 N/m clipped at 3 cm, 50 N m/rad at 0.06 rad) and six *dampers* on
  transmissions whose ``refsite`` is the box centre (translation, base axes) or the box
  orientation (rotation). Free axes get zero gains while the TCP is in the box; when
  it leaves the box the feed-forward wrench is dropped and every axis pulls back in.
* Command timeout: a wrench older than ``command_timeout_s`` (0.1 s) is dropped.
* Joint PD: seven joint position servos, active after a reset (the server's /reset)
  and while holding (e-stop, injected errors), zero otherwise.
* Nullspace: ``N^T K_ns (q_reset - q)`` as joint torques refreshed per chunk.

Differences from the real server: the timeout and the box test act at the 10 ms
refresh boundaries rather than every 1 ms; the torque-rate limit is a filter on the
commanded wrench, not a limit on joint torque increments; no Coriolis feed-forward.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.wrench import WrenchServerParams

AXES = ("x", "y", "z", "rx", "ry", "rz")
WRENCH_REFRESH_SUBSTEPS = 5
"""Physics steps between mode checks (timeout, box) of the wrench controller: 10 ms at 500 Hz."""
RATE_LIMIT_LEVER = 0.6
"""Lever arm (m) at which a full-scale force step is shaped to respect the joint torque-rate limit."""
JOINT_PD_KP = (600.0, 600.0, 600.0, 600.0, 250.0, 150.0, 50.0)
"""Joint PD stiffness of the reset (N m/rad), the franka_ros joint impedance example's gains."""
JOINT_PD_KD = (50.0, 50.0, 50.0, 20.0, 20.0, 20.0, 10.0)
"""Joint PD damping of the reset (N m s/rad)."""


def add_wrench_actuators(spec: mujoco.MjSpec, prefix: str, tcp_site: str, joint_names: tuple[str, ...],
                         params: WrenchServerParams) -> None:
    """Add the base reference site, the box mocaps and the 25 actuators of one arm's wrench controller."""
    spec.worldbody.add_site(name=f"{prefix}wrench_base", size=[0.002, 0, 0], rgba=[0, 0, 0, 0], group=5)
    for body_name in ("wrench_box_pos", "wrench_box_rot"):
        body = spec.worldbody.add_body(name=f"{prefix}{body_name}", mocap=True)
        body.add_site(name=f"{prefix}{body_name}_site", size=[0.002, 0, 0], rgba=[0, 0, 0, 0], group=5)
    low, high = params.limits()
    tau = params.max_force * RATE_LIMIT_LEVER / params.torque_rate_limit
    for i, axis in enumerate(AXES):
        gear = [0.0] * 6
        gear[i] = 1.0
        ff = _site_actuator(spec, f"{prefix}wrench_ff_{axis}", tcp_site, f"{prefix}wrench_base", gear)
        ff.gaintype, ff.biastype = mujoco.mjtGain.mjGAIN_FIXED, mujoco.mjtBias.mjBIAS_NONE
        ff.gainprm[0] = 1.0
        ff.dyntype = mujoco.mjtDyn.mjDYN_FILTEREXACT
        ff.dynprm[0] = tau
        ff.ctrllimited = 1
        ff.ctrlrange = [float(low[i]), float(high[i])]
        ref = f"{prefix}wrench_box_pos_site" if i < 3 else f"{prefix}wrench_box_rot_site"
        for kind in ("spring", "damper"):
            act = _site_actuator(spec, f"{prefix}wrench_pd_{kind}_{axis}", tcp_site, ref, gear)
            act.gaintype, act.biastype = mujoco.mjtGain.mjGAIN_FIXED, mujoco.mjtBias.mjBIAS_AFFINE
            act.gainprm[0] = 0.0
            act.ctrllimited = 0
            if kind == "spring":
                act.forcelimited = 1
                act.forcerange = [-1.0, 1.0]
    for joint in joint_names:
        act = spec.add_actuator(name=f"{prefix}wrench_joint_pd_{joint}", target=f"{prefix}{joint}")
        act.trntype = mujoco.mjtTrn.mjTRN_JOINT
        act.gaintype, act.biastype = mujoco.mjtGain.mjGAIN_FIXED, mujoco.mjtBias.mjBIAS_AFFINE
        act.ctrllimited = 0


def _site_actuator(spec: mujoco.MjSpec, name: str, site: str, refsite: str, gear: list[float]) -> mujoco.MjsActuator:
    act = spec.add_actuator(name=name, target=site, refsite=refsite)
    act.trntype = mujoco.mjtTrn.mjTRN_SITE
    act.gear = gear
    return act


class WrenchController:
    """Runtime side of one arm's wrench controller: modes, command timeout, box test, nullspace.

    Modes: ``hold`` (joint PD on a joint target: after a reset, on e-stop or error) and
    ``wrench`` (feed-forward wrench plus box PD). :meth:`command` is the server's /wrench;
    :meth:`refresh` runs between chunks of physics steps.
    """

    def __init__(self, model: mujoco.MjModel, prefix: str, tcp_site: str, joint_names: tuple[str, ...],
                 params: WrenchServerParams) -> None:
        self._model, self.params = model, params
        self._tcp = model.site(f"{prefix}{tcp_site}").id
        self._ff = np.array([model.actuator(f"{prefix}wrench_ff_{a}").id for a in AXES])
        self._springs = np.array([model.actuator(f"{prefix}wrench_pd_spring_{a}").id for a in AXES])
        self._dampers = np.array([model.actuator(f"{prefix}wrench_pd_damper_{a}").id for a in AXES])
        self._joint_pd = np.array([model.actuator(f"{prefix}wrench_joint_pd_{j}").id for j in joint_names])
        joints = [model.joint(f"{prefix}{j}").id for j in joint_names]
        self._qpos = np.array([model.jnt_qposadr[j] for j in joints])
        self._dofs = np.array([model.jnt_dofadr[j] for j in joints])
        self._box_pos = model.body(f"{prefix}wrench_box_pos").mocapid[0]
        self._box_rot = model.body(f"{prefix}wrench_box_rot").mocapid[0]
        self._jac = np.zeros((6, model.nv))
        self.mode = "hold"
        self.commanded = np.zeros(6)
        """Last wrench received by /wrench, before the clip."""
        self.command_time = -math.inf
        self.outside = False
        """Whether the TCP was outside the bounding box at the last refresh."""
        self._q_home = np.zeros(len(joints))
        self._projector: np.ndarray | None = None

    # -- server commands ----------------------------------------------------------------
    def command(self, data: mujoco.MjData, wrench: np.ndarray) -> None:
        """/wrench: a new feed-forward wrench, applied from now until the timeout."""
        self.commanded = np.array(wrench, dtype=np.float64)
        self.command_time = float(data.time)
        if self.mode == "wrench" and not self.outside:
            data.ctrl[self._ff] = self.commanded

    def hold(self, data: mujoco.MjData, pose: np.ndarray | None = None) -> None:
        """Joint PD on the current joint positions, wrench and box PD off (``pose`` is ignored:
        a reset already put the joints where they should be)."""
        self.mode = "hold"
        self._set_pd(data, outside=False, on=False)
        data.ctrl[self._ff] = 0.0
        data.ctrl[self._joint_pd] = data.qpos[self._qpos]
        m = self._model
        for act, kp, kd in zip(self._joint_pd, JOINT_PD_KP, JOINT_PD_KD, strict=True):
            m.actuator_gainprm[act, 0] = kp
            m.actuator_biasprm[act, :3] = (0.0, -kp, -kd)
        data.qfrc_applied[self._dofs] = 0.0

    def set_joint_target(self, data: mujoco.MjData, q: np.ndarray) -> None:
        """Hold mode: drive the joints toward ``q`` (the /reset move)."""
        data.ctrl[self._joint_pd] = q

    def start_wrench(self, data: mujoco.MjData) -> None:
        """End of a reset: wrench control with no command yet, nullspace toward the current posture."""
        m = self._model
        for act in self._joint_pd:
            m.actuator_gainprm[act, 0] = 0.0
            m.actuator_biasprm[act, :3] = 0.0
        data.mocap_pos[self._box_pos] = self.params.box_centre
        data.mocap_pos[self._box_rot] = self.params.box_centre
        data.mocap_quat[self._box_rot] = geo.quat_to_mujoco(np.asarray(self.params.box_rotation, dtype=np.float64))
        self._q_home = data.qpos[self._qpos].copy()
        self.mode, self.command_time, self.commanded = "wrench", -math.inf, np.zeros(6)
        self._projector = None
        self.outside = not self.params.inside(data.site_xpos[self._tcp])
        self._set_pd(data, self.outside, on=True)
        data.ctrl[self._ff] = 0.0

    # -- between chunks ------------------------------------------------------------------
    def refresh(self, data: mujoco.MjData, dt: float, new_period: bool = False) -> None:
        """Apply the timeout and the box test for the next chunk, refresh the nullspace torque."""
        if self.mode != "wrench":
            return
        outside = not self.params.inside(data.site_xpos[self._tcp])
        if outside != self.outside:
            self._set_pd(data, outside, on=True)
            self.outside = outside
        stale = data.time - self.command_time >= self.params.command_timeout_s - 1e-9
        data.ctrl[self._ff] = 0.0 if outside or stale else self.commanded
        if new_period or self._projector is None:
            mujoco.mj_jacSite(self._model, data, self._jac[:3], self._jac[3:], self._tcp)
            jac = self._jac[:, self._dofs]
            self._projector = np.eye(len(self._dofs)) - jac.T @ np.linalg.solve(jac @ jac.T + 1e-6 * np.eye(6), jac)
        q = data.qpos[self._qpos]
        data.qfrc_applied[self._dofs] = self._projector @ (self.params.nullspace_stiffness * (self._q_home - q))

    def applied_wrench(self, data: mujoco.MjData) -> np.ndarray:
        """Feed-forward wrench the motors exert now (after clip, clamps, timeout and rate filter)."""
        return data.actuator_force[self._ff].copy()

    def pd_wrench(self, data: mujoco.MjData) -> np.ndarray:
        """Box PD wrench exerted now (spring + damper, in the box frames)."""
        return data.actuator_force[self._springs] + data.actuator_force[self._dampers]

    def tcp_pose(self, data: mujoco.MjData) -> np.ndarray:
        """Measured TCP pose (base frame)."""
        quat = np.empty(4)
        mujoco.mju_mat2Quat(quat, data.site_xmat[self._tcp])
        return np.concatenate([data.site_xpos[self._tcp], geo.quat_from_mujoco(quat)])

    def _set_pd(self, data: mujoco.MjData, outside: bool, on: bool) -> None:
        """Box PD gains: free axes at zero inside the box, every axis active outside, all zero when off."""
        p = self.params
        m = self._model
        for i in range(6):
            k, d, clip = ((p.p_translation, p.d_translation, p.clip_translation) if i < 3
                          else (p.p_rotation, p.d_rotation, p.clip_rotation))
            if not on or (i in p.free_axes and not outside):
                k = d = 0.0
            m.actuator_biasprm[self._springs[i], :3] = (0.0, -k, 0.0)
            m.actuator_forcerange[self._springs[i]] = (-k * clip, k * clip)
            m.actuator_biasprm[self._dampers[i], :3] = (0.0, 0.0, -d)
