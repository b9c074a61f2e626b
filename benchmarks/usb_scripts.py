"""Scripts a sceptical reviewer tries on USB grasp-insertion, built from the expert by removing what it perceives.

* :class:`BlindScript`: sees nothing of the plug. It plans on the nominal plug pose (lying at its
  nominal spot, and after closing, held exactly as a nominal grasp would hold it); it still reads
  proprioception (TCP pose, finger opening), which any script on a robot has.
* :class:`NoReorientScript`: grasps at the plug's true position without turning to its yaw.
* :class:`NoAlignScript`: grasps correctly, then goes straight to the port assuming the nominal
  in-hand pose (no measurement of the grasp, no stop to align in front of the mouth).
* :class:`CaptureProbe`: the expert with a deliberate tip offset (port-frame y or z, or yaw) at the
  mouth, to find how far off the axis the plug still enters.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.backend import SceneState
from hilserl_bench.envs.experts.usb_insertion import OPEN_WIDTH, PRE_INSERT, UsbInsertionExpert
from hilserl_bench.envs.props import usb
from hilserl_bench.envs.tasks.usb_insertion import GRASP_HEIGHT, PLUG_NOMINAL, PLUG_TIP_X

NOMINAL_HELD = np.array([-usb.GRASP_X, 0.0, GRASP_HEIGHT - usb.PLUG_REST_Z, 1.0, 0.0, 0.0, 0.0])
"""Plug pose in the TCP frame after a nominal top-down grasp of the lying plug."""


class _ObsKeeping(UsbInsertionExpert):
    """Keeps the latest observation so :meth:`scene` can depend on proprioception."""

    def act(self, obs: dict[str, Any]) -> np.ndarray:
        self._obs = obs
        return super().act(obs)


class BlindScript(_ObsKeeping):
    """Open-loop on the nominal plug pose; ``push_to_stop`` aims 30 mm deep so the arm presses until it stalls."""

    def __init__(self, env: Any, push_to_stop: bool = False) -> None:
        super().__init__(env.unwrapped, 0.0)
        self.insert_depth = 0.03 if push_to_stop else self.insert_depth
        self._nominal = np.array([*PLUG_NOMINAL, usb.PLUG_REST_Z, 0.0, 0.0, 0.0, 1.0])

    def phase(self, obs: dict[str, Any]) -> str:
        self._obs = obs
        return super().phase(obs)

    def scene(self) -> SceneState:
        state = self._obs["state"]
        width = float(np.asarray(state["gripper_pose"]).reshape(-1)[0])
        if width >= OPEN_WIDTH:
            return SceneState(poses={"usb_plug": self._nominal.copy()})
        pose = np.asarray(state["tcp_pose"], dtype=np.float64)
        return SceneState(poses={"usb_plug": geo.pose_compose(pose, NOMINAL_HELD)})


class NoReorientScript(UsbInsertionExpert):
    """The expert, except that the fingers stay at the port's yaw when grasping."""

    def __init__(self, env: Any) -> None:
        super().__init__(env.unwrapped, 0.0)

    def grasp_pose(self, plug: np.ndarray) -> np.ndarray:
        grasp = super().grasp_pose(plug)
        grasp[3:] = self.task.target_pose[3:]
        return grasp


class NoAlignScript(UsbInsertionExpert):
    """The expert's grasp, then straight to the insertion pose computed for a nominal grasp."""

    def __init__(self, env: Any) -> None:
        super().__init__(env.unwrapped, 0.0)

    def phase(self, obs: dict[str, Any]) -> str:
        phase = super().phase(obs)
        return "insert" if phase == "align" else phase

    def _tcp_goal_for_tip(self, pose: np.ndarray, plug: np.ndarray, depth: float) -> np.ndarray:
        nominal = geo.pose_compose(pose, NOMINAL_HELD)
        return super()._tcp_goal_for_tip(pose, nominal, depth)


class CaptureProbe(UsbInsertionExpert):
    """The expert aligning the tip to an offset axis at the mouth, then pushing along it."""

    def __init__(self, env: Any) -> None:
        super().__init__(env.unwrapped, 0.0)
        self.env_wrapper = env
        self.offset = np.zeros(3)  # port-frame y (m), z (m), yaw (rad)

    def tip_goal(self, depth: float) -> np.ndarray:
        y, z, yaw = self.offset
        turned = geo.pose_compose(self.task.mouth_pose, np.array([0.0, y, z, *geo.euler_to_quat([0, 0, yaw])]))
        return geo.pose_compose(turned, np.array([depth, 0, 0, 0, 0, 0, 1.0]))

    def phase(self, obs: dict[str, Any]) -> str:
        phase = super().phase(obs)
        if phase not in ("align", "insert", "lift"):
            return phase
        plug = self.scene().poses["usb_plug"]
        tip = geo.pose_compose(plug, np.array([PLUG_TIP_X, 0, 0, 0, 0, 0, 1.0]))
        rel = geo.pose_compose(geo.pose_inverse(self.tip_goal(0.0)), tip)
        angle = float(np.linalg.norm(geo.quat_to_rotvec(rel[3:])))
        if rel[0] > -0.0005 or (rel[0] > PRE_INSERT - 0.002 and np.max(np.abs(rel[1:3])) < 0.0003
                                and angle < np.radians(0.3)):
            return "insert"
        return "lift" if phase == "lift" else "align"

    def seats(self, axis: str, value: float, seed: int = 0) -> bool:
        """Whether the plug seats when aligned ``value`` off along ``axis`` (lateral_y_mm, lateral_z_mm, yaw_deg)."""
        index = {"lateral_y_mm": 0, "lateral_z_mm": 1, "yaw_deg": 2}[axis]
        self.offset = np.zeros(3)
        self.offset[index] = np.radians(value) if index == 2 else value * 1e-3
        env = self.env_wrapper
        obs, info = env.reset(seed=seed)
        self.reset(np.random.default_rng(seed))
        for _ in range(env.unwrapped.task.config.max_steps):
            obs, _, terminated, truncated, info = env.step(self.act(obs))
            if terminated or truncated:
                break
        return bool(info["succeed"])
