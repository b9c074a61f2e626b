"""An M.2 2280 SSD, and a motherboard carrying an M.2 key-M socket and the standoff at the far end.

SSD (board frame: origin at the middle of the gold-finger edge, mid-thickness; x out of
the edge, y across the width, z toward the component side): an 80 x 22 x 0.8 mm PCB.
The gold-finger edge carries the key-M notch, 1.2 mm wide and 3.5 mm deep, centred
6.6 mm off the board's centre line (toward -y), so a board turned upside down meets
the socket key with solid PCB. The far end has the 3.5 mm wide, 3.5 mm deep screw notch
that drops over the standoff post. Packages (controller, two NAND, 1.2 mm tall, visual
only) sit on the component side between 8 and 70 mm from the edge, clear of the socket
and of the finger pads, which close across the 22 mm width on the bare board edges.

Socket (socket frame: origin at the mouth's floor edge, x into the socket, z up, y
across): the board enters at 20 degrees. The floor inside slopes down at 20 degrees
from the mouth edge, so a board tilted 20 degrees slides along it, and the roof is
0.2 mm above a flat board's top face (a tilted board has 0.15 mm), with a 0.5 mm
lead-in on its edge. Side walls leave 0.25 mm per side behind 0.8 mm lead-ins; the key
rib leaves 0.2 mm per side of the notch and meets it with a pointed (45 degree) tip.
The board pivots about the mouth edge down to flat, where it rests on the standoff
(top face at socket z = 0), with the standoff's post (3.0 mm, hemispherical top) in the
screw notch; the post stands 1.5 mm above the board's top face, so the board cannot
slide in flat over it: its far end must come down from above.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import mujoco
import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.envs.props import (
    FIT_CONDIM,
    FIT_SOLIMP,
    FIT_SOLREF,
    GOLD,
    PCB_GREEN,
    PROP_CONAFFINITY,
    PROP_CONTYPE,
    add_box,
    add_chamfer,
    body_frame,
)

SSD_LENGTH, SSD_WIDTH, SSD_THICKNESS = 0.080, 0.022, 0.0008
KEY_Y, KEY_NOTCH_WIDTH, KEY_NOTCH_DEPTH = -0.0066, 0.0012, 0.0035
SCREW_NOTCH_WIDTH, SCREW_NOTCH_DEPTH = 0.0035, 0.0035
POST_RADIUS, POST_FROM_END = 0.0015, 0.00175
CHIP_HEIGHT = 0.0012
SSD_MASS = 0.007
SSD_FRICTION = 0.4
INSERT_ANGLE = float(np.deg2rad(20.0))
SOCKET_DEPTH = 0.0035
"""Mouth edge to the socket's end wall along x: where the gold-finger edge sits when seated (m)."""
STANDOFF_HEIGHT = 0.0032
"""Board bottom above the motherboard PCB when lying on the standoff (m; a common M.2 socket height)."""
GRASP_FROM_EDGE = 0.040
"""The fingers close on the board's long edges this far behind the gold-finger edge (m)."""
HELD_POSE_IN_TCP = (GRASP_FROM_EDGE, 0.0, 0.0083, 1.0, 0.0, 0.0, 0.0)
"""Board pose in a top-down TCP frame (z down, fingers along y): board mid-plane 8.3 mm below the
TCP, so the 18 mm pads reach 0.3 mm below the board's bottom face and clear the motherboard."""
BOARD_SIZE = (0.20, 0.16, 0.0016)
BASE_HEIGHT = 0.005
_RGBA_CHIP, _RGBA_SOCKET, _RGBA_STANDOFF = (0.1, 0.1, 0.11, 1.0), (0.15, 0.15, 0.17, 1.0), (0.8, 0.7, 0.4, 1.0)


@dataclass(frozen=True)
class M2SsdNames:
    """Element names of the SSD."""

    body: str
    """The SSD's body (track this one)."""
    fit_geoms: tuple[str, ...]
    """Every colliding PCB geom (the SSD side of the tight-fit pair)."""


@dataclass(frozen=True)
class M2SocketNames:
    """Element names and poses of the motherboard, its M.2 socket and standoff."""

    board_body: str
    """Static body of the motherboard."""
    socket_body: str
    """Static body of the socket, frame at the mouth's floor edge."""
    fit_geoms: tuple[str, ...]
    """Socket cavity, key rib and standoff geoms (the fixed side of the tight-fit pair)."""
    socket_pose: tuple[float, ...]
    """Base-frame pose of the socket frame."""


def _fit(geom: mujoco.MjsGeom, friction: float) -> mujoco.MjsGeom:
    geom.contype, geom.conaffinity = PROP_CONTYPE, PROP_CONAFFINITY
    geom.solref, geom.solimp, geom.condim = list(FIT_SOLREF), list(FIT_SOLIMP), FIT_CONDIM
    geom.margin = geom.gap = 0.0
    geom.friction = [friction, 0.005, 0.0001]
    return geom


def add_m2_ssd(spec: mujoco.MjSpec, pose: Sequence[float], prefix: str = "",
               parent: mujoco.MjsBody | None = None) -> M2SsdNames:
    """Add the SSD at ``pose`` (board frame, see the module docstring); free in the world unless ``parent``."""
    host = spec.worldbody if parent is None else parent
    body = host.add_body(name=f"{prefix}m2_ssd", **body_frame(pose))
    if parent is None:
        body.add_freejoint(name=f"{prefix}m2_ssd_joint")
    L, w2, t2 = SSD_LENGTH, SSD_WIDTH / 2, SSD_THICKNESS / 2
    k0, k1 = KEY_Y - KEY_NOTCH_WIDTH / 2, KEY_Y + KEY_NOTCH_WIDTH / 2
    s2 = SCREW_NOTCH_WIDTH / 2
    pieces = {
        "key_side_neg": ((-KEY_NOTCH_DEPTH, -w2), (0.0, k0)),
        "key_side_pos": ((-KEY_NOTCH_DEPTH, k1), (0.0, w2)),
        "main": ((-L + SCREW_NOTCH_DEPTH, -w2), (-KEY_NOTCH_DEPTH, w2)),
        "tail_neg": ((-L, -w2), (-L + SCREW_NOTCH_DEPTH, -s2)),
        "tail_pos": ((-L, s2), (-L + SCREW_NOTCH_DEPTH, w2)),
    }
    area = sum((hi[0] - lo[0]) * (hi[1] - lo[1]) for lo, hi in pieces.values())
    fit = []
    for tag, (lo, hi) in pieces.items():
        mass = SSD_MASS * (hi[0] - lo[0]) * (hi[1] - lo[1]) / area
        fit.append(add_box(body, f"{prefix}m2_pcb_{tag}", (lo[0], lo[1], -t2), (hi[0], hi[1], t2), PCB_GREEN,
                           fit=True, friction=SSD_FRICTION, mass=mass).name)
    for i, (x0, x1) in enumerate(((-0.008, -0.020), (-0.026, -0.040), (-0.054, -0.068))):
        add_box(body, f"{prefix}m2_chip{i}", (x1, -0.0075, t2), (x0, 0.0075, t2 + CHIP_HEIGHT), _RGBA_CHIP,
                visual=True)
    for tag, (y0, y1) in (("a", (-w2 + 0.0005, k0 - 0.0003)), ("b", (k1 + 0.0003, w2 - 0.0005))):
        for side, z in (("top", t2), ("bottom", -t2 - 2e-5)):
            add_box(body, f"{prefix}m2_gold_{tag}_{side}", (-0.003, y0, z), (-0.0002, y1, z + 2e-5), GOLD,
                    visual=True)
    return M2SsdNames(body=body.name, fit_geoms=tuple(fit))


def add_m2_motherboard(spec: mujoco.MjSpec, pose: Sequence[float], prefix: str = "") -> M2SocketNames:
    """Add a fixed motherboard at ``pose`` (board centre on the table) with the socket (mouth facing -x)
    at its centre and the standoff 80 mm toward -x."""
    board = spec.worldbody.add_body(name=f"{prefix}m2_motherboard", **body_frame(pose))
    bx, by, bt = BOARD_SIZE
    add_box(board, f"{prefix}m2mb_base", (-bx / 2 + 0.005, -by / 2 + 0.005, 0),
            (bx / 2 - 0.005, by / 2 - 0.005, BASE_HEIGHT), (0.2, 0.2, 0.22, 1))
    pcb_top = BASE_HEIGHT + bt
    add_box(board, f"{prefix}m2mb_pcb", (-bx / 2, -by / 2, BASE_HEIGHT), (bx / 2, by / 2, pcb_top), PCB_GREEN)
    socket_pos = np.array([0.04, 0.0, pcb_top + STANDOFF_HEIGHT])
    socket = board.add_body(name=f"{prefix}m2_socket", pos=socket_pos.tolist())
    fit = _add_socket(socket, prefix)
    fit += _add_standoff(socket, prefix)
    socket_pose = geo.pose_compose(np.asarray(pose, dtype=np.float64),
                                   np.concatenate([socket_pos, geo.IDENTITY_QUAT]))
    return M2SocketNames(board_body=board.name, socket_body=socket.name, fit_geoms=tuple(fit),
                         socket_pose=tuple(socket_pose.tolist()))


def _add_socket(socket: mujoco.MjsBody, prefix: str) -> list[str]:
    """Sill, sloped floor, roof with its lead-in, side walls, end wall and key rib (socket frame)."""
    t, c_roof, c_side, c_key = SSD_THICKNESS, 0.0002, 0.00025, 0.0002
    roof_z, roof_x, end_x = t + c_roof, 0.0005, SOCKET_DEPTH
    w2 = SSD_WIDTH / 2 + c_side
    out_y, below = w2 + 0.0015, -STANDOFF_HEIGHT
    names: list[str] = []

    def box(tag: str, lo: Sequence[float], hi: Sequence[float]) -> None:
        names.append(add_box(socket, f"{prefix}m2s_{tag}", lo, hi, _RGBA_SOCKET, fit=True, friction=0.3).name)

    box("sill", (-0.0012, -w2, below), (0.0, w2, 0.0))
    slope = INSERT_ANGLE
    run = end_x + 0.0005
    floor = socket.add_geom(name=f"{prefix}m2s_floor", type=mujoco.mjtGeom.mjGEOM_BOX, rgba=list(_RGBA_SOCKET),
                            size=[run / 2 / np.cos(slope), w2, 0.0005])
    centre = np.array([run / 2, 0.0, -run / 2 * np.tan(slope)]) + 0.0005 * np.array([-np.sin(slope), 0, -np.cos(slope)])
    floor.pos = centre.tolist()
    floor.quat = geo.quat_to_mujoco(geo.euler_to_quat(np.array([0.0, slope, 0.0]))).tolist()
    names.append(_fit(floor, 0.3).name)
    box("floor_fill", (0.0, -w2, below), (end_x + 0.001, w2, -run * np.tan(slope) - 0.0004))
    c_r, c_s = 0.0005, 0.0008
    box("roof", (roof_x + c_r, -out_y, roof_z), (end_x + 0.0015, out_y, roof_z + 0.0012))
    box("roof_front", (roof_x, -out_y, roof_z + c_r), (roof_x + c_r, out_y, roof_z + 0.0012))
    names.append(add_chamfer(socket, f"{prefix}m2s_roof_lead", (roof_x, 0, 0), (0, 0, 1), (-1, 0, 0), roof_z,
                             c_r, w2, _RGBA_SOCKET, friction=0.3).name)
    box("end", (end_x, -out_y, below), (end_x + 0.0015, out_y, roof_z))
    for s, tag in ((1.0, "pos"), (-1.0, "neg")):
        y0, y1 = sorted((s * w2, s * out_y))
        box(f"side_{tag}", (-0.0012 + c_s, y0, below), (end_x, y1, roof_z + 0.0012))
        y0, y1 = sorted((s * (w2 + c_s), s * out_y))
        box(f"side_front_{tag}", (-0.0012, y0, below), (-0.0012 + c_s, y1, roof_z + 0.0012))
        names.append(add_chamfer(socket, f"{prefix}m2s_side_lead_{tag}", (-0.0012, 0, 0.0005), (0, s, 0),
                                 (-1, 0, 0), w2, c_s, 0.0012, _RGBA_SOCKET, friction=0.3).name)
    k2 = KEY_NOTCH_WIDTH / 2 - c_key
    key_x = end_x - KEY_NOTCH_DEPTH + 0.0005
    box("key", (key_x + k2, KEY_Y - k2, below), (end_x, KEY_Y + k2, roof_z))
    tip = socket.add_geom(name=f"{prefix}m2s_key_tip", type=mujoco.mjtGeom.mjGEOM_BOX, rgba=list(_RGBA_SOCKET),
                          pos=[key_x + k2, KEY_Y, (below + roof_z) / 2],
                          size=[k2 / np.sqrt(2.0), k2 / np.sqrt(2.0), (roof_z - below) / 2],
                          quat=geo.quat_to_mujoco(geo.euler_to_quat(np.array([0.0, 0.0, np.pi / 4]))).tolist())
    names.append(_fit(tip, 0.3).name)
    return names


def _add_standoff(socket: mujoco.MjsBody, prefix: str) -> list[str]:
    """Brass standoff whose top is the flat board's bottom plane, with a round-topped post through the notch.

    The standoff is a 5 mm square (a hex standoff's flats): a box, because box-on-box contacts
    give the board's tail several points, where a cylinder gave one and let a 30 N push sink
    it 1 mm.
    """
    x = SOCKET_DEPTH - SSD_LENGTH + POST_FROM_END
    base = socket.add_geom(name=f"{prefix}m2_standoff", type=mujoco.mjtGeom.mjGEOM_BOX,
                           pos=[x, 0, -STANDOFF_HEIGHT / 2], size=[0.0025, 0.0025, STANDOFF_HEIGHT / 2],
                           rgba=list(_RGBA_STANDOFF))
    top = SSD_THICKNESS + 0.0015
    post = socket.add_geom(name=f"{prefix}m2_standoff_post", type=mujoco.mjtGeom.mjGEOM_CAPSULE,
                           pos=[x, 0, (top - POST_RADIUS) / 2], size=[POST_RADIUS, (top - POST_RADIUS) / 2, 0],
                           rgba=list(_RGBA_STANDOFF))
    return [_fit(base, 0.4).name, _fit(post, 0.4).name]


def ssd_edge_corners() -> np.ndarray:
    """The gold-finger edge's two corners (bottom face), board frame, 2 x 3."""
    return np.array([[0.0, -SSD_WIDTH / 2, -SSD_THICKNESS / 2], [0.0, SSD_WIDTH / 2, -SSD_THICKNESS / 2]])


def ssd_notch_point() -> np.ndarray:
    """Where the standoff post's axis meets the board's bottom face when seated (board frame)."""
    return np.array([-SSD_LENGTH + POST_FROM_END, 0.0, -SSD_THICKNESS / 2])


def standoff_point() -> np.ndarray:
    """Post axis at the standoff's top face, socket frame (pairs with :func:`ssd_notch_point`)."""
    return np.array([SOCKET_DEPTH - SSD_LENGTH + POST_FROM_END, 0.0, 0.0])

