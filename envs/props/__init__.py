"""Task props built from boxes straight into a ``mujoco.MjSpec``: DIMM slot, RAM stick, USB port and plug.

Every builder adds bodies to ``spec.worldbody`` (or to a given parent body) with a name
prefix, at a base-frame pose ``[x, y, z, qx, qy, qz, qw]``, and returns a frozen
dataclass of the element names and key dimensions a task needs. Geometry comes from
real part dimensions; nothing is loaded from files.

Tight-fit contact parameters (shared by every surface that takes part in a fit):

* ``solref = (0.004, 1.25)``: the shortest time constant MuJoCo allows at dt = 2 ms
  (refsafe clamps timeconst to 2 dt); steady penetration scales with timeconst**2, so
  this is 25x stiffer than the default 0.02. Slightly over-damped: impacts of a 20 g
  part driven by a 1.5 kg hand at 20 N peaked at 1.3 mm with dampratio 1 (the part
  chattered on the bed) and at 0.5-0.65 mm with 1.25, while steady penetration stays
  under 0.1 mm at 10 N and ~0.3 mm at 20 N. Larger dampratios soften the steady contact.
* ``solimp = (0.95, 0.99, 0.001)``: impedance rises to 0.99 within 1 mm of penetration,
  the Franka finger pads' values. Pushing dmin/dmax toward 1 made impact transients worse.
* ``margin = gap = 0``: a margin without an equal gap inflates the geoms and would eat
  the 0.2-0.3 mm clearances; with an equal gap the box-box contacts of the walls turn
  speculative and stop a fast stick at the mouth.
* Sliding friction 0.3-0.5 (PCB/plastic/metal on plastic or metal) on fit surfaces:
  45-degree lead-in chamfers only guide when friction < 1. MuJoCo takes the max over a
  pair, so a 1.2-friction finger pad still grips a 0.4-friction part at 1.2.
"""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np

from hilserl_bench import geometry as geo

PROP_CONTYPE, PROP_CONAFFINITY = 1, 3
FIT_SOLREF = (0.004, 1.25)
FIT_SOLIMP = (0.95, 0.99, 0.001, 0.5, 2.0)
FIT_CONDIM = 3
FIT_MARGIN = 0.0
CHAMFER_RECESS = 0.0002

BLACK = (0.08, 0.08, 0.09, 1.0)
PCB_GREEN = (0.05, 0.38, 0.16, 1.0)
GOLD = (0.85, 0.68, 0.22, 1.0)
METAL = (0.72, 0.73, 0.76, 1.0)
WHITE = (0.88, 0.88, 0.86, 1.0)


def body_frame(pose: Sequence[float]) -> dict[str, list[float]]:
    """``pos``/``quat`` keyword arguments (MuJoCo w-x-y-z) of a 7-vector pose."""
    pose = np.asarray(pose, dtype=np.float64)
    if pose.shape != (7,):
        raise ValueError(f"pose must be [x, y, z, qx, qy, qz, qw], got shape {pose.shape}")
    return {"pos": pose[:3].tolist(), "quat": geo.quat_to_mujoco(geo.quat_normalize(pose[3:])).tolist()}


def add_box(
    body: mujoco.MjsBody,
    name: str,
    lo: Sequence[float],
    hi: Sequence[float],
    rgba: Sequence[float],
    *,
    fit: bool = False,
    friction: float = 0.5,
    mass: float | None = None,
    visual: bool = False,
) -> mujoco.MjsGeom:
    """Axis-aligned box spanning corners ``lo``..``hi`` in the body frame.

    ``fit`` gives it the tight-fit contact parameters; ``visual`` makes it collide with
    nothing (decals that sit proud of a colliding surface).
    """
    lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
    if np.any(hi <= lo):
        raise ValueError(f"box {name!r} has an empty extent: {lo} .. {hi}")
    return _geom(body, name, 0.5 * (lo + hi), None, 0.5 * (hi - lo), rgba, fit, friction, mass, visual)


def add_chamfer(
    body: mujoco.MjsBody,
    name: str,
    origin: Sequence[float],
    u_axis: Sequence[float],
    v_axis: Sequence[float],
    edge_in: float,
    c: float,
    half_len: float,
    rgba: Sequence[float],
    *,
    thickness: float = 0.001,
    friction: float = 0.5,
    recess: float = CHAMFER_RECESS,
) -> mujoco.MjsGeom:
    """A 45-degree lead-in slab on one edge of an opening.

    The opening's mouth plane passes through ``origin`` with ``v_axis`` pointing out of it
    (toward the arriving part); the wall's inner face lies at ``edge_in`` along ``u_axis``
    (pointing from the opening into the wall). The slope rises from ``edge_in`` at depth
    ``c`` toward ``edge_in + c`` at the mouth and the slab lies behind it, inside the wall,
    so nothing pokes into the opening or above the mouth. The slope stops ``recess`` below
    the mouth: a part pressed flat on the face sinks a fraction of a millimetre into it,
    and a slope reaching the face plane would then push it sideways into the opening.
    """
    o, u, v = (np.asarray(a, dtype=np.float64) for a in (origin, u_axis, v_axis))
    along, behind = (u + v) / np.sqrt(2.0), (u - v) / np.sqrt(2.0)
    run = c - recess
    mid = o + (edge_in + run / 2) * u - (c - run / 2) * v
    rot = np.column_stack([along, behind, np.cross(along, behind)])
    quat = geo.quat_to_mujoco(geo.mat_to_quat(rot)).tolist()
    half = np.array([run * np.sqrt(2.0) / 2, thickness / 2, half_len])
    return _geom(body, name, mid + behind * thickness / 2, quat, half, rgba, True, friction, None, False)


def _geom(body: mujoco.MjsBody, name: str, pos: np.ndarray, quat: Sequence[float] | None, half: np.ndarray,
          rgba: Sequence[float], fit: bool, friction: float, mass: float | None, visual: bool) -> mujoco.MjsGeom:
    geom = body.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_BOX, pos=pos.tolist(), size=half.tolist(),
                         rgba=list(rgba), friction=[friction, 0.005, 0.0001])
    if quat is not None:
        geom.quat = list(quat)
    if visual:
        geom.contype, geom.conaffinity, geom.group, geom.density = 0, 0, 2, 0.0
        return geom
    geom.contype, geom.conaffinity = PROP_CONTYPE, PROP_CONAFFINITY
    if fit:
        geom.solref, geom.solimp, geom.condim = list(FIT_SOLREF), list(FIT_SOLIMP), FIT_CONDIM
        geom.margin = geom.gap = FIT_MARGIN
    if mass is not None:
        geom.mass = mass
    return geom
