"""A motherboard with one DDR4 DIMM slot whose groove fits the RAM stick with sub-millimetre clearance.

Board frame: origin at the board centre on the table, z up. The slot's own frame (its
``entry`` pose) sits at the groove mouth centre with x along the slot and z out of the
groove. The groove is 1.8 mm wide for the 1.3 mm PCB (0.25 mm per side), 134 mm long for
the 133 mm stick (0.5 mm per end), closed at both ends, and 7 mm deep from the mouth to
the seated bottom edge. Each top edge carries a 1 mm 45-degree lead-in (slope stopping 0.2 mm
below the top, see :func:`hilserl_bench.envs.props.add_chamfer`), so a stick up to ~1 mm
off across the slot lands with its corner on a slope and is guided in, while one 2 mm
off lands flat on the housing top and stays out.

"Pressing seats it": the groove floor is a contact bed on a slide joint (the socket's
spring contacts). Its spring (2000 N/m) is preloaded to 3 N against an upper stop and
reaches a hard stop 1.5 mm lower at 6 N, so a stick resting on it under gravity or a
light touch sits 1.5 mm proud; only a push of more than 6 N seats it fully (both ends
at the ``seat`` sites). The bed's armature keeps the spring's period (~30 ms) well above
the 2 ms step; both stops use the tight-fit solver parameters.

Keying: a 1 mm ridge across the groove (:data:`KEY_WIDTH`) rises from the floor to
0.3 mm below the top of the stick's key notch when seated, at the notch's position
(:data:`~hilserl_bench.envs.props.ram_stick.NOTCH_X`), through a gap in the contact bed.
A stick turned 180 degrees lands its solid edge on the ridge and stays 2.7 mm short of
the seat. The latches at both ends are part of the tight-fit group too: any slot surface
the stick can press on is measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import mujoco
import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.envs.props import (
    BLACK,
    FIT_SOLREF,
    GOLD,
    PCB_GREEN,
    WHITE,
    add_box,
    add_chamfer,
    body_frame,
)
from hilserl_bench.envs.props.ram_stick import NOTCH_HEIGHT, NOTCH_X, RAM_LENGTH, RAM_THICKNESS

BOARD_SIZE = (0.30, 0.24, 0.0016)
BASE_HEIGHT = 0.005
SLOT_FRICTION = 0.4
BED_MASS, BED_ARMATURE, BED_DAMPING_RATIO = 0.005, 0.05, 1.0
BED_STOP_SOLIMP = (0.99, 0.999, 0.001, 0.5, 2.0)
KEY_WIDTH = 0.001
"""Key ridge width along the slot (m)."""
KEY_TOP_CLEARANCE = 0.0003
"""Gap between the key top and the notch top of a seated stick (m)."""
KEY_BED_GAP = 0.0003
"""Gap between the key and the contact bed on either side (m)."""


@dataclass(frozen=True)
class DimmSlotConfig:
    """Dimensions of the slot; defaults are the real DDR4 part's, rounded."""

    slot_xy: tuple[float, float] = (0.0, -0.02)
    """Groove centre on the board (board frame, m); the slot runs along board x."""
    clearance: float = 0.00025
    """Gap per side between the PCB faces and the groove walls (m)."""
    end_clearance: float = 0.0005
    """Gap per end between the PCB ends and the groove end walls (m)."""
    depth: float = 0.007
    """Mouth to the seated bottom edge (m)."""
    chamfer: float = 0.001
    """Width and depth of the 45-degree lead-in on every top edge of the groove (m)."""
    housing_width: float = 0.007
    """Outer width of the slot housing (m)."""
    end_length: float = 0.006
    """Length of each closed end block (m)."""
    bed_travel: float = 0.0015
    """Contact-bed travel from its preloaded rest to the hard stop (m)."""
    bed_preload: float = 3.0
    """Spring force holding the bed against its upper stop (N); below this it does not move."""
    bed_full_force: float = 6.0
    """Spring force at the hard stop (N): the push that seats the stick."""


@dataclass(frozen=True)
class DimmSlotNames:
    """Element names and dimensions of the motherboard and its slot."""

    board_body: str
    """Static body holding the base block, PCB and components."""
    slot_body: str
    """Static body of the slot housing, frame at the groove mouth centre."""
    bed_body: str
    """Spring-loaded contact bed at the groove bottom."""
    bed_joint: str
    """The bed's slide joint (0 at rest, -bed_travel at the hard stop)."""
    fit_geoms: tuple[str, ...]
    """Every groove surface, key, latches and bed included (the slot side of the tight-fit pair)."""
    key_geom: str
    """The key ridge across the groove."""
    key_site: str
    """Key top centre; a seated stick's ``notch_site`` lies ``key_top_clearance`` above it."""
    key_x: float
    """Key centre along the slot (slot frame, m)."""
    key_height: float
    """Key top above the seat (m): how far short a reversed stick stops."""
    seat_left_site: str
    """Where the stick's -x bottom corner is when fully seated."""
    seat_right_site: str
    """Where the stick's +x bottom corner is when fully seated."""
    entry_site: str
    """Groove mouth centre."""
    entry_pose: tuple[float, ...]
    """Base-frame pose of the slot frame (x along the slot, z out of the groove)."""
    groove_width: float
    """Groove width (m): PCB thickness plus twice the clearance."""
    groove_length: float
    """Groove length (m)."""
    depth: float
    """Mouth to seated bottom edge (m)."""
    clearance: float
    """Per-side clearance across the PCB thickness (m)."""
    chamfer: float
    """Lead-in size (m)."""
    bed_travel: float
    """Bed travel to the hard stop (m)."""


def add_motherboard(
    spec: mujoco.MjSpec,
    pose: Sequence[float],
    prefix: str = "",
    config: DimmSlotConfig | None = None,
) -> DimmSlotNames:
    """Add a fixed motherboard at ``pose`` (board centre on the table) with a DIMM slot on it."""
    cfg = config or DimmSlotConfig()
    board = spec.worldbody.add_body(name=f"{prefix}motherboard", **body_frame(pose))
    bx, by, bt = BOARD_SIZE
    add_box(board, f"{prefix}mb_base", (-bx / 2 + 0.005, -by / 2 + 0.005, 0), (bx / 2 - 0.005, by / 2 - 0.005,
                                                                              BASE_HEIGHT), (0.2, 0.2, 0.22, 1))
    pcb_top = BASE_HEIGHT + bt
    add_box(board, f"{prefix}mb_pcb", (-bx / 2, -by / 2, BASE_HEIGHT), (bx / 2, by / 2, pcb_top), PCB_GREEN)
    add_box(board, f"{prefix}mb_cpu_socket", (-0.0225, 0.04, pcb_top), (0.0225, 0.085, pcb_top + 0.004),
            (0.55, 0.55, 0.5, 1))
    add_box(board, f"{prefix}mb_chipset", (0.08, -0.1, pcb_top), (0.11, -0.07, pcb_top + 0.006), (0.3, 0.3, 0.34, 1))
    bed_t, floor_t = 0.002, 0.001
    height = cfg.depth + bed_t + 0.0005 + floor_t
    slot_pos = np.array([cfg.slot_xy[0], cfg.slot_xy[1], pcb_top + height])
    slot = board.add_body(name=f"{prefix}dimm_slot", pos=slot_pos.tolist())
    fit = _add_housing(slot, prefix, cfg, height, floor_t)
    width = RAM_THICKNESS + 2 * cfg.clearance
    length = RAM_LENGTH + 2 * cfg.end_clearance
    bed = slot.add_body(name=f"{prefix}dimm_bed", pos=[0, 0, -cfg.depth + cfg.bed_travel])
    stiffness = (cfg.bed_full_force - cfg.bed_preload) / cfg.bed_travel
    bed_mass, armature = BED_MASS, BED_ARMATURE
    joint = bed.add_joint(name=f"{prefix}dimm_bed_slide", type=mujoco.mjtJoint.mjJNT_SLIDE, axis=[0, 0, 1],
                          range=[-cfg.bed_travel, 0.0], limited=mujoco.mjtLimited.mjLIMITED_TRUE,
                          springref=cfg.bed_preload / stiffness, armature=armature,
                          solref_limit=list(FIT_SOLREF), solimp_limit=list(BED_STOP_SOLIMP))
    joint.stiffness[0] = stiffness
    joint.damping[0] = BED_DAMPING_RATIO * 2.0 * np.sqrt(stiffness * (bed_mass + armature))
    key_lo, key_hi = NOTCH_X - KEY_WIDTH / 2, NOTCH_X + KEY_WIDTH / 2
    spans = {"left": (-length / 2 + 0.0002, key_lo - KEY_BED_GAP), "right": (key_hi + KEY_BED_GAP, length / 2 - 0.0002)}
    bed_geoms, span_total = [], sum(hi - lo for lo, hi in spans.values())
    for tag, (x_lo, x_hi) in spans.items():
        bed_geoms.append(add_box(bed, f"{prefix}dimm_bed_contacts_{tag}", (x_lo, -width / 2 + 0.0001, -bed_t),
                                 (x_hi, width / 2 - 0.0001, 0), GOLD, fit=True, friction=SLOT_FRICTION,
                                 mass=bed_mass * (x_hi - x_lo) / span_total).name)
    key_height = NOTCH_HEIGHT - KEY_TOP_CLEARANCE
    key_geom = add_box(slot, f"{prefix}dimm_key", (key_lo, -width / 2, -height + floor_t),
                       (key_hi, width / 2, -cfg.depth + key_height), BLACK, fit=True, friction=SLOT_FRICTION).name
    spec.add_exclude(bodyname1=bed.name, bodyname2=slot.name)
    names = DimmSlotNames(
        board_body=board.name, slot_body=slot.name, bed_body=bed.name, bed_joint=joint.name,
        fit_geoms=(*fit, key_geom, *bed_geoms),
        key_geom=key_geom, key_site=f"{prefix}dimm_key_top", key_x=NOTCH_X, key_height=key_height,
        seat_left_site=f"{prefix}dimm_slot_seat_left", seat_right_site=f"{prefix}dimm_slot_seat_right",
        entry_site=f"{prefix}dimm_slot_entry",
        entry_pose=tuple(geo.pose_compose(np.asarray(pose, dtype=float),
                                          np.concatenate([slot_pos, geo.IDENTITY_QUAT])).tolist()),
        groove_width=width, groove_length=length, depth=cfg.depth, clearance=cfg.clearance,
        chamfer=cfg.chamfer, bed_travel=cfg.bed_travel,
    )
    for site, x in ((names.seat_left_site, -RAM_LENGTH / 2), (names.seat_right_site, RAM_LENGTH / 2)):
        slot.add_site(name=site, pos=[x, 0, -cfg.depth], size=[0.001, 0, 0], group=4)
    slot.add_site(name=names.entry_site, pos=[0, 0, 0], size=[0.001, 0, 0], group=4)
    slot.add_site(name=names.key_site, pos=[NOTCH_X, 0, -cfg.depth + key_height], size=[0.001, 0, 0], group=4)
    return names


def _add_housing(slot: mujoco.MjsBody, prefix: str, cfg: DimmSlotConfig, height: float, floor_t: float,
                 ) -> list[str]:
    """Walls, end blocks, floor and lead-ins of the groove, slot frame at the mouth; returns geom names."""
    c = cfg.chamfer
    w2 = RAM_THICKNESS / 2 + cfg.clearance
    l2 = RAM_LENGTH / 2 + cfg.end_clearance
    x_out, y_out = l2 + cfg.end_length, cfg.housing_width / 2
    names = []

    def box(name: str, lo: Sequence[float], hi: Sequence[float], rgba: Sequence[float] = BLACK) -> None:
        names.append(add_box(slot, f"{prefix}dimm_{name}", lo, hi, rgba, fit=True, friction=SLOT_FRICTION).name)

    for s, tag in ((1.0, "pos"), (-1.0, "neg")):
        y_lo, y_hi = sorted((s * w2, s * y_out))
        box(f"wall_{tag}", (-x_out, y_lo, -height), (x_out, y_hi, -c))
        y_lo, y_hi = sorted((s * (w2 + c), s * y_out))
        box(f"wall_top_{tag}", (-x_out, y_lo, -c), (x_out, y_hi, 0))
        names.append(add_chamfer(slot, f"{prefix}dimm_lead_{tag}", (0, 0, 0), (0, s, 0), (0, 0, 1), w2, c, l2, BLACK,
                                 friction=SLOT_FRICTION).name)
        x_lo, x_hi = sorted((s * l2, s * x_out))
        box(f"end_{tag}", (x_lo, -w2, -height), (x_hi, w2, -c))
        x_lo, x_hi = sorted((s * (l2 + c), s * x_out))
        box(f"end_top_{tag}", (x_lo, -w2 - c, -c), (x_hi, w2 + c, 0))
        names.append(add_chamfer(slot, f"{prefix}dimm_end_lead_{tag}", (0, 0, 0), (s, 0, 0), (0, 0, 1), l2, c,
                                 w2 + c, BLACK, friction=SLOT_FRICTION).name)
        x_lo, x_hi = sorted((s * x_out, s * (x_out + 0.004)))
        box(f"latch_{tag}", (x_lo, -y_out, -height), (x_hi, y_out, 0.004), WHITE)
    box("floor", (-l2, -w2, -height), (l2, w2, -height + floor_t))
    return names
