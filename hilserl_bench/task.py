"""Task logic that holds for every backend: spaces, poses, safety box, success.

A task is data (:class:`TaskConfig`, overridable per run) plus a few methods: where
the robot starts (:meth:`Task.reset_plan`), what success is (:meth:`Task.evaluate`,
the one definition), what the reward is, what privileged state ``obs_mode="state"``
adds, and, for the simulator only, which props to build (:meth:`Task.build_scene`).
Nothing here knows which backend runs it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin, get_type_hints

import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.backend import ResetPlan, SceneState
from hilserl_bench.robot_types import ArmState, ImpedanceParams, uniform_clips

if TYPE_CHECKING:
    import mujoco


@dataclass(frozen=True)
class TaskConfig:
    """Per-run settings of a task; ``make(task, **overrides)`` replaces fields."""

    max_steps: int = 100
    """Episode length in env steps; reaching it sets ``truncated``."""
    control_hz: float = 10.0
    """Env steps per second (the paper runs every task at 10 Hz)."""
    action_scale: tuple[float, float, float] = (0.01, 0.06, 1.0)
    """Translation (m), rotation (rad) and gripper scale of a unit action."""
    random_xy: float = 0.02
    """Half-width (m) of the uniform reset offset in x and y around the reset pose."""
    random_yaw: float = 0.05
    """Half-width (rad) of the uniform reset yaw offset."""
    image_size: int = 128
    """Camera frames are square, this many pixels on a side."""
    discount: float = 0.97
    """The paper's per-task discount (used by learners, carried with the task)."""
    reward_mode: Literal["sparse", "sparse_step_penalty"] = "sparse"
    """``sparse``: 1 on success else 0; ``sparse_step_penalty``: 0 on success else -1/max_steps."""

    def replace(self, **overrides: Any) -> TaskConfig:
        """Validated copy; a bad key or value raises naming the field and what is allowed."""
        hints = get_type_hints(type(self))
        fields = {f.name for f in dataclasses.fields(self)}
        for key, value in overrides.items():
            if key not in fields:
                raise ValueError(
                    f"unknown override {key!r} for {type(self).__name__}; allowed fields: {sorted(fields)}"
                )
            hint = hints[key]
            if get_origin(hint) is Literal and value not in get_args(hint):
                raise ValueError(f"override {key}={value!r} is not allowed; choose one of {list(get_args(hint))}")
        new = dataclasses.replace(self, **overrides)
        new.validate()
        return new

    def validate(self) -> None:
        """Reject values no run could use."""
        checks = {
            "max_steps": self.max_steps >= 1,
            "control_hz": 0 < self.control_hz <= 1000,
            "action_scale": len(self.action_scale) == 3 and all(s > 0 for s in self.action_scale),
            "random_xy": self.random_xy >= 0,
            "random_yaw": self.random_yaw >= 0,
            "image_size": 16 <= self.image_size <= 1024,
            "discount": 0 < self.discount <= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"override {name}={getattr(self, name)!r} is out of range")


@dataclass(frozen=True)
class Evaluation:
    """Outcome of :meth:`Task.evaluate` at one instant."""

    success: bool
    """The task's success predicate."""
    terms: dict[str, float] = field(default_factory=dict)
    """Named measurements behind the verdict (depths, angles), logged in ``info``."""


@dataclass(frozen=True)
class SafetyBox:
    """Per-axis bounds on commanded poses: xyz (m) and extrinsic xyz Euler (rad), base frame."""

    low: np.ndarray
    high: np.ndarray

    def clip(self, pose: np.ndarray) -> np.ndarray:
        """Clip a 7-vector pose into the box, as the official client does.

        Roll of a downward-pointing gripper sits near +/-pi, where Euler roll wraps;
        like the official client we clip roll on its absolute value with its sign kept.
        """
        xyz = np.clip(pose[:3], self.low[:3], self.high[:3])
        euler = geo.quat_to_euler(pose[3:])
        roll_low, roll_high = self.low[3], self.high[3]
        if abs(roll_low) > np.pi / 2 and abs(roll_high) > np.pi / 2 and roll_low * roll_high > 0:
            sign = np.sign(euler[0]) or 1.0
            lo, hi = sorted((abs(roll_low), abs(roll_high)))
            euler[0] = sign * np.clip(abs(euler[0]), lo, min(hi, np.pi))
        else:
            euler[0] = np.clip(euler[0], roll_low, roll_high)
        euler[1:] = np.clip(euler[1:], self.low[4:], self.high[4:])
        return np.concatenate([xyz, geo.euler_to_quat(euler)])

    def contains(self, pose: np.ndarray, tol: float = 1e-5) -> bool:
        """Whether a pose lies in the box, up to ``tol`` metres and radians."""
        clipped = self.clip(pose)
        angle = float(np.linalg.norm(geo.orientation_error(pose[3:], clipped[3:])))
        return bool(np.all(np.abs(clipped[:3] - pose[:3]) <= tol) and angle <= tol)


@dataclass(frozen=True)
class Workspace:
    """Base-frame box a task's free objects must stay inside; one leaving it ends the episode as a failure.

    A part launched by a bad grasp, knocked off the table or pushed through a
    fixture can never be recovered within an episode, so the env terminates at
    once with ``info["object_lost"] = True`` instead of letting the episode run
    on with no way to succeed (and a learner bootstrap from an unreachable state).
    """

    low: np.ndarray
    """Lower corner (x, y, z), m."""
    high: np.ndarray
    """Upper corner (x, y, z), m."""
    bodies: tuple[str, ...]
    """Tracked body names (see :meth:`Task.tracked_bodies`) whose origins must stay inside."""

    def lost(self, scene: SceneState | None) -> tuple[str, ...]:
        """Names of the bodies outside the box (or not finite); empty on hardware (no scene)."""
        if scene is None:
            return ()
        out = []
        for name in self.bodies:
            p = np.asarray(scene.poses[name][:3])
            if not (np.all(np.isfinite(p)) and np.all(p >= self.low) and np.all(p <= self.high)):
                out.append(name)
        return tuple(out)


class Task:
    """Base class of every task; subclasses set the class attributes and override methods."""

    task_id: str = ""
    """Registry id, e.g. ``ram_insertion``."""
    description: str = ""
    """One line for listings and the README."""
    arms: tuple[str, ...] = ("arm",)
    """Arm names; a dual-arm task uses ("left", "right")."""
    learned_gripper: bool = False
    """Whether the action carries a gripper dimension per arm (else the gripper is held)."""
    cameras: tuple[str, ...] = ("wrist_1", "wrist_2")
    """Policy cameras in observation order."""
    config_cls: type[TaskConfig] = TaskConfig

    def __init__(self, config: TaskConfig | None = None) -> None:
        self.config = config or self.default_config()
        self.config.validate()

    @classmethod
    def default_config(cls) -> TaskConfig:
        """The task's preset (paper / official-code numbers)."""
        return cls.config_cls()

    # -- geometry the task owns ------------------------------------------------------
    @property
    def target_pose(self) -> np.ndarray:
        """Configured TCP pose at success, base frame (the calibrated pose on hardware)."""
        raise NotImplementedError

    @property
    def reset_pose(self) -> np.ndarray:
        """Nominal TCP pose at the start of an episode, before randomisation."""
        raise NotImplementedError

    @property
    def safety_box(self) -> SafetyBox:
        """Bounds every commanded pose is clipped into."""
        raise NotImplementedError

    @property
    def episode_params(self) -> ImpedanceParams:
        """Compliant controller parameters used during episodes."""
        return ImpedanceParams()

    @property
    def reset_params(self) -> ImpedanceParams:
        """Stiffer (larger clips) parameters used while resetting."""
        return ImpedanceParams(**uniform_clips((0.1,) * 6, (0.1,) * 6))

    @property
    def action_dim(self) -> int:
        """6 twist dims per arm, plus one gripper dim per arm when the gripper is learned."""
        return len(self.arms) * (7 if self.learned_gripper else 6)

    # -- episode logic ----------------------------------------------------------------
    def sample_reset_pose(self, rng: np.random.Generator) -> np.ndarray:
        """The reset pose shifted uniformly by +/-random_xy in x and y and +/-random_yaw in yaw."""
        six = geo.pose_to_6d(self.reset_pose)
        six[:2] += rng.uniform(-self.config.random_xy, self.config.random_xy, size=2)
        six[5] += rng.uniform(-self.config.random_yaw, self.config.random_yaw)
        return geo.pose_from_6d(six)

    def reset_plan(self, rng: np.random.Generator) -> ResetPlan:
        """Randomised start of an episode (robot pose, gripper, props)."""
        raise NotImplementedError

    def evaluate(self, scene: SceneState | None, arms: tuple[ArmState, ...]) -> Evaluation:
        """The single definition of success; ``scene`` is ``None`` on hardware."""
        raise NotImplementedError

    def reward(self, evaluation: Evaluation) -> float:
        """Sparse reward derived from :meth:`evaluate`."""
        if self.config.reward_mode == "sparse":
            return 1.0 if evaluation.success else 0.0
        return 0.0 if evaluation.success else -1.0 / self.config.max_steps

    def task_state(self, scene: SceneState, arms: tuple[ArmState, ...]) -> dict[str, np.ndarray]:
        """Privileged observation for ``obs_mode="state"`` (simulator and emulator only)."""
        raise NotImplementedError

    def task_state_dims(self) -> dict[str, int]:
        """Sizes of :meth:`task_state` entries, for the observation space."""
        raise NotImplementedError

    def task_state_units(self) -> dict[str, float]:
        """Physical unit of each :meth:`task_state` entry for learners' input scaling (default: 1 cm)."""
        return {}

    # -- simulator only ----------------------------------------------------------------
    def build_scene(self, spec: mujoco.MjSpec) -> None:
        """Add the task's props and side cameras to the simulated cell."""
        raise NotImplementedError

    def tracked_bodies(self) -> tuple[str, ...]:
        """Bodies whose poses the simulator reports in :class:`SceneState`."""
        return ()

    def workspace(self) -> Workspace | None:
        """Box the task's free objects must stay in (the env ends the episode when one leaves); None: no check."""
        return None

    def tight_fit_geoms(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Two geom-name groups whose mutual penetration the simulator measures."""
        return ((), ())
