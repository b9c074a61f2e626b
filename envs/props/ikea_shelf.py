"""IKEA-style shelf props: a base board with dowel holes, two side panels, a top panel, 8 mm dowels.

Sizes and masses are a small real shelf's, in 16-18 mm particleboard (650 kg/m^3):

* base board 20 x 34 x 1.8 cm, fixed to the table (the assembly fixture), four dowel holes;
* side panel 20 cm deep x 20 cm tall x 16 mm (0.42 kg), two dowels pre-set in its bottom edge
  (pointing down) and two holes in its top edge;
* top panel 20 x 28 x 1.6 cm (0.58 kg), four dowels pre-set in its underside, 2 mm proud of
  the side panels' outer faces.

Dowels are 8 mm wooden pins (capsules of radius 4 mm: the round end is the pin's chamfer)
standing 12 mm proud. Holes are 8.5 mm square (0.25 mm clearance per side on the flats, the
range of a drilled hole in chipboard) and 14 mm deep, with 1 mm 45-degree lead-in chamfers on
all four mouth edges. Every surface that takes part in a fit uses the project's tight-fit
contact parameters (``props.FIT_SOLREF`` / ``FIT_SOLIMP``, zero margin: a margin larger than the
clearance would close the hole).

A board with holes is built from boxes: the layer the holes cut through is a grid split at
every hole edge (and one chamfer width beyond), each grid row merged into as few boxes as
possible; the four cells bordering a hole stop one chamfer width below the mouth, where the
lead-in slab takes over.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from hilserl_bench.envs.props import (
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

DENSITY = 650.0
BOARD = 0.016
DOWEL_RADIUS = 0.004
DOWEL_OUT = 0.012
"""How far a pre-set dowel stands proud of its panel (m)."""
DOWEL_IN = 0.018
HOLE_HALF = 0.00425
HOLE_DEPTH = 0.014
CHAMFER = 0.001
CLEARANCE = HOLE_HALF - DOWEL_RADIUS
BASE_HALF = (0.10, 0.17)
BASE_TOP = 0.018
SIDE_HALF_X = 0.10
SIDE_HEIGHT = 0.20
SIDE_Y = 0.13
"""World |y| of each side panel's mid-plane (panel 1 at +y, panel 2 at -y) relative to the base centre."""
DOWEL_X = (-0.06, 0.06)
"""Dowel (and hole) positions along each joint, in the panel's x."""
TOP_HALF_Y = 0.14
SIDE_MASS = 2 * SIDE_HALF_X * SIDE_HEIGHT * BOARD * DENSITY
TOP_MASS = 2 * SIDE_HALF_X * 2 * TOP_HALF_Y * BOARD * DENSITY
WOOD = (0.86, 0.78, 0.62, 1.0)
BIRCH = (0.93, 0.89, 0.80, 1.0)
DOWEL_RGBA = (0.75, 0.60, 0.38, 1.0)
PANELS = ("side_panel_1", "side_panel_2", "top_panel")
GRIP_X = (0.067, SIDE_HALF_X)
"""Side-panel top-edge stretch (|x|, m) clear of the holes that is one solid block, where the hands pinch."""
NO_ROBOT_CONTYPE, NO_ROBOT_CONAFFINITY = 4, 1
"""A side panel's hole-layer boxes meet props but not fingers: some are under 3 mm thick, and a pad
squeezing one of those at 70 N pushed through it and flipped the contact (the panel was launched at
reset); fingers closing on a side panel meet the solid grip blocks and the board's core instead.
(The stage tasks now hold panels by TCP welds with the fingers open; see ``tasks/ikea_shelf.py``.)"""


@dataclass(frozen=True)
class ShelfNames:
    """Geom names of each part, for the tight-fit penetration groups."""

    parts: dict[str, tuple[str, ...]]
    """Part name (``base`` or one of :data:`PANELS`) -> its colliding geoms."""


def side_dowels() -> np.ndarray:
    """Dowel axis points at a side panel's bottom face (panel frame), one row per dowel."""
    return np.array([[x, 0.0, 0.0] for x in DOWEL_X])


def top_dowels() -> np.ndarray:
    """Dowel axis points at the top panel's bottom face (its frame), side panel 1's first."""
    return np.array([[x, s * SIDE_Y, 0.0] for s in (1.0, -1.0) for x in DOWEL_X])


def _merged_rows(edges_x: list[float], edges_y: list[float], lowered: set, holes: set):
    """Yield (x0, x1, y0, y1, lowered) boxes: grid cells row by row, runs of equal height merged."""
    for j in range(len(edges_y) - 1):
        run = None
        for i in range(len(edges_x) - 1):
            kind = None if (i, j) in holes else ((i, j) in lowered)
            if run is not None and kind == run[2]:
                run[1] = i + 1
                continue
            if run is not None and run[2] is not None:
                yield edges_x[run[0]], edges_x[run[1]], edges_y[j], edges_y[j + 1], run[2]
            run = [i, i + 1, kind]
        if run is not None and run[2] is not None:
            yield edges_x[run[0]], edges_x[run[1]], edges_y[j], edges_y[j + 1], run[2]


def add_holed_board(body: mujoco.MjsBody, name: str, half_x: float, half_y: float, z0: float, top: float,
                    holes: np.ndarray, rgba: tuple) -> list[str]:
    """A board from ``z0`` to ``top`` with square dowel holes entering its top face at ``holes`` (x, y)."""
    h, c = HOLE_HALF, CHAMFER
    floor = top - HOLE_DEPTH
    names = [add_box(body, f"{name}_core", (-half_x, -half_y, z0), (half_x, half_y, floor), rgba, fit=True).name]
    ex = sorted({-half_x, half_x, *[x + s for x, _ in holes for s in (-h - c, -h, h, h + c)]})
    ey = sorted({-half_y, half_y, *[y + s for _, y in holes for s in (-h - c, -h, h, h + c)]})
    ex = [v for v in ex if -half_x <= v <= half_x]
    ey = [v for v in ey if -half_y <= v <= half_y]
    idx_x = {round(v, 7): i for i, v in enumerate(ex)}
    idx_y = {round(v, 7): i for i, v in enumerate(ey)}
    hole_cells, lowered = set(), set()
    for x, y in holes:
        i, j = idx_x[round(x - h, 7)], idx_y[round(y - h, 7)]
        hole_cells.add((i, j))
        lowered.update({(i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)})
    for k, (x0, x1, y0, y1, low) in enumerate(_merged_rows(ex, ey, lowered, hole_cells)):
        names.append(add_box(body, f"{name}_cell{k}", (x0, y0, floor), (x1, y1, top - (c if low else 0.0)),
                             rgba, fit=True).name)
    for n, (x, y) in enumerate(holes):
        for m, u in enumerate(((1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0))):
            names.append(add_chamfer(body, f"{name}_hole{n}_lead{m}", (x, y, top), u, (0, 0, 1), h, c, h, rgba,
                                     friction=0.4).name)
    return names


def _add_dowel(body: mujoco.MjsBody, name: str, point: np.ndarray) -> str:
    """A pin pre-set in ``body`` at ``point`` on its bottom face, standing DOWEL_OUT proud downward."""
    x, y, z = (float(v) for v in point)
    r = DOWEL_RADIUS
    geom = body.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_CAPSULE, size=[r, 0, 0],
                         fromto=[x, y, z - DOWEL_OUT + r, x, y, z + DOWEL_IN - r], rgba=list(DOWEL_RGBA),
                         friction=[0.4, 0.005, 0.0001])
    geom.contype, geom.conaffinity = PROP_CONTYPE, PROP_CONAFFINITY
    geom.solref, geom.solimp, geom.condim = list(FIT_SOLREF), list(FIT_SOLIMP), FIT_CONDIM
    geom.margin = geom.gap = FIT_MARGIN
    geom.mass = 0.002
    return geom.name


def add_base(spec: mujoco.MjSpec, pose: np.ndarray) -> list[str]:
    """The fixed base board (origin at its bottom centre on the table) with both side panels' holes."""
    body = spec.worldbody.add_body(name="shelf_base", **body_frame(pose))
    holes = np.array([[x, s * SIDE_Y] for s in (1.0, -1.0) for x in DOWEL_X])
    return add_holed_board(body, "shelf_base", *BASE_HALF, 0.0, BASE_TOP, holes, BIRCH)


def add_side_panel(spec: mujoco.MjSpec, name: str, pose: np.ndarray) -> list[str]:
    """A free side panel: origin at its bottom-face centre, height along z, thickness along y."""
    body = spec.worldbody.add_body(name=name, **body_frame(pose))
    body.add_freejoint(name=f"{name}_joint")
    t = BOARD / 2
    holes = np.array([[x, 0.0] for x in DOWEL_X])
    geoms = add_holed_board(body, name, SIDE_HALF_X, t, 0.0, SIDE_HEIGHT, holes, WOOD)
    for g in geoms:
        spec.geom(g).density = DENSITY
        if not g.endswith("_core"):
            spec.geom(g).contype, spec.geom(g).conaffinity = NO_ROBOT_CONTYPE, NO_ROBOT_CONAFFINITY
    top = SIDE_HEIGHT - HOLE_DEPTH
    for k, side in enumerate((1.0, -1.0)):
        lo, hi = sorted((side * GRIP_X[0], side * GRIP_X[1]))
        grip = add_box(body, f"{name}_grip{k}", (lo, -t, top), (hi, t, SIDE_HEIGHT), WOOD, fit=True)
        grip.density = DENSITY
        geoms.append(grip.name)
    geoms += [_add_dowel(body, f"{name}_dowel{k}", p) for k, p in enumerate(side_dowels())]
    return geoms


def add_top_panel(spec: mujoco.MjSpec, pose: np.ndarray) -> list[str]:
    """The free top panel: origin at its bottom-face centre, dowels pointing down."""
    body = spec.worldbody.add_body(name="top_panel", **body_frame(pose))
    body.add_freejoint(name="top_panel_joint")
    board = add_box(body, "top_panel_board", (-SIDE_HALF_X, -TOP_HALF_Y, 0.0), (SIDE_HALF_X, TOP_HALF_Y, BOARD),
                    WOOD, fit=True, mass=TOP_MASS)
    return [board.name, *(_add_dowel(body, f"top_panel_dowel{k}", p) for k, p in enumerate(top_dowels()))]


def add_shelf(spec: mujoco.MjSpec, base_pose: np.ndarray, storage: dict[str, np.ndarray]) -> ShelfNames:
    """Base board plus the three free panels at their ``storage`` poses (world)."""
    parts = {"base": tuple(add_base(spec, base_pose))}
    for name in PANELS[:2]:
        parts[name] = tuple(add_side_panel(spec, name, storage[name]))
    parts["top_panel"] = tuple(add_top_panel(spec, storage["top_panel"]))
    return ShelfNames(parts)
