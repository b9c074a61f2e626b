"""The room every task shares: a table whose top is the z = 0 plane, a floor, lights, physics options.

The robot base stands on the table at the origin, so base frame == world frame for
single-arm cells. Options are tuned for friction grasps of small parts (elliptic cones, a
moderate impratio, many solver iterations), the table top is stiff enough that gram-scale parts
do not sink into it, and rendering suits a CPU (no shadows, no MSAA).
"""

from __future__ import annotations

import mujoco

TABLE_X = (-0.2, 1.0)
TABLE_Y = (-0.6, 0.6)
TABLE_THICKNESS = 0.04
TABLE_HEIGHT = 0.75
WORLD_CONTYPE, WORLD_CONAFFINITY = 1, 3
TABLE_RGBA = (0.62, 0.58, 0.52, 1.0)
LEG_RGBA = (0.35, 0.35, 0.37, 1.0)
TABLE_SOLREF = (0.004, 1.0)
TABLE_SOLIMP = (0.99, 0.995, 0.001, 0.5, 2.0)
"""Stiff table top for light parts: MuJoCo's soft contacts scale with mass, so with the default
(0.02 s, d 0.9-0.95) a 10 g plug pressed with 10 N sank 1.3 mm (2.2 mm at 20 N); with these 0.04 / 0.08 mm.
``TABLE_SOLMIX`` makes the table's values dominate the mix with softer part geoms."""
TABLE_SOLMIX = 100.0
IMPRATIO = 3.0
"""Friction-to-normal impedance ratio (elliptic cones). At 10 the pads' friction constraints were so much
harder than their normal ones that a 10 g plug squeezed at a turned or edge-on pose was shot out at up to
28 m/s (4 of 150 random relative poses); at 3 the fastest of 150 moved 1.3 m/s and grasps still hold."""
FLOOR_RGBA = (0.45, 0.46, 0.48, 1.0)


def _set_options(spec: mujoco.MjSpec) -> None:
    opt = spec.option
    opt.timestep = 0.002
    opt.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    opt.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    opt.impratio = IMPRATIO
    opt.iterations = 50
    opt.ls_iterations = 20
    opt.tolerance = 1e-8
    # Multi-point CCD gives flat-on-flat contacts (pads on plates) several points. Older MuJoCo
    # has it as an enable flag; newer releases turned it on by default behind a disable flag.
    if hasattr(mujoco.mjtEnableBit, "mjENBL_MULTICCD"):
        opt.enableflags |= int(mujoco.mjtEnableBit.mjENBL_MULTICCD)
    elif hasattr(mujoco.mjtDisableBit, "mjDSBL_MULTICCD"):
        opt.disableflags &= ~int(mujoco.mjtDisableBit.mjDSBL_MULTICCD)


def _set_visual(spec: mujoco.MjSpec) -> None:
    vis = spec.visual
    vis.quality.offsamples = 0
    vis.global_.offwidth = max(vis.global_.offwidth, 640)
    vis.global_.offheight = max(vis.global_.offheight, 480)
    vis.headlight.ambient = [0.25, 0.25, 0.25]
    vis.headlight.diffuse = [0.35, 0.35, 0.35]
    vis.headlight.specular = [0.0, 0.0, 0.0]
    vis.map.znear = 0.005


def _world_geom(spec: mujoco.MjSpec, name: str, **kwargs) -> mujoco.MjsGeom:
    return spec.worldbody.add_geom(name=name, contype=WORLD_CONTYPE, conaffinity=WORLD_CONAFFINITY, **kwargs)


def add_arena(spec: mujoco.MjSpec) -> mujoco.MjSpec:
    """Add the table, floor, lights and the shared physics/visual options to an existing spec.

    Separate from :func:`build_arena` so a single-arm cell can put the arena into the robot's
    own spec and keep the robot's element names unprefixed.
    """
    _set_options(spec)
    _set_visual(spec)
    cx, cy = 0.5 * (TABLE_X[0] + TABLE_X[1]), 0.5 * (TABLE_Y[0] + TABLE_Y[1])
    hx, hy, ht = 0.5 * (TABLE_X[1] - TABLE_X[0]), 0.5 * (TABLE_Y[1] - TABLE_Y[0]), 0.5 * TABLE_THICKNESS
    _world_geom(spec, "table", type=mujoco.mjtGeom.mjGEOM_BOX, pos=[cx, cy, -ht], size=[hx, hy, ht],
                rgba=TABLE_RGBA, friction=[0.8, 0.005, 0.0001], solref=list(TABLE_SOLREF),
                solimp=list(TABLE_SOLIMP), solmix=TABLE_SOLMIX)
    leg_h = 0.5 * (TABLE_HEIGHT - TABLE_THICKNESS)
    for i, (sx, sy) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1))):
        _world_geom(spec, f"table_leg{i}", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.03, 0.03, leg_h],
                    pos=[cx + sx * (hx - 0.05), cy + sy * (hy - 0.05), -TABLE_THICKNESS - leg_h], rgba=LEG_RGBA)
    _world_geom(spec, "floor", type=mujoco.mjtGeom.mjGEOM_PLANE, pos=[0, 0, -TABLE_HEIGHT], size=[3, 3, 0.1],
                rgba=FLOOR_RGBA)
    lights = (([1.5, -1.0, 2.5], [-0.4, 0.3, -1.0]), ([-0.5, 1.2, 2.0], [0.3, -0.4, -1.0]))
    for i, (pos, direction) in enumerate(lights):
        spec.worldbody.add_light(name=f"light{i}", pos=pos, dir=direction, castshadow=False,
                                 type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL, diffuse=[0.45, 0.45, 0.45],
                                 specular=[0.1, 0.1, 0.1], ambient=[0.05, 0.05, 0.05])
    return spec


def build_arena() -> mujoco.MjSpec:
    """A fresh spec holding only the arena (no robot)."""
    spec = mujoco.MjSpec()
    spec.modelname = "hilserl_arena"
    spec.compiler.degree = False
    return add_arena(spec)
