"""What every scripted expert shares: binding to an env, noise, and a pose servo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hilserl_bench import geometry as geo


def servo_action(current: np.ndarray, target: np.ndarray, action_scale: tuple[float, float, float],
                 gain: float = 1.0) -> np.ndarray:
    """Base-frame twist action (6, in [-1, 1]) that moves ``current`` toward ``target`` in one step.

    The env adds ``action * scale`` to the measured pose, so dividing the pose error
    by the scale gives the action that would land on the target; it is clipped to
    the action bounds, which makes long moves run at full speed.
    """
    scale_t, scale_r, _ = action_scale
    err_t = (target[:3] - current[:3]) / scale_t
    err_r = geo.orientation_error(current[3:], target[3:]) / scale_r
    return np.clip(gain * np.concatenate([err_t, err_r]), -1.0, 1.0)


def pose_distance(pose: np.ndarray, goal: np.ndarray) -> float:
    """Translation error (m) plus 0.05 m per radian of orientation error: one scalar for progress."""
    rotation = np.linalg.norm(geo.orientation_error(pose[3:], goal[3:]))
    return float(np.linalg.norm(pose[:3] - goal[:3]) + 0.05 * rotation)


@dataclass(frozen=True)
class Progress:
    """How far along the expert's plan the current state is, read from the state alone.

    The scripted supervisor's stall trigger compares successive readings: reaching a
    later ``stage`` or lowering ``distance`` within a stage is progress, so each phase
    (reach, grasp, carry, insert) is judged by its own goal rather than by the distance
    to the final target, which grows while a correct policy walks to a part to pick.
    """

    stage: int
    """Index of the phase in the expert's plan; higher is further along (drops go back)."""
    phase: str
    """Name of the phase (for logs and tests)."""
    distance: float
    """Metres (plus 0.05 m per rad) to the phase's goal; lower is better."""


class Expert:
    """A scripted policy bound to one env (its task, and for sim-only experts its backend)."""

    sim_only: bool = False
    """True when the expert reads privileged simulator state (a free object's pose)."""
    phases: tuple[str, ...] = ()
    """Names :meth:`phase` can return, in order of task progress (empty: the expert reports no phases)."""

    def __init__(self, env: Any, noise: float = 0.0) -> None:
        self.env = env
        self.task = env.task
        self.noise = float(noise)
        self.rng = np.random.default_rng(0)

    def reset(self, rng: np.random.Generator) -> None:
        """Start of an episode: take the episode's RNG (for noise); experts keep no other episode memory."""
        self.rng = rng

    def act(self, obs: dict[str, Any]) -> np.ndarray:
        """The next action for the raw env; subclasses implement :meth:`plan`."""
        action = self.plan(obs)
        if self.noise > 0:
            action = action + self.rng.normal(0.0, self.noise, size=action.shape)
        return np.clip(action, -1.0, 1.0).astype(np.float32)

    def plan(self, obs: dict[str, Any]) -> np.ndarray:
        """Noise-free action; implemented per task.

        Experts used for interventions must infer what to do from the state on every call
        (never from a step counter or a phase remembered from earlier calls), so that they
        act correctly from whatever state a policy left, and must set every action dimension
        they may override, the gripper included.
        """
        raise NotImplementedError

    def progress(self, obs: dict[str, Any]) -> Progress | None:
        """Where ``obs`` stands in the plan, inferred from the state (never from call history).

        The default suits single-stage tasks: the task's own ``progress_distance`` (the
        TCP's distance to the target pose, or each two-arm task's measure). Multi-phase
        experts override it; ``None`` means "no measure" and turns the supervisor's stall
        trigger off.
        """
        raw = getattr(self.env, "unwrapped", self.env)
        try:
            distance = self.task.progress_distance(raw.last_scene, raw.arm_states)
        except (AttributeError, NotImplementedError):
            return None
        return Progress(0, "reach target", float(distance))

    def phase(self, obs: dict[str, Any]) -> str:
        """The phase (one of :attr:`phases`) the current state is in, inferred from the state alone.

        A supervisor can measure progress per phase with it (a higher index in :attr:`phases`
        is further along) and see whether the policy is undoing the expert's work. Returns ""
        for experts that report no phases.
        """
        return ""

    def in_hand(self, obs: dict[str, Any]) -> bool | None:
        """Whether the task's part is held in the gripper now; None where the task has no part to grasp."""
        return None

    def scene(self):
        """Privileged scene state; only sim-only experts may call this."""
        state = self.env.backend.scene_state()
        if state is None:
            raise RuntimeError(f"{type(self).__name__} needs simulator state and cannot run on hardware")
        return state
