"""Label idle gripper commands as "stay" in scripted demos and corrections.

Scripted experts command the gripper every step (-1 close, +1 open) whether or not it
changes anything, so expert data used to hold only "close" and "open" and never the
learner's third action, "stay" (0). The gripper critic then never saw a single
target for "stay" in the demo buffer, its value for it was pure extrapolation, and the
double-DQN max over next actions picked up the extrapolation error. A command that
would not change the gripper's state (close while closed, open while open) does exactly
what "stay" does, so it is recorded as "stay"; the robot executes the same thing.

The rule for "changes the state" is the one the env and ``GripperPenalty`` use: a
command ``<= -0.5`` closes an open gripper, ``>= 0.5`` opens a closed one, and the
gripper counts as open when its ``gripper_pose`` reading exceeds ``OPEN_THRESHOLD``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

OPEN_THRESHOLD = 0.5
"""``gripper_pose`` above this counts as open (1 fully open, 0 closed), as in ``GripperPenaltyConfig``."""


def gripper_open(state: Mapping[str, Any], prefixes: Sequence[str]) -> list[bool]:
    """Per arm (state-key ``prefixes``), whether the raw state's ``gripper_pose`` reads open."""
    return [float(np.asarray(state[p + "gripper_pose"]).reshape(-1)[0]) > OPEN_THRESHOLD for p in prefixes]


def effective_gripper(command: float, is_open: bool) -> bool:
    """Whether the gripper is open after ``command`` (the env's close/open/keep rule)."""
    if command <= -0.5:
        return False
    if command >= 0.5:
        return True
    return is_open


def stay_when_idle(action: np.ndarray, gripper_dims: Sequence[int], is_open: Sequence[bool]) -> np.ndarray:
    """``action`` with every gripper command that would not change its arm's gripper replaced by 0 ("stay")."""
    out = np.array(action, copy=True)
    for dim, was_open in zip(gripper_dims, is_open, strict=True):
        if effective_gripper(float(out[dim]), was_open) == was_open:
            out[dim] = 0.0
    return out
