"""Tools clamped in the Franka hand (the flipping pan, the whip's handle).

A tool is a free body plus an (initially inactive) weld equality ``<body>_grip`` to the
hand; the wrench cell's reset places the tool at the task's planned grasp, sets the
weld's relative pose to exactly that placement and activates it (see
:mod:`hilserl_bench.envs.sim_wrench_backend`). Contacts between the tool and the hand
body and fingers are excluded: the weld already transmits every force, and fingers
closing into a welded handle would only fight it.
"""

from __future__ import annotations

import mujoco

GRIP_SUFFIX = "_grip"
"""Name suffix of the weld equality holding a tool body in the hand."""
GRIP_SOLREF = (0.004, 1.0)
"""The stiffest weld MuJoCo allows at 2 ms (time constant clamped to 2 dt)."""


def add_grip_weld(spec: mujoco.MjSpec, body_name: str, hand: str = "hand",
                  fingers: tuple[str, ...] = ("left_finger", "right_finger")) -> None:
    """Add the inactive weld that will clamp ``body_name`` in ``hand``, and exclude their contacts."""
    eq = spec.add_equality(name=f"{body_name}{GRIP_SUFFIX}", type=mujoco.mjtEq.mjEQ_WELD,
                           objtype=mujoco.mjtObj.mjOBJ_BODY, name1=hand, name2=body_name)
    eq.data = [0.0] * 10 + [1.0, 1.0]
    eq.solref = list(GRIP_SOLREF)
    eq.active = False
    for other in (hand, *fingers):
        spec.add_exclude(bodyname1=other, bodyname2=body_name)
