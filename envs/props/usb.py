"""A USB-A port in a block on the table and a free USB-A plug, fitting with 0.25-0.3 mm per side.

Port frame: origin on the table directly below the receptacle's mouth centre, in the
face plane; x points into the port (the insertion direction), z up. The receptacle
opening is 12.5 x 5.1 mm (USB-A receptacle shell), 40 mm above the table, 12.5 mm deep,
with a 0.8 mm 45-degree lead-in on all four edges (its slope stops 0.2 mm below the face,
see :func:`hilserl_bench.envs.props.add_chamfer`). The plug's metal shell is
12.0 x 4.5 x 12 mm outside, so the fit is 0.25 mm per side across the width and
0.3 mm across the height. Keying, as on the real USB-A pair: the plug's contact
insert fills the lower half of its shell and leaves a cavity above it (0.4 mm
walls); the receptacle's tongue sits in the upper half, 1.5 mm behind the mouth,
with 0.3 mm clearance to the plug's walls and insert. Right side up the tongue
slides into the cavity; upside down the insert meets the tongue's front face and
the plug stops 1.5 mm in. A shell
up to ~0.85 mm off lands with its edge on a lead-in and is guided; one 2 mm off lands
flat on the face and stays out. Full insertion is the shell's front face on the back
wall, with the tip then at ``usb_port_bottom`` (11.7 mm deep, the grip 0.3 mm short of
the port face).

Plug frame: origin at the centre of the plastic grip body, x toward the shell tip, y
across the 16 mm width, z across the 8 mm thickness. Lying flat on the table its origin
is at z = 4 mm (:data:`PLUG_REST_Z`); a top-down gripper closes across y. Grasp behind
the grip centre (``usb_plug_grasp``, 3 mm back): the 18 mm finger pads then end 4 mm
behind the grip's front face, so they clear the port face at full insertion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import mujoco
import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.envs.props import BLACK, METAL, add_box, add_chamfer, body_frame

SHELL = (0.012, 0.012, 0.0045)
"""Plug shell (length, width, thickness), m."""
GRIP = (0.020, 0.016, 0.008)
"""Plug grip body (length, width, thickness), m."""
RELIEF = (0.008, 0.007, 0.005)
"""Cable strain relief behind the grip (length, width, thickness), m."""
OPENING = (0.0125, 0.0051)
"""Receptacle opening (width, height), m."""
HOLE_DEPTH = SHELL[0] - 0.0003
"""The shell's front face on the back wall is the stop, 0.3 mm before the grip reaches the port face:
a large face holds, while the grip's 0.65-0.95 mm rim around the lead-ins is a thin overlap whose
box-box contacts can flip sideways once pressed in that deep."""
STOP_SOLIMP = (0.99, 0.995, 0.001, 0.5, 2.0)
"""Stiffer impedance of every port surface (the table's), dominating the mix (solmix): a 10 g plug
pressed with 20 N sinks 0.08 mm into the back wall instead of 0.4 mm, far from the depth at which a box-box
contact flips. First on the back wall and tongue only; an adversary pressing in at full scale while
jerking the other axes then still drove the grip 0.96 mm into the port face and the shell into the walls
(benchmarks/penetration.py, 20 episodes), so the face, walls and lead-ins now use it too (0.63 mm on 6)."""
MOUTH_HEIGHT = 0.040
LEAD_IN = 0.0008
HOUSING = (0.03, 0.05, 0.06)
"""Port block (depth along x, width, height), m; low enough to pass under the Franka hand."""
PLUG_REST_Z = GRIP[2] / 2
GRASP_X = -0.003
SHELL_WALL = 0.0004
"""Sheet-metal thickness of the plug shell's top and side walls, m."""
INSERT_TOP = 0.0
"""Top of the plug's contact insert (solid lower half of the shell) above the shell's mid-plane, m."""
TONGUE_CLEARANCE = 0.0003
"""Gap between the receptacle tongue and the plug's walls and insert, m."""
TONGUE_SETBACK = 0.0015
"""Depth of the receptacle tongue's front face behind the mouth, m."""
SHELL_MASS, GRIP_MASS, RELIEF_MASS = 0.003, 0.006, 0.001
SHELL_FRICTION, GRIP_FRICTION, PORT_FRICTION = 0.3, 0.6, 0.3
HELD_POSE_IN_TCP = (-GRASP_X, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)
"""Plug body pose in a top-down TCP frame (z down, fingers along y) with ``usb_plug_grasp`` at the TCP."""
HOUSING_RGBA = (0.25, 0.26, 0.3, 1.0)


@dataclass(frozen=True)
class UsbPortNames:
    """Element names and dimensions of the port block."""

    body: str
    """Static body of the block, frame on the table below the mouth."""
    fit_geoms: tuple[str, ...]
    """Face, receptacle walls, lead-ins, back stop and tongue (the port side of the tight-fit pair)."""
    mouth_site: str
    """Opening centre on the face."""
    bottom_site: str
    """Where the plug tip is when fully inserted."""
    mouth_pose: tuple[float, ...]
    """Base-frame pose of the mouth (x into the port, z up)."""
    opening: tuple[float, float] = OPENING
    """Opening (width, height), m."""
    insert_depth: float = HOLE_DEPTH
    """Tip travel from the mouth to full insertion (m)."""
    lead_in: float = LEAD_IN
    """Chamfer size (m)."""


@dataclass(frozen=True)
class UsbPlugNames:
    """Element names and dimensions of the plug."""

    body: str
    """The plug's body (track this one)."""
    joint: str
    """Its free joint, or "" when mounted rigidly on a parent body."""
    shell_geom: str
    """Solid lower half of the shell (insert and bottom wall); ``_top``, ``_left``, ``_right`` are its walls."""
    fit_geoms: tuple[str, ...]
    """Shell and grip body (the plug side of the tight-fit pair)."""
    grip_geom: str
    """The plastic grip body the fingers close on."""
    tip_site: str
    """Centre of the shell's front face."""
    grasp_site: str
    """Where the TCP should be for a top-down grasp."""
    rest_z: float = PLUG_REST_Z
    """Body-origin height when lying flat on the table (m)."""
    grip_width: float = GRIP[1]
    """Width the fingers close to (m)."""
    mass: float = SHELL_MASS + GRIP_MASS + RELIEF_MASS
    """Total mass (kg)."""


def add_usb_port(spec: mujoco.MjSpec, pose: Sequence[float], prefix: str = "") -> UsbPortNames:
    """Add the fixed port block at ``pose`` (table point below the mouth, x into the port)."""
    body = spec.worldbody.add_body(name=f"{prefix}usb_port", **body_frame(pose))
    d, width, height = HOUSING
    ow, oh = OPENING[0] / 2, OPENING[1] / 2
    h, c = MOUTH_HEIGHT, LEAD_IN
    yw, zlo, zhi = ow + c, h - oh - c, h + oh + c
    names = []

    def box(name: str, lo: Sequence[float], hi: Sequence[float], rgba: Sequence[float] = HOUSING_RGBA) -> None:
        names.append(add_box(body, f"{prefix}usb_port_{name}", lo, hi, rgba, fit=True, friction=PORT_FRICTION).name)

    for s, tag in ((1.0, "left"), (-1.0, "right")):
        y_lo, y_hi = sorted((s * yw, s * width / 2))
        box(f"block_{tag}", (0, y_lo, 0), (d, y_hi, height))
        y_lo, y_hi = sorted((s * ow, s * yw))
        box(f"lining_{tag}", (c, y_lo, zlo), (HOLE_DEPTH, y_hi, zhi), METAL)
        names.append(add_chamfer(body, f"{prefix}usb_port_lead_{tag}", (0, 0, h), (0, s, 0), (-1, 0, 0), ow, c,
                                 oh + c, METAL, friction=PORT_FRICTION).name)
    box("block_bottom", (0, -yw, 0), (d, yw, zlo))
    box("block_top", (0, -yw, zhi), (d, yw, height))
    box("lining_bottom", (c, -ow, zlo), (HOLE_DEPTH, ow, h - oh), METAL)
    box("lining_top", (c, -ow, h + oh), (HOLE_DEPTH, ow, zhi), METAL)
    for s, tag in ((1.0, "top"), (-1.0, "bottom")):
        names.append(add_chamfer(body, f"{prefix}usb_port_lead_{tag}", (0, 0, h), (0, 0, s), (-1, 0, 0), oh, c,
                                 ow + c, METAL, friction=PORT_FRICTION).name)
    box("back", (HOLE_DEPTH, -yw, zlo), (d, yw, zhi))
    tongue_y = SHELL[1] / 2 - SHELL_WALL - TONGUE_CLEARANCE
    box("tongue", (TONGUE_SETBACK, -tongue_y, h + INSERT_TOP + TONGUE_CLEARANCE),
        (HOLE_DEPTH, tongue_y, h + SHELL[2] / 2 - SHELL_WALL - TONGUE_CLEARANCE), (0.1, 0.3, 0.8, 1.0))
    for name in names:
        geom = spec.geom(name)
        geom.solimp, geom.solmix = list(STOP_SOLIMP), 100.0
    add_box(body, f"{prefix}usb_port_hole_decal", (HOLE_DEPTH - 1e-5, -ow, h - oh), (HOLE_DEPTH, ow, h + oh), BLACK,
            visual=True)
    mouth = f"{prefix}usb_port_mouth"
    bottom = f"{prefix}usb_port_bottom"
    body.add_site(name=mouth, pos=[0, 0, h], size=[0.001, 0, 0], group=4)
    body.add_site(name=bottom, pos=[HOLE_DEPTH, 0, h], size=[0.001, 0, 0], group=4)
    mouth_pose = geo.pose_compose(np.asarray(pose, dtype=float), np.array([0, 0, h, 0, 0, 0, 1.0]))
    return UsbPortNames(body=body.name, fit_geoms=tuple(names), mouth_site=mouth, bottom_site=bottom,
                        mouth_pose=tuple(mouth_pose.tolist()))


def add_usb_plug(
    spec: mujoco.MjSpec,
    pose: Sequence[float],
    prefix: str = "",
    parent: mujoco.MjsBody | None = None,
) -> UsbPlugNames:
    """Add a USB-A plug at ``pose`` (grip centre) in ``parent``'s frame; free-jointed when ``parent`` is None."""
    host = spec.worldbody if parent is None else parent
    body = host.add_body(name=f"{prefix}usb_plug", **body_frame(pose))
    joint = ""
    if parent is None:
        joint = f"{prefix}usb_plug_joint"
        body.add_freejoint(name=joint)
    gl, gw, gt = GRIP[0] / 2, GRIP[1] / 2, GRIP[2] / 2
    sl, sw, st = SHELL[0], SHELL[1] / 2, SHELL[2] / 2
    shell, grip = f"{prefix}usb_plug_shell", f"{prefix}usb_plug_grip"
    wall, top = SHELL_WALL, INSERT_TOP
    parts = {"": ((-sw, -st), (sw, top)), "_top": ((-sw, st - wall), (sw, st)),
             "_left": ((sw - wall, top), (sw, st - wall)), "_right": ((-sw, top), (-sw + wall, st - wall))}
    shell_geoms = []
    for tag, ((y0, z0), (y1, z1)) in parts.items():
        mass = SHELL_MASS * (0.7 if not tag else 0.1)
        shell_geoms.append(add_box(body, shell + tag, (gl, y0, z0), (gl + sl, y1, z1), METAL, fit=True,
                                   friction=SHELL_FRICTION, mass=mass).name)
    add_box(body, grip, (-gl, -gw, -gt), (gl, gw, gt), BLACK, fit=True, friction=GRIP_FRICTION, mass=GRIP_MASS)
    rl, rw, rt = RELIEF[0], RELIEF[1] / 2, RELIEF[2] / 2
    add_box(body, f"{prefix}usb_plug_relief", (-gl - rl, -rw, -rt), (-gl, rw, rt), BLACK, friction=GRIP_FRICTION,
            mass=RELIEF_MASS)
    add_box(body, f"{prefix}usb_plug_logo_decal", (-0.006, -0.004, gt), (0.004, 0.004, gt + 2e-5),
            (0.6, 0.6, 0.62, 1.0), visual=True)
    tip, grasp = f"{prefix}usb_plug_tip", f"{prefix}usb_plug_grasp"
    body.add_site(name=tip, pos=[gl + sl, 0, 0], size=[0.001, 0, 0], group=4)
    body.add_site(name=grasp, pos=[GRASP_X, 0, 0], size=[0.001, 0, 0], group=4)
    return UsbPlugNames(body=body.name, joint=joint, shell_geom=shell, fit_geoms=(*shell_geoms, grip), grip_geom=grip,
                        tip_site=tip, grasp_site=grasp)
