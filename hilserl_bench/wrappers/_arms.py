"""Where each arm lives in the raw env's observation and action (shared by the wrappers).

Single-arm tasks use bare state keys (``tcp_pose``); dual-arm tasks prefix them with
``left/`` and ``right/`` and concatenate per-arm actions in ``task.arms`` order. Each
arm's action block is 6 twist dims plus one gripper dim when the gripper is learned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import gymnasium as gym


@dataclass(frozen=True)
class ArmSlot:
    """One arm's state-key prefix and action indices."""

    name: str
    """Arm name from ``task.arms``."""
    prefix: str
    """State-key prefix: ``""`` for a single arm, ``"left/"`` / ``"right/"`` for two."""
    twist: slice
    """Action slice of the arm's six twist dims (dx, dy, dz, drx, dry, drz)."""
    gripper: int | None
    """Action index of the arm's gripper dim, ``None`` when the gripper is not learned."""
    axes: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
    """Which of the six twist (or wrench) components ``twist`` holds; wrench tasks hold a subset."""

    @property
    def is_wrench(self) -> bool:
        """Whether the block is a base-frame wrench subset (wrench-controlled tasks) rather than a twist."""
        return self.axes != (0, 1, 2, 3, 4, 5)

    def key(self, name: str) -> str:
        """Full state key of ``name`` for this arm."""
        return self.prefix + name


def arm_slots(env: gym.Env) -> tuple[ArmSlot, ...]:
    """Arms of ``env`` from ``env.unwrapped.task.arms`` and the action width."""
    task = getattr(env.unwrapped, "task", None)
    if task is not None:
        arms = tuple(task.arms)
    else:
        state_space = env.observation_space["state"]
        prefixes = sorted(k[: -len("tcp_pose")] for k in state_space if k.endswith("tcp_pose"))
        arms = ("arm",) if prefixes == [""] else tuple(p.rstrip("/") for p in prefixes)
    shape = env.action_space.shape
    if task is not None and getattr(task, "control_mode", "impedance") == "wrench":
        axes = tuple(task.wrench_axes)
        return tuple(ArmSlot(name=arm, prefix="" if len(arms) == 1 else f"{arm}/",
                             twist=slice(i * len(axes), (i + 1) * len(axes)), gripper=None, axes=axes)
                     for i, arm in enumerate(arms))
    if shape is None or len(shape) != 1 or shape[0] % len(arms):
        raise ValueError(f"action space {env.action_space} does not split into {len(arms)} arm blocks")
    width = shape[0] // len(arms)
    if width not in (6, 7):
        raise ValueError(f"each arm's action block must have 6 or 7 dims (twist [+ gripper]), got {width}")
    single = len(arms) == 1
    return tuple(
        ArmSlot(
            name=arm,
            prefix="" if single else f"{arm}/",
            twist=slice(i * width, i * width + 6),
            gripper=i * width + 6 if width == 7 else None,
        )
        for i, arm in enumerate(arms)
    )


def state_dict(obs: Mapping, wrapper: str) -> Mapping:
    """``obs["state"]`` as a dict, or a clear error when it was already flattened."""
    state = obs["state"]
    if not isinstance(state, Mapping):
        raise TypeError(f"{wrapper} needs the state as a dict of named keys; wrap it inside FlattenState, not outside")
    return state


def state_space(space: gym.spaces.Space, wrapper: str) -> gym.spaces.Dict:
    """The ``state`` sub-space as a Dict, or a clear error when it was already flattened."""
    if not isinstance(space, gym.spaces.Dict) or not isinstance(space.get("state"), gym.spaces.Dict):
        raise TypeError(f"{wrapper} needs a Dict observation space with a Dict 'state'; wrap it inside FlattenState")
    return space["state"]
