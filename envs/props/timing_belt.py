"""Timing belt props: a fixture plate with a fixed and a spring-tensioned flanged pulley, and a rubber belt loop.

Fixture (origin at the plate's bottom-face centre, z up, pulleys along y): a 32 x 12 x 1.5 cm
steel plate (4 kg, a free body resting on the table so a reset can place it). Pulley A stands
fixed at y = +10 cm; pulley B rides a tensioner carriage on a slide joint along y, pushed toward
-y (away from A) by a 100 N/m spring preloaded 0.2 N against its stop at y = -10 cm, so the
belt's tension pulls it inward by a few millimetres. Each pulley is a 58 mm hub (its groove
floor) between two 72 mm flanges 10 mm apart (a 4 mm belt sits in a 10 mm groove), on a shaft.

Belt: a closed loop of ``VERTICES`` points, a 1D flex (MuJoCo ``flexcomp``, dof "full", round
section of radius 2 mm, 15 g; a 1D flex has no bending stiffness, like a thin round rubber
belt). Its elasticity is one **tension-only** tendon per edge (a spatial tendon between
neighbouring vertices, limited to its rest length with a soft limit): rubber pulls when
stretched and goes slack when pushed. A flex edge equality would also push back under
compression, and its rest lengths are the lengths of the initial shape; with tendons the belt
starts stretched around the hands while its rest loop is ``REST_LENGTH``. The limit's softness
makes it a spring; measured (``benchmarks/timing_belt_checks.py``, check ``belt_load``) the loop
behaves as an axial stiffness EA of about 2 N (a 4 mm cord of ~0.2 MPa: far softer than real
rubber, 1-5 MPa, see ``BELT_SOLREF`` for why), so every belt force here is small: ~1 N held,
~0.4 N seated.

Sizes: seated path at the tensioner's stop 2 x 0.20 + 2 pi x 0.031 = 0.595 m; rest loop
``REST_LENGTH`` = 0.50 m (19 % stretch seated at the stop, less once the tensioner gives). The
hands hold it stretched around their open fingers (a 0.75 m rounded rectangle, 50 %) as one
would hold a rubber band on two hands.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from hilserl_bench.envs.props import METAL, PROP_CONAFFINITY, PROP_CONTYPE, add_box, body_frame

PLATE_HALF = (0.06, 0.16, 0.0075)
PLATE_MASS = 4.0
PULLEY_Y = 0.10
"""Pulley centres at +/- this along the plate's y (B at its stop)."""
HUB_RADIUS = 0.029
FLANGE_RADIUS = 0.036
FLANGE_THICKNESS = 0.003
GROOVE_LOW, GROOVE_HIGH = 0.048, 0.058
"""Groove (between the flanges) heights above the plate's bottom face (m)."""
GROOVE_Z = 0.5 * (GROOVE_LOW + GROOVE_HIGH)
SHAFT_RADIUS = 0.01
TENSIONER_K = 100.0
TENSIONER_PRELOAD = 0.2
TENSIONER_TRAVEL = 0.03
CARRIAGE_MASS = 0.15
BELT_RADIUS = 0.002
BELT_MASS = 0.015
VERTICES = 30
REST_LENGTH = 0.50
BELT_SOLREF = (-60000.0, -400.0)
BELT_SOLIMP = (0.9, 0.9, 0.001, 0.5, 2.0)
"""Tendon-limit softness, given directly as (-stiffness, -damping) with a constant impedance 0.9 so that it
acts as a spring (steady stretch proportional to tension) rather than a near-hard constraint: with
solimp near 1 a belt started 50 % over its rest length snapped violently and tunnelled through the
finger pads. MuJoCo scales constraint stiffness by the vertex mass, so the axial stiffness is
k * 9 * (m / 2n) * l (about 2 N per unit strain here); k is kept at sqrt(9 k) * dt = 1.5 for stability."""
BELT_FRICTION = 0.8
PLATE_RGBA = (0.32, 0.34, 0.38, 1.0)
PULLEY_RGBA = (0.78, 0.79, 0.82, 1.0)
BELT_RGBA = (0.08, 0.08, 0.09, 1.0)
CARRIAGE_RGBA = (0.85, 0.55, 0.1, 1.0)


@dataclass(frozen=True)
class FixtureNames:
    """Element names of the pulley fixture."""

    plate: str
    tensioner: str
    """The carriage body carrying pulley B."""
    tensioner_joint: str
    pulley_geoms: tuple[str, ...]
    """Every pulley geom (hubs, flanges, shafts)."""
    plate_geom: str


@dataclass(frozen=True)
class BeltNames:
    """Element names of the belt."""

    vertices: tuple[str, ...]
    """Vertex bodies in loop order."""
    flex: str


def add_fixture(spec: mujoco.MjSpec, pose: np.ndarray, prefix: str = "") -> FixtureNames:
    """The plate (free), fixed pulley A at +y and tensioner pulley B at -y."""
    plate = spec.worldbody.add_body(name=f"{prefix}belt_fixture", **body_frame(pose))
    plate.add_freejoint(name=f"{prefix}belt_fixture_joint")
    px, py, pz = PLATE_HALF
    base = add_box(plate, f"{prefix}plate", (-px, -py, 0.0), (px, py, 2 * pz), PLATE_RGBA, friction=1.0,
                   mass=PLATE_MASS)
    base.solref = [0.004, 1.0]
    geoms = _add_pulley(plate, f"{prefix}pulley_a", PULLEY_Y)
    carriage = plate.add_body(name=f"{prefix}tensioner", pos=[0.0, -PULLEY_Y, 2 * pz])
    joint = carriage.add_joint(name=f"{prefix}tensioner_slide", type=mujoco.mjtJoint.mjJNT_SLIDE, axis=[0, 1, 0],
                               range=[0.0, TENSIONER_TRAVEL], limited=mujoco.mjtLimited.mjLIMITED_TRUE,
                               springref=-TENSIONER_PRELOAD / TENSIONER_K, solref_limit=[0.004, 1.0])
    joint.stiffness[0] = TENSIONER_K
    joint.damping[0] = 2.0 * np.sqrt(TENSIONER_K * CARRIAGE_MASS)
    add_box(carriage, f"{prefix}carriage", (-0.025, -0.02, 0.0), (0.025, 0.02, 0.01), CARRIAGE_RGBA,
            mass=CARRIAGE_MASS)
    geoms += _add_pulley(carriage, f"{prefix}pulley_b", 0.0, z0=-2 * pz)
    spec.add_exclude(bodyname1=plate.name, bodyname2=carriage.name)
    return FixtureNames(plate.name, carriage.name, joint.name, tuple(geoms), base.name)


def _add_pulley(body: mujoco.MjsBody, name: str, y: float, z0: float = 0.0) -> list[str]:
    """Shaft, hub and two flanges of one pulley centred at (0, y) of ``body``; heights from the plate bottom."""
    parts = (("shaft", SHAFT_RADIUS, 2 * PLATE_HALF[2], GROOVE_LOW - FLANGE_THICKNESS),
             ("flange_low", FLANGE_RADIUS, GROOVE_LOW - FLANGE_THICKNESS, GROOVE_LOW),
             ("hub", HUB_RADIUS, GROOVE_LOW, GROOVE_HIGH),
             ("flange_high", FLANGE_RADIUS, GROOVE_HIGH, GROOVE_HIGH + FLANGE_THICKNESS))
    names = []
    for part, radius, z_low, z_high in parts:
        geom = body.add_geom(name=f"{name}_{part}", type=mujoco.mjtGeom.mjGEOM_CYLINDER,
                             pos=[0.0, y, z0 + 0.5 * (z_low + z_high)], size=[radius, 0.5 * (z_high - z_low), 0],
                             rgba=list(PULLEY_RGBA if part != "shaft" else METAL), friction=[0.6, 0.005, 0.0001])
        geom.contype, geom.conaffinity = PROP_CONTYPE, PROP_CONAFFINITY
        geom.solref, geom.mass = [0.004, 1.0], 0.02
        names.append(geom.name)
    return names


def belt_path(half_x: float, half_y: float, corner: float, n: int = VERTICES) -> np.ndarray:
    """``n`` points (x, y) around a rounded rectangle, one on each corner's diagonal, the rest spread evenly.

    A point on each corner keeps every chord outside the rectangle ``half_x`` x ``half_y`` that
    the corners round (the hands' finger pads), so the belt starts touching, not cutting, them.
    """
    cx, cy = half_x - corner, half_y - corner
    corners = [np.array([sx * cx, sy * cy]) + corner * np.array([sx, sy]) / np.sqrt(2.0)
               for sx, sy in ((1, 1), (-1, 1), (-1, -1), (1, -1))]
    sides = [2 * half_x, 2 * half_y, 2 * half_x, 2 * half_y]
    per_side = np.round(np.array(sides) / sum(sides) * (n - 4)).astype(int)
    per_side[-1] = n - 4 - per_side[:-1].sum()
    points = []
    for k in range(4):
        a, b = corners[k], corners[(k + 1) % 4]
        points.append(a)
        for j in range(per_side[k]):
            points.append(a + (b - a) * (j + 1) / (per_side[k] + 1))
    return np.array(points)


def add_belt(spec: mujoco.MjSpec, points: np.ndarray, z: float, prefix: str = "belt/") -> BeltNames:
    """The belt loop through world ``points`` (x, y) at height ``z``, stretched from its rest length."""
    n = len(points)
    xyz = np.column_stack([points, np.full(n, z)])
    elements = " ".join(f"{i} {(i + 1) % n}" for i in range(n))
    child = mujoco.MjSpec.from_string(f"""
<mujoco><worldbody>
  <flexcomp name="belt" type="direct" dim="1" dof="full" radius="{BELT_RADIUS}" mass="{BELT_MASS}"
            rgba="{' '.join(map(str, BELT_RGBA))}" point="{' '.join(f'{v:.6f}' for v in xyz.ravel())}"
            element="{elements}">
    <edge damping="0.001"/>
    <contact condim="3" solref="0.004 1" solimp="0.95 0.99 0.001" friction="{BELT_FRICTION}"
             selfcollide="none" contype="{PROP_CONTYPE}" conaffinity="{PROP_CONAFFINITY}"/>
  </flexcomp>
</worldbody></mujoco>""")
    vertices = [f"belt_{i}" for i in range(n)]
    for name in vertices:
        child.body(name).add_site(name=f"{name}_site", size=[0.001, 0, 0], group=5)
    lengths = np.linalg.norm(np.roll(xyz, -1, axis=0) - xyz, axis=1)
    rest = lengths * REST_LENGTH / lengths.sum()
    for i in range(n):
        tendon = child.add_tendon(name=f"belt_edge{i}", limited=mujoco.mjtLimited.mjLIMITED_TRUE,
                                  range=[0.0, float(rest[i])], solref_limit=list(BELT_SOLREF),
                                  solimp_limit=list(BELT_SOLIMP), rgba=[0, 0, 0, 0], width=0.0005, group=5)
        tendon.wrap_site(f"{vertices[i]}_site")
        tendon.wrap_site(f"{vertices[(i + 1) % n]}_site")
    spec.attach(child, frame=spec.worldbody.add_frame(), prefix=prefix)
    return BeltNames(tuple(f"{prefix}{v}" for v in vertices), f"{prefix}belt")
