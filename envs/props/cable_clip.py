"""A snap-in cable clip: a channel a 4 mm cable fits with 0.1 mm per side, closed by two sprung lips.

Clip frame: origin at the channel floor's centre, x along the channel, z up. The
channel is 20 mm long and 4.2 mm wide, its floor 8 mm above the table. Its walls stop
0.15 mm above a seated cable's top; on them sit two lips, each a body on a slide joint
that moves outward, preloaded inward against a stop by a spring (0.6 N preload, 2000
N/m). At rest each lip reaches 0.5 mm into the channel (opening 3.2 mm), with a 45
degree lead-in on its top and a flat bottom. A cable pressed onto the lead-ins pushes
both lips out by 0.4 mm (about 1.4 N each, so some 4 to 6 N of pressing with the
lead-in's friction) and, once its widest part is past, the lips snap back over it:
their flat bottoms then hold it in, whatever pulls on it, unless it is pushed out
through the wall. Lip armature keeps the spring's period (20 ms) ten steps long.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import mujoco
import numpy as np

from hilserl_bench.envs.props import FIT_SOLREF, add_box, add_chamfer, body_frame

CLIP_LENGTH = 0.020
FLOOR_HEIGHT = 0.008
WALL_THICKNESS = 0.002
LIP_REACH, LIP_CHAMFER, LIP_HEIGHT = 0.0005, 0.0005, 0.0012
LIP_TRAVEL, LIP_PRELOAD, LIP_STIFFNESS = 0.0008, 0.6, 2000.0
LIP_MASS, LIP_ARMATURE = 0.0005, 0.02
CLIP_FRICTION = 0.3
_RGBA = (0.9, 0.9, 0.88, 1.0)
_LIP_RGBA = (0.95, 0.55, 0.15, 1.0)
_STOP_SOLIMP = (0.99, 0.999, 0.001, 0.5, 2.0)


@dataclass(frozen=True)
class CableClipNames:
    """Element names and dimensions of the clip."""

    body: str
    """Static body, frame at the channel floor's centre."""
    lip_bodies: tuple[str, str]
    """The +y and -y lips (their rest frames sit on the wall lines at the walls' top)."""
    lip_joints: tuple[str, str]
    """Their slide joints (0 = closed against the stop, positive = pushed outward)."""
    fit_geoms: tuple[str, ...]
    """Floor, walls and lip geoms (the clip side of the tight-fit pair)."""
    pose: tuple[float, ...]
    """Base-frame pose of the clip frame."""
    half_width: float
    """Channel half-width (m)."""
    lip_bottom: float
    """Height of the lips' flat bottoms above the floor (m)."""
    length: float = CLIP_LENGTH
    """Channel length (m)."""


def add_cable_clip(spec: mujoco.MjSpec, table_pose: Sequence[float], cable_radius: float, prefix: str = "",
                   clearance: float = 0.0001) -> CableClipNames:
    """Add the clip standing on the table at ``table_pose`` (channel along its x) for a cable of ``cable_radius``."""
    table_pose = np.asarray(table_pose, dtype=np.float64)
    pose = table_pose.copy()
    pose[:3] += np.array([0.0, 0.0, FLOOR_HEIGHT])
    clip = spec.worldbody.add_body(name=f"{prefix}cable_clip", **body_frame(pose))
    w = cable_radius + clearance
    lip_bottom = 2 * cable_radius + 0.00015
    l2, out = CLIP_LENGTH / 2, w + WALL_THICKNESS
    names: list[str] = []

    def box(body: mujoco.MjsBody, tag: str, lo: Sequence[float], hi: Sequence[float], rgba=_RGBA, **kw) -> None:
        names.append(add_box(body, f"{prefix}clip_{tag}", lo, hi, rgba, fit=True, friction=CLIP_FRICTION, **kw).name)

    box(clip, "base", (-l2, -out - 0.001, -FLOOR_HEIGHT), (l2, out + 0.001, 0.0))
    lips, joints = [], []
    for s, tag in ((1.0, "pos"), (-1.0, "neg")):
        y0, y1 = sorted((s * w, s * out))
        box(clip, f"wall_{tag}", (-l2, y0, 0.0), (l2, y1, lip_bottom))
        lip = clip.add_body(name=f"{prefix}clip_lip_{tag}", pos=[0.0, s * w, lip_bottom])
        stiffness = LIP_STIFFNESS
        joint = lip.add_joint(name=f"{prefix}clip_lip_{tag}_slide", type=mujoco.mjtJoint.mjJNT_SLIDE,
                              axis=[0.0, s, 0.0], range=[0.0, LIP_TRAVEL], limited=mujoco.mjtLimited.mjLIMITED_TRUE,
                              springref=-LIP_PRELOAD / stiffness, armature=LIP_ARMATURE,
                              solref_limit=list(FIT_SOLREF), solimp_limit=list(_STOP_SOLIMP))
        joint.stiffness[0] = stiffness
        joint.damping[0] = 2.0 * np.sqrt(stiffness * (LIP_MASS + LIP_ARMATURE))
        flat = LIP_HEIGHT - LIP_CHAMFER
        y0, y1 = sorted((-s * LIP_REACH, s * WALL_THICKNESS))
        box(lip, f"lip_{tag}_ledge", (-l2, y0, 0.0), (l2, y1, flat), _LIP_RGBA, mass=LIP_MASS / 2)
        y0, y1 = sorted((0.0, s * WALL_THICKNESS))
        box(lip, f"lip_{tag}_top", (-l2, y0, flat), (l2, y1, LIP_HEIGHT), _LIP_RGBA, mass=LIP_MASS / 2)
        names.append(add_chamfer(lip, f"{prefix}clip_lip_{tag}_lead", (0.0, 0.0, LIP_HEIGHT), (0.0, s, 0.0),
                                 (0.0, 0.0, 1.0), -LIP_REACH, LIP_CHAMFER, l2, _LIP_RGBA,
                                 friction=CLIP_FRICTION, recess=0.0).name)
        spec.add_exclude(bodyname1=clip.name, bodyname2=lip.name)
        lips.append(lip.name)
        joints.append(joint.name)
    return CableClipNames(body=clip.name, lip_bodies=(lips[0], lips[1]), lip_joints=(joints[0], joints[1]),
                          fit_geoms=tuple(names), pose=tuple(pose.tolist()), half_width=w, lip_bottom=lip_bottom)
