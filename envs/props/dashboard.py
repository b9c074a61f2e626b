"""Car dashboard assembly props: a dashboard frame with snap-fit clips, and a wide panel with clip pegs.

Frame: a 50 cm beam across the table (along world y), its top 5 cm above the table, with one
clip socket per panel peg. Clip frame: origin at the socket mouth centre on the beam top, z up,
x toward the far side of the table. Each socket is a square hole 12 mm across (1 mm clearance
around the 10 mm peg shaft) with 2 mm 45-degree lead-ins on three mouth edges; its fourth (+x)
wall is the **latch**: a 5 g tooth on a slide joint along x, pushed toward the hole by a spring
(1500 N/m, preloaded 4.5 N against its stop). The tooth's top edge is rounded (3 mm radius), its underside flat.

Panel: a 46 x 8 x 1 cm plate (400 g) with a grip handle near each end (3 cm blocks, one per
hand) and one peg under each clip. A peg is a 10 mm square shaft 25 mm long ending in an 8 mm
tall head that sticks out 2.5 mm toward +x. Pressing the panel down, the head's corner meets
the rounded tooth and pushes it back 2 mm (the spring then pushes 7.5 N, so with friction
the press takes ~12-15 N per clip); once the head's top shoulder passes under the tooth (the
plate within 0.5 mm of the beam top) the tooth snaps back over it: the clip is engaged and the
panel can no longer lift more than 0.5 mm. That is the detent: the spring force rises while the
head passes, then drops as the tooth snaps home, and only the engaged state holds the panel down.

Nothing is checked by pose alone: engagement is the tooth's position (back at its stop) plus the
plate's seat gap, read from the simulated mechanism.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from hilserl_bench.envs.props import (
    BLACK,
    FIT_CONDIM,
    FIT_MARGIN,
    FIT_SOLIMP,
    FIT_SOLREF,
    PROP_CONAFFINITY,
    PROP_CONTYPE,
    add_box,
    add_chamfer,
    body_frame,
)

FRAME_TOP = 0.05
BEAM_HALF = (0.03, 0.25)
CLIP_Y = (0.15, -0.15)
"""Clip (and peg) positions along the beam / panel, m; the first is on the left arm's side."""
HOLE = (-0.006, 0.018, 0.006)
"""Socket hole: x from -6 mm to +18 mm (room for the latch to slide back), y +/-6 mm."""
HOLE_DEPTH = 0.035
LEAD_IN = 0.002
SHAFT_HALF = 0.005
PEG_LENGTH = 0.025
HEAD_HEIGHT = 0.008
HEAD_X = 0.0075
HEAD_ROUND = 0.0015
"""Radius of the head's rounded outer bottom edge. Round edges on both parts (this and the tooth's
nose): with box corners and 45-degree slabs the head came to rest on the edge where a ramp met the
tooth face (measured: stuck 0.1 to 1 mm short on both clips, box-box contacts with vertical normals)."""
LATCH_X = 0.0055
"""Tooth face at rest (clip frame x); the head sticks out to 7.5 mm, so it overlaps 2 mm."""
LATCH_Z = (-0.0165, -0.005)
LATCH_NOSE = 0.003
"""Radius of the tooth's rounded top edge (its lead-in for the head)."""
LATCH_TRAVEL = 0.004
LATCH_STIFFNESS = 1500.0
LATCH_PRELOAD = 4.5
LATCH_MASS = 0.005
PLATE_HALF = (0.04, 0.23, 0.005)
PANEL_MASS = 0.4
HANDLE_Y = 0.2
HANDLE_HALF = (0.015, 0.015, 0.02)
FRAME_RGBA = (0.2, 0.21, 0.24, 1.0)
PANEL_RGBA = (0.55, 0.5, 0.45, 1.0)
HANDLE_RGBA = (0.15, 0.35, 0.75, 1.0)
LATCH_RGBA = (0.9, 0.75, 0.1, 1.0)


@dataclass(frozen=True)
class DashboardNames:
    """Element names of the frame and panel."""

    frame: str
    panel: str
    latches: tuple[str, ...]
    """Latch bodies, in :data:`CLIP_Y` order."""
    latch_joints: tuple[str, ...]
    frame_fit: tuple[str, ...]
    panel_fit: tuple[str, ...]


def add_dashboard_frame(spec: mujoco.MjSpec, pose: np.ndarray, prefix: str = "") -> tuple[str, tuple, tuple, tuple]:
    """The beam with its clip sockets and spring latches; returns (body, latch bodies, latch joints, fit geoms)."""
    frame = spec.worldbody.add_body(name=f"{prefix}dash_frame", **body_frame(pose))
    bx, by = BEAM_HALF
    top, floor = FRAME_TOP, FRAME_TOP - HOLE_DEPTH
    fit = [add_box(frame, f"{prefix}beam_base", (-bx, -by, 0.0), (bx, by, floor), FRAME_RGBA, fit=True).name]
    x0, x1, hy = HOLE
    edges = sorted([-by, by, *[y + s * hy for y in CLIP_Y for s in (-1, 1)]])
    for i in range(0, len(edges), 2):
        fit.append(add_box(frame, f"{prefix}beam_seg{i // 2}", (-bx, edges[i], floor), (bx, edges[i + 1], top),
                           FRAME_RGBA, fit=True).name)
    latches, joints = [], []
    for k, y in enumerate(CLIP_Y):
        fit.append(add_box(frame, f"{prefix}clip{k}_back", (-bx, y - hy, floor), (x0, y + hy, top), FRAME_RGBA,
                           fit=True).name)
        fit.append(add_box(frame, f"{prefix}clip{k}_front", (x1, y - hy, floor), (bx, y + hy, top), FRAME_RGBA,
                           fit=True).name)
        mouth = (0.0, y, top)
        for j, (u, edge) in enumerate((((-1, 0, 0), -x0), ((0, 1, 0), hy), ((0, -1, 0), hy))):
            fit.append(add_chamfer(frame, f"{prefix}clip{k}_lead{j}", mouth, u, (0, 0, 1), edge, LEAD_IN,
                                   hy if j == 0 else 0.5 * (x1 - x0), FRAME_RGBA).name)
        latch, joint, geoms = _add_latch(spec, frame, f"{prefix}clip{k}", y, top)
        latches.append(latch)
        joints.append(joint)
        fit.extend(geoms)
    return frame.name, tuple(latches), tuple(joints), tuple(fit)


def _add_latch(spec: mujoco.MjSpec, frame: mujoco.MjsBody, name: str, y: float, top: float):
    body = frame.add_body(name=f"{name}_latch", pos=[0.0, y, top])
    joint = body.add_joint(name=f"{name}_latch_slide", type=mujoco.mjtJoint.mjJNT_SLIDE, axis=[1, 0, 0],
                           range=[0.0, LATCH_TRAVEL], limited=mujoco.mjtLimited.mjLIMITED_TRUE,
                           springref=-LATCH_PRELOAD / LATCH_STIFFNESS, armature=0.02,
                           solref_limit=list(FIT_SOLREF))
    joint.stiffness[0] = LATCH_STIFFNESS
    joint.damping[0] = 2.0 * np.sqrt(LATCH_STIFFNESS * (LATCH_MASS + 0.02))
    hy = HOLE[2] - 0.0005
    z0, z1 = LATCH_Z
    r, back = LATCH_NOSE, LATCH_X + 0.006
    geoms = [
        add_box(body, f"{name}_tooth", (LATCH_X + 0.0003, -hy, z0), (back, hy, z1 - r), LATCH_RGBA, fit=True,
                friction=0.3, mass=LATCH_MASS).name,
        add_box(body, f"{name}_tooth_top", (LATCH_X + r, -hy, z1 - r), (back, hy, z1), LATCH_RGBA, fit=True,
                friction=0.3, mass=1e-4).name,
        _fit_capsule(body, f"{name}_nose", (LATCH_X + r, 0.0, z1 - r), r, hy - r, LATCH_RGBA),
    ]
    spec.add_exclude(bodyname1=body.name, bodyname2=frame.name)
    return body.name, joint.name, geoms


def add_dashboard_panel(spec: mujoco.MjSpec, pose: np.ndarray, prefix: str = "") -> tuple[str, tuple[str, ...]]:
    """The free panel (origin at the plate's bottom-face centre, z up); returns (body, fit geoms)."""
    panel = spec.worldbody.add_body(name=f"{prefix}panel", **body_frame(pose))
    panel.add_freejoint(name=f"{prefix}panel_joint")
    px, py, pz = PLATE_HALF
    plate = add_box(panel, f"{prefix}panel_plate", (-px, -py, 0.0), (px, py, 2 * pz), PANEL_RGBA, fit=True,
                    mass=PANEL_MASS * 0.8)
    fit = [plate.name]
    hx, hyy, hz = HANDLE_HALF
    for k, side in enumerate((1.0, -1.0)):
        handle = add_box(panel, f"{prefix}panel_handle{k}", (-hx, side * HANDLE_Y - hyy, 2 * pz),
                         (hx, side * HANDLE_Y + hyy, 2 * pz + 2 * hz), HANDLE_RGBA, friction=1.0, mass=0.02)
        handle.priority, handle.condim = 2, 4
        handle.solref, handle.solimp = [0.006, 1.0], [0.95, 0.99, 0.001, 0.5, 2.0]
    s = SHAFT_HALF
    for k, y in enumerate(CLIP_Y):
        fit.append(add_box(panel, f"{prefix}peg{k}_shaft", (-s, y - s, -PEG_LENGTH + HEAD_HEIGHT), (s, y + s, 0.0),
                           BLACK, fit=True, friction=0.3, mass=0.01).name)
        b, z0 = HEAD_ROUND, -PEG_LENGTH
        fit.append(add_box(panel, f"{prefix}peg{k}_head", (-s, y - s, z0 + b), (HEAD_X, y + s, z0 + HEAD_HEIGHT),
                           BLACK, fit=True, friction=0.3, mass=0.01).name)
        fit.append(add_box(panel, f"{prefix}peg{k}_head_base", (-s, y - s, z0), (HEAD_X - b, y + s, z0 + b),
                           BLACK, fit=True, friction=0.3).name)
        fit.append(_fit_capsule(panel, f"{prefix}peg{k}_round", (HEAD_X - b, y, z0 + b), b, s - b, BLACK))
    return panel.name, tuple(fit)


def _fit_capsule(body: mujoco.MjsBody, name: str, center: tuple[float, float, float], radius: float, half_y: float,
                 rgba: tuple[float, ...]) -> str:
    """A capsule along y centred at ``center`` (a rounded edge) with the tight-fit contact parameters."""
    x, y, z = center
    geom = body.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_CAPSULE, size=[radius, 0, 0],
                         fromto=[x, y - half_y, z, x, y + half_y, z], rgba=list(rgba), friction=[0.3, 0.005, 0.0001])
    geom.contype, geom.conaffinity = PROP_CONTYPE, PROP_CONAFFINITY
    geom.solref, geom.solimp, geom.condim = list(FIT_SOLREF), list(FIT_SOLIMP), FIT_CONDIM
    geom.margin = geom.gap = FIT_MARGIN
    geom.mass = 1e-4
    return geom.name


def add_panel_rack(spec: mujoco.MjSpec, center_xy: np.ndarray, height: float, prefix: str = "") -> None:
    """Two support blocks the panel rests on at reset, clear of its pegs."""
    rack = spec.worldbody.add_body(name=f"{prefix}panel_rack", pos=[float(center_xy[0]), float(center_xy[1]), 0.0])
    for k, y in enumerate((0.07, -0.07)):
        add_box(rack, f"{prefix}rack{k}", (-0.035, y - 0.025, 0.0), (0.035, y + 0.025, height), FRAME_RGBA, fit=True)
