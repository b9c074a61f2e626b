"""A pan held by its handle, and the egg that is flipped (turned over) in it.

Pan: a square 22 cm griddle (box floor, four 2.5 cm walls) on a 14 cm handle, 0.4 kg in
all. Its body frame sits on the floor's top surface at the centre, z along the floor
normal, x toward the far wall (away from the handle). ``gravcomp`` = 1 stands for the
payload the real arm is told about (/set_load), so only the egg's weight is
uncompensated, as on hardware.

Egg: an ellipsoid of a hen's egg's size and mass lying on its side, with a red mark on
its egg +z side (the "up" side the official 3-way classifier sees), so "flipped" (the
mark facing the pan floor) is well defined. Contacts use the stiff prop parameters
(see :mod:`hilserl_bench.envs.props`) so a 60 g egg does not sink into the floor;
condim 6 with a small rolling friction lets a rolling egg slow down.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from hilserl_bench.envs.props import FIT_SOLIMP, FIT_SOLREF, METAL, PROP_CONAFFINITY, PROP_CONTYPE, body_frame

PAN_HALF = 0.11
"""Half the floor's side (m)."""
FLOOR_HALF_THICKNESS = 0.003
WALL_HEIGHT = 0.025
WALL_HALF_THICKNESS = 0.002
HANDLE_LENGTH = 0.14
HANDLE_HALF_WIDTH = 0.01
HANDLE_HALF_HEIGHT = 0.008
PAN_MASS = 0.4
EGG_SEMI_AXES = (0.0285, 0.022, 0.022)
"""A hen's egg: 57 mm long, 44 mm across (long axis = egg x)."""
EGG_MASS = 0.06
EGG_ROLLING_FRICTION = 2e-4
"""Rolling resistance (m): a rolling egg on a level pan slows down over a few turns, as a real one does."""
HANDLE_GRASP_IN_PAN = np.array([-(PAN_HALF + HANDLE_LENGTH - 0.03), 0.0, HANDLE_HALF_HEIGHT, 0.0, 0.0, 0.0, 1.0])
"""Pose (pan frame) of the point the fingers hold: 3 cm from the handle's end, mid-height."""
PAN_DARK = (0.15, 0.15, 0.17, 1.0)
EGG_SHELL = (0.93, 0.86, 0.72, 1.0)
EGG_MARK = (0.85, 0.15, 0.1, 1.0)


@dataclass(frozen=True)
class PanNames:
    """Element names of the pan and disc."""

    pan: str
    """Pan body (free joint; welded to the hand at reset)."""
    egg: str
    """Egg body (free joint)."""
    contact_geoms: tuple[str, ...]
    """Pan geoms the egg touches (floor and walls)."""


def _geom(body: mujoco.MjsBody, name: str, gtype: mujoco.mjtGeom, pos, size, rgba, mass: float,
          friction: float = 0.6) -> mujoco.MjsGeom:
    geom = body.add_geom(name=name, type=gtype, pos=list(pos), size=list(size), rgba=list(rgba), mass=mass,
                         friction=[friction, 0.005, 0.0001])
    geom.contype, geom.conaffinity = PROP_CONTYPE, PROP_CONAFFINITY
    geom.solref, geom.solimp = list(FIT_SOLREF), list(FIT_SOLIMP)
    return geom


def add_pan(spec: mujoco.MjSpec, pose: np.ndarray, egg_pose: np.ndarray, prefix: str = "") -> PanNames:
    """Add the pan (and the egg at ``egg_pose``) as free bodies; tasks weld the pan into the hand."""
    box = mujoco.mjtGeom.mjGEOM_BOX
    pan = spec.worldbody.add_body(name=f"{prefix}pan", gravcomp=1.0, **body_frame(pose))
    pan.add_freejoint(name=f"{prefix}pan_free")
    floor_mass, wall_mass, handle_mass = 0.6 * PAN_MASS, 0.05 * PAN_MASS, 0.2 * PAN_MASS
    names = [f"{prefix}pan_floor"]
    _geom(pan, names[0], box, (0, 0, -FLOOR_HALF_THICKNESS), (PAN_HALF, PAN_HALF, FLOOR_HALF_THICKNESS),
          PAN_DARK, floor_mass)
    half_h = WALL_HEIGHT / 2
    for i, (x, y, sx, sy) in enumerate(((PAN_HALF, 0, WALL_HALF_THICKNESS, PAN_HALF),
                                        (-PAN_HALF, 0, WALL_HALF_THICKNESS, PAN_HALF),
                                        (0, PAN_HALF, PAN_HALF, WALL_HALF_THICKNESS),
                                        (0, -PAN_HALF, PAN_HALF, WALL_HALF_THICKNESS))):
        names.append(f"{prefix}pan_wall{i}")
        _geom(pan, names[-1], box, (x, y, half_h), (sx, sy, half_h), PAN_DARK, wall_mass)
    _geom(pan, f"{prefix}pan_handle", box, (-PAN_HALF - HANDLE_LENGTH / 2, 0, HANDLE_HALF_HEIGHT),
          (HANDLE_LENGTH / 2, HANDLE_HALF_WIDTH, HANDLE_HALF_HEIGHT), METAL, handle_mass)
    egg = spec.worldbody.add_body(name=f"{prefix}egg", **body_frame(egg_pose))
    egg.add_freejoint(name=f"{prefix}egg_free")
    shell = _geom(egg, f"{prefix}egg", mujoco.mjtGeom.mjGEOM_ELLIPSOID, (0, 0, 0), EGG_SEMI_AXES, EGG_SHELL,
                  EGG_MASS, 0.5)
    shell.condim = 6
    shell.friction = [0.5, 0.005, EGG_ROLLING_FRICTION]
    marker = egg.add_geom(name=f"{prefix}egg_marker", type=mujoco.mjtGeom.mjGEOM_BOX,
                          pos=[0, 0, EGG_SEMI_AXES[2] - 0.002], size=[EGG_SEMI_AXES[0] * 0.5, 0.008, 0.0025],
                          rgba=list(EGG_MARK))
    marker.contype = marker.conaffinity = 0
    marker.density, marker.group = 0.0, 2
    return PanNames(pan=f"{prefix}pan", egg=f"{prefix}egg", contact_geoms=tuple(names))
