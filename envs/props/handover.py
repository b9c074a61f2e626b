"""Object handover props: a bar to pass, a divider it must be passed over, and a target pad.

The bar (16 x 3 x 3 cm, 100 g, wood-like) is long enough for two Franka hands to hold it at
once, one near each end (grasp points 5 cm either side of its centre leave ~4 cm between
the hands). The divider is a thin wall across the table on the cell's centre line, 10 cm
high: neither arm's safety box crosses it, so the bar can only change sides in the air,
held by both hands. The target pad is a flat decal (no collision) on the far side.
Bar contacts use the tight-fit contact parameters so 100 g does not sink into the table.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from hilserl_bench.envs.props import FIT_SOLIMP, FIT_SOLREF, add_box, body_frame

BAR_SIZE = (0.03, 0.16, 0.03)
"""Bar extent (x, y, z) in its body frame, m; it lies along its y axis."""
BAR_MASS = 0.1
BAR_SOLREF = (0.006, 1.0)
BAR_SOLIMP = (0.95, 0.99, 0.001, 0.5, 2.0)
"""The bar's contacts win over the pads' (priority 2): with the pads' stiffest settings the 100 g
bar, squeezed at 70 N, chattered in and out of contact at ~60 Hz and was flung off on lifting;
a 6 ms time constant damps that; squeezed at 70 N it sinks 0.6 mm into the pads, far less into the table."""
BAR_REST_Z = BAR_SIZE[2] / 2
GRASP_OFFSET = 0.05
"""Grasp points sit this far (m) from the bar centre along its length, +y for the left hand."""
DIVIDER_HEIGHT = 0.10
DIVIDER_THICKNESS = 0.01
DIVIDER_X = (0.25, 0.8)
PAD_SIZE = (0.06, 0.2)
BAR_RGBA = (0.85, 0.45, 0.12, 1.0)
DIVIDER_RGBA = (0.55, 0.6, 0.68, 1.0)
PAD_RGBA = (0.2, 0.65, 0.3, 1.0)


@dataclass(frozen=True)
class HandoverNames:
    """Element names of the handover props."""

    bar: str
    bar_geom: str
    divider: str
    pad: str


def add_handover_props(spec: mujoco.MjSpec, bar_pose: np.ndarray, target_xy: np.ndarray,
                       prefix: str = "") -> HandoverNames:
    """Bar (free) at ``bar_pose``, the centre-line divider, and a target pad centred at ``target_xy``."""
    bar = spec.worldbody.add_body(name=f"{prefix}bar", **body_frame(bar_pose))
    bar.add_freejoint(name=f"{prefix}bar_joint")
    half = np.asarray(BAR_SIZE) / 2
    geom = add_box(bar, f"{prefix}bar_geom", -half, half, BAR_RGBA, fit=True, friction=0.8, mass=BAR_MASS)
    geom.condim, geom.priority = 4, 2
    geom.solref, geom.solimp = list(BAR_SOLREF), list(BAR_SOLIMP)
    geom.friction = [1.0, 0.01, 0.0001]
    add_box(bar, f"{prefix}bar_stripe", [-half[0] - 1e-4, GRASP_OFFSET - 0.005, -half[2] - 1e-4],
            [half[0] + 1e-4, GRASP_OFFSET + 0.005, half[2] + 1e-4], (0.1, 0.1, 0.1, 1.0), visual=True)
    wall = spec.worldbody.add_body(name=f"{prefix}divider")
    _stiff_pairs(spec, bar, geom, wall, prefix)
    add_box(wall, f"{prefix}divider_geom", [DIVIDER_X[0], -DIVIDER_THICKNESS / 2, 0.0],
            [DIVIDER_X[1], DIVIDER_THICKNESS / 2, DIVIDER_HEIGHT], DIVIDER_RGBA, fit=True)
    pad = spec.worldbody.add_body(name=f"{prefix}target_pad", pos=[float(target_xy[0]), float(target_xy[1]), 0.0])
    add_box(pad, f"{prefix}target_pad_geom", [-PAD_SIZE[0] / 2, -PAD_SIZE[1] / 2, 0.0],
            [PAD_SIZE[0] / 2, PAD_SIZE[1] / 2, 0.0004], PAD_RGBA, visual=True)
    return HandoverNames(bar=f"{prefix}bar", bar_geom=f"{prefix}bar_geom", divider=f"{prefix}divider",
                         pad=f"{prefix}target_pad")


def _stiff_pairs(spec: mujoco.MjSpec, bar: mujoco.MjsBody, geom: mujoco.MjsGeom, wall: mujoco.MjsBody,
                 prefix: str) -> None:
    """Bar-to-world contacts with the tight-fit parameters (explicit pairs; the default ones are excluded).

    The bar's own soft parameters are for the finger pads; against the table or the divider they let a
    hand press it over 1 mm deep, so those contacts are replaced by stiff explicit pairs.
    """
    spec.add_exclude(bodyname1="world", bodyname2=bar.name)
    spec.add_exclude(bodyname1=wall.name, bodyname2=bar.name)
    for other in ("table", "floor", f"{prefix}divider_geom"):
        pair = spec.add_pair(geomname1=geom.name, geomname2=other, condim=4)
        pair.solref, pair.solimp = list(FIT_SOLREF), list(FIT_SOLIMP)
        pair.friction = [0.8, 0.8, 0.01, 0.0001, 0.0001]
