"""A 0.6 m whip on a 12 cm handle: a tapered hinge chain (two hinges per node).

Built like the public hinge-chain whip (dynamic_tasks.md: nodes joined by two
perpendicular hinges with stiffness and damping), not the cable plugin: a hinge chain
is plain MjSpec (no plugin instance to carry through model edits) and cheaper for the
same node count. Taper: capsule radius 5 -> 2 mm, joint stiffness falling with the
square of the remaining length (the root carries the whole lash's weight, the tip
almost none), so the lash droops a few centimetres when held level and its tip runs
several times faster than the hand in a snap. Joint armature keeps the light tip
nodes stable at 2 ms. Whip geoms collide with props and the table, not with the robot
or with each other (contype 4, conaffinity 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from hilserl_bench.envs.props import body_frame

HANDLE_LENGTH = 0.12
HANDLE_RADIUS = 0.011
HANDLE_MASS = 0.08
LASH_LENGTH = 0.6
SEGMENTS = 20
ROOT_RADIUS, TIP_RADIUS = 0.005, 0.002
LASH_DENSITY = 1100.0
"""kg/m^3 (braided leather)."""
ROOT_STIFFNESS = 9.0
"""N m/rad at the root hinge pair; node i gets ROOT_STIFFNESS * (1 - i / SEGMENTS)^2 plus a floor."""
MIN_STIFFNESS = 0.004
DAMPING_RATIO = 0.03
"""Joint damping = DAMPING_RATIO * stiffness + 3e-4 N m s/rad."""
ARMATURE = 1e-5
LASH_MARGIN = 0.012
"""Contact margin (m) of the lash geoms. The tip crosses up to 12 mm per 2 ms physics step in a snap, three
times its diameter: with no margin it was first seen 6 to 9 mm inside a block's end face and pushed out through
the top or bottom face, so whether a strike pried the block out or slid over it was decided by where the
tunnelling left the tip. With a margin the contact enters the solver before the surfaces meet; MuJoCo's
contact reference (-b v - k r, r the signed distance) only pushes while the approach is too fast to stop by
r = 0, so a fast tip is braked at the face instead of inside it, and a slow or resting one feels nothing
until ~0.2 mm (the lash's contacts with blocks stay at positive distance, measured by the strike probe in
``benchmarks/dynamic_checks.py``)."""
LASH_SOLREF = (0.004, 1.0)
LASH_SOLIMP = (0.95, 0.99, 0.0005, 0.5, 2.0)
"""The blocks' stiff contact parameters (deformables.md). MuJoCo averages a pair's solref, so the default 0.02
on the lash let the struck tip sink 2.9 mm into a block; with these it stays at positive distance."""
WHIP_CONTYPE, WHIP_CONAFFINITY = 4, 1
GRASP_IN_WHIP = np.array([0.03, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
"""Where the fingers hold the handle, in the whip frame (3 cm from the handle's back end)."""
LEATHER = (0.35, 0.2, 0.1, 1.0)
GRIP = (0.1, 0.1, 0.1, 1.0)


@dataclass(frozen=True)
class WhipNames:
    """Element names of a whip."""

    handle: str
    """Handle body (free joint; welded in the hand at reset). Its frame is at the back end, x along the whip."""
    segments: tuple[str, ...]
    """Lash node bodies, root first."""
    tip_site: str
    """Site at the very end of the lash."""
    geoms: tuple[str, ...]
    """Every lash geom (for contact queries)."""


def add_whip(spec: mujoco.MjSpec, pose: np.ndarray, prefix: str = "") -> WhipNames:
    """Add the whip with its handle frame at ``pose`` (x along the whip, lash straight)."""
    handle = spec.worldbody.add_body(name=f"{prefix}whip", gravcomp=1.0, **body_frame(pose))
    handle.add_freejoint(name=f"{prefix}whip_free")
    grip = handle.add_geom(name=f"{prefix}whip_handle", type=mujoco.mjtGeom.mjGEOM_CAPSULE,
                           fromto=[0, 0, 0, HANDLE_LENGTH, 0, 0], size=[HANDLE_RADIUS, 0, 0], rgba=list(GRIP),
                           mass=HANDLE_MASS)
    grip.contype, grip.conaffinity = 0, 0
    seg_len = LASH_LENGTH / SEGMENTS
    parent, pos = handle, [HANDLE_LENGTH, 0.0, 0.0]
    segments, geoms = [], []
    for i in range(SEGMENTS):
        frac = i / SEGMENTS
        name = f"{prefix}whip_{i:02d}"
        body = parent.add_body(name=name, pos=pos)
        k = ROOT_STIFFNESS * (1.0 - frac) ** 2 + MIN_STIFFNESS
        for axis_name, axis in (("y", [0, 1, 0]), ("z", [0, 0, 1])):
            body.add_joint(name=f"{name}_{axis_name}", type=mujoco.mjtJoint.mjJNT_HINGE, axis=axis, stiffness=k,
                           damping=DAMPING_RATIO * k + 3e-4, armature=ARMATURE)
        radius = ROOT_RADIUS + (TIP_RADIUS - ROOT_RADIUS) * frac
        geom = body.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_CAPSULE, fromto=[0, 0, 0, seg_len, 0, 0],
                             size=[radius, 0, 0], rgba=list(LEATHER), density=LASH_DENSITY,
                             friction=[0.5, 0.005, 0.0001])
        geom.contype, geom.conaffinity = WHIP_CONTYPE, WHIP_CONAFFINITY
        geom.margin = LASH_MARGIN
        geom.solref, geom.solimp = list(LASH_SOLREF), list(LASH_SOLIMP)
        segments.append(name)
        geoms.append(name)
        parent, pos = body, [seg_len, 0.0, 0.0]
    parent.add_site(name=f"{prefix}whip_tip", pos=[seg_len, 0, 0], size=[0.003, 0, 0], rgba=[1, 0, 0, 1])
    return WhipNames(handle=f"{prefix}whip", segments=tuple(segments), tip_site=f"{prefix}whip_tip",
                     geoms=tuple(geoms))
