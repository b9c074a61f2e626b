"""A DDR4 DIMM (RAM stick) as a body of boxes: a 133.35 x 31.25 x 1.27 mm PCB, rounded to
0.133 x 0.030 x 0.0013 m, with a heat spreader on its upper two thirds.

Body frame: origin at the PCB centre, x along the length (``left`` end at -x), z up
toward the top edge, y across the thickness. The gripper closes along y. The heat
spreader (1 mm aluminium plate each side, 3.3 mm over both) is the grip region: thicker
than the bare PCB so finger-pad penetration of a fraction of a millimetre cannot let the
pads meet through the part, and flat over the 18 mm pad height so the pads sit face on
face. It starts 10 mm above the bottom edge, 3 mm above the slot housing when seated.

Keying: like a real DDR4 module the bottom edge carries one notch off the centre
(:data:`NOTCH_X`), which fits over the slot's key ridge. Turned 180 degrees about z the
notch lies on the wrong side of the key and the edge lands on the ridge top, short of
the seat by the key height. The PCB is three boxes around the notch: the part above the
notch and the two lower parts on either side of it. The offset is a few millimetres off
centre as on DDR4; the exact JEDEC MO-309 figure was not available here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import mujoco

from hilserl_bench.envs.props import GOLD, PCB_GREEN, add_box, body_frame

RAM_LENGTH, RAM_HEIGHT, RAM_THICKNESS = 0.133, 0.030, 0.0013
SPREADER_THICKNESS = 0.001
SPREADER_BOTTOM = 0.010
GRASP_HEIGHT = 0.020
PCB_MASS, SPREADER_MASS = 0.010, 0.005
PCB_FRICTION, SPREADER_FRICTION = 0.4, 0.5
NOTCH_X = 0.0043
"""Key-notch centre along the stick, from the PCB centre toward the +x (right) end (m)."""
NOTCH_WIDTH = 0.0026
"""Notch width along the stick (m): the slot's 1 mm key plus 0.8 mm per side, more than the
0.5 mm end clearance, so the groove ends and not the key locate the stick."""
NOTCH_HEIGHT = 0.003
"""Notch height above the bottom edge (m)."""
SPREADER_RGBA = (0.16, 0.17, 0.2, 1.0)
HELD_POSE_IN_TCP = (0.0, 0.0, GRASP_HEIGHT - RAM_HEIGHT / 2, 1.0, 0.0, 0.0, 0.0)
"""Stick body pose in a top-down TCP frame (z down, fingers along y) with ``ram_grasp`` at the TCP."""


@dataclass(frozen=True)
class RamStickNames:
    """Element names and dimensions of one RAM stick."""

    body: str
    """The stick's body (track this one)."""
    joint: str
    """Its free joint, or "" when mounted rigidly on a parent body."""
    pcb_geoms: tuple[str, ...]
    """The PCB boxes (above the notch, left and right of it); their bottom edges enter the slot."""
    fit_geoms: tuple[str, ...]
    """Every colliding geom of the stick (its side of the tight-fit pair)."""
    grip_geoms: tuple[str, ...]
    """The heat-spreader plates the finger pads close on."""
    bottom_left_site: str
    """Bottom edge, -x end (pairs with the slot's ``seat_left`` site)."""
    bottom_right_site: str
    """Bottom edge, +x end (pairs with ``seat_right``)."""
    notch_site: str
    """Top centre of the key notch (pairs with the slot's ``key_site`` when seated)."""
    grasp_site: str
    """Centre of the grip region, 20 mm above the bottom edge: where the TCP should be."""
    length: float = RAM_LENGTH
    """PCB length (m)."""
    height: float = RAM_HEIGHT
    """PCB height, bottom edge to top edge (m)."""
    thickness: float = RAM_THICKNESS
    """PCB thickness (m), what the slot groove fits."""
    grip_thickness: float = RAM_THICKNESS + 2 * SPREADER_THICKNESS
    """Thickness across the heat spreader, what the fingers close to (m)."""
    mass: float = PCB_MASS + 2 * SPREADER_MASS
    """Total mass (kg)."""


def add_ram_stick(
    spec: mujoco.MjSpec,
    pose: Sequence[float],
    prefix: str = "",
    parent: mujoco.MjsBody | None = None,
) -> RamStickNames:
    """Add a RAM stick at ``pose`` (body frame at the PCB centre) in ``parent``'s frame.

    With no parent it goes in the world with a free joint (the task teleports it between
    the fingers, see :data:`HELD_POSE_IN_TCP`); with a parent it is rigidly mounted, which
    test rigs use as an ideal grasp.
    """
    host = spec.worldbody if parent is None else parent
    body = host.add_body(name=f"{prefix}ram_stick", **body_frame(pose))
    joint = ""
    if parent is None:
        joint = f"{prefix}ram_stick_joint"
        body.add_freejoint(name=joint)
    hl, hh, ht = RAM_LENGTH / 2, RAM_HEIGHT / 2, RAM_THICKNESS / 2
    notch_lo, notch_hi, notch_top = NOTCH_X - NOTCH_WIDTH / 2, NOTCH_X + NOTCH_WIDTH / 2, -hh + NOTCH_HEIGHT
    boxes = {"ram_pcb": ((-hl, notch_top), (hl, hh)), "ram_pcb_left": ((-hl, -hh), (notch_lo, notch_top)),
             "ram_pcb_right": ((notch_hi, -hh), (hl, notch_top))}
    area = sum((hi[0] - lo[0]) * (hi[1] - lo[1]) for lo, hi in boxes.values())
    pcbs = []
    for tag, (lo, hi) in boxes.items():
        mass = PCB_MASS * (hi[0] - lo[0]) * (hi[1] - lo[1]) / area
        pcbs.append(add_box(body, f"{prefix}{tag}", (lo[0], -ht, lo[1]), (hi[0], ht, hi[1]), PCB_GREEN, fit=True,
                            friction=PCB_FRICTION, mass=mass).name)
    grips = []
    for side, tag in ((1.0, "front"), (-1.0, "back")):
        name = f"{prefix}ram_spreader_{tag}"
        y_in, y_out = side * ht, side * (ht + SPREADER_THICKNESS)
        add_box(body, name, (-hl + 0.002, min(y_in, y_out), -hh + SPREADER_BOTTOM),
                (hl - 0.002, max(y_in, y_out), hh), SPREADER_RGBA, fit=True, friction=SPREADER_FRICTION,
                mass=SPREADER_MASS)
        grips.append(name)
    for tag, (x_lo, x_hi) in (("left", (-hl + 0.004, notch_lo - 0.0005)), ("right", (notch_hi + 0.0005, hl - 0.004))):
        add_box(body, f"{prefix}ram_gold_fingers_{tag}", (x_lo, -ht - 2e-5, -hh + 0.0003),
                (x_hi, ht + 2e-5, -hh + 0.0035), GOLD, visual=True)
    add_box(body, f"{prefix}ram_label", (-0.03, ht + SPREADER_THICKNESS, -hh + 0.014),
            (0.03, ht + SPREADER_THICKNESS + 2e-5, -hh + 0.026), (0.85, 0.85, 0.82, 1.0), visual=True)
    names = RamStickNames(
        body=body.name,
        joint=joint,
        pcb_geoms=tuple(pcbs),
        fit_geoms=(*pcbs, *grips),
        grip_geoms=tuple(grips),
        bottom_left_site=f"{prefix}ram_bottom_left",
        bottom_right_site=f"{prefix}ram_bottom_right",
        grasp_site=f"{prefix}ram_grasp",
        notch_site=f"{prefix}ram_notch",
    )
    body.add_site(name=names.bottom_left_site, pos=[-hl, 0, -hh], size=[0.001, 0, 0], group=4)
    body.add_site(name=names.bottom_right_site, pos=[hl, 0, -hh], size=[0.001, 0, 0], group=4)
    body.add_site(name=names.grasp_site, pos=[0, 0, GRASP_HEIGHT - hh], size=[0.001, 0, 0], group=4)
    body.add_site(name=names.notch_site, pos=[NOTCH_X, 0, notch_top], size=[0.001, 0, 0], group=4)
    return names
