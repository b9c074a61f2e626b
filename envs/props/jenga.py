"""A Jenga tower: 18 layers of 3 hardwood blocks (7.5 x 2.5 x 1.5 cm, 600 kg/m^3, about 17 g each).

Layers alternate direction: even layers run along the tower's x axis, odd layers
along its y axis (the tower frame sits at the centre of the footprint on the table).
The upper layers are free blocks; the bottom ones can be merged into one rigid base
body (``free_layers``), which keeps a struck tower affordable on a CPU: a fully free
54-block tower has ~550 stiff contacts once awake and ran at ~40 physics steps/s on
this (shared) machine. :func:`block_offsets` gives the nominal stack. Contacts use
the stiff parameters of deformables.md (solref 0.004, solimp 0.95/0.99/1 mm), with
which a tower left alone stays put (the ``dynamic_checks`` benchmark measures its
drift), and every body starts asleep (MuJoCo's ``sleep``) so a standing tower costs
almost nothing until something touches it.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.envs.props import PROP_CONAFFINITY, PROP_CONTYPE, body_frame

LAYERS = 18
BLOCKS_PER_LAYER = 3
BLOCK_SIZE = (0.075, 0.025, 0.015)
"""Length, width, height (m)."""
BLOCK_DENSITY = 600.0
BLOCK_SOLREF = (0.004, 1.0)
BLOCK_SOLIMP = (0.95, 0.99, 0.0005, 0.5, 2.0)
BLOCK_FRICTION = 0.45
"""Nominal sliding friction of wood on wood (tasks randomise it)."""
WOOD = ((0.80, 0.66, 0.45, 1.0), (0.74, 0.60, 0.40, 1.0))
TARGET_RGBA = (0.85, 0.25, 0.15, 1.0)


@dataclass(frozen=True)
class TowerNames:
    """Element names of a tower."""

    base: str
    """Body holding the bottom layers as one rigid piece (its frame is the tower frame)."""
    base_layers: int
    """How many bottom layers the base holds."""
    free_blocks: tuple[str, ...]
    """Free block bodies of the upper layers, bottom first (geoms carry the same names)."""


def block_name(layer: int, slot: int, prefix: str = "") -> str:
    """Name of a block body (and its geom)."""
    return f"{prefix}jenga_{layer:02d}_{slot}"


def block_offsets() -> dict[tuple[int, int], np.ndarray]:
    """Nominal pose of each block in the tower frame (z = 0 on the table), keyed (layer, slot)."""
    length, width, height = BLOCK_SIZE
    out = {}
    for layer in range(LAYERS):
        along_x = layer % 2 == 0
        yaw = 0.0 if along_x else np.pi / 2
        quat = geo.euler_to_quat(np.array([0.0, 0.0, yaw]))
        for slot in range(BLOCKS_PER_LAYER):
            offset = (slot - 1) * width
            xy = (0.0, offset) if along_x else (offset, 0.0)
            out[(layer, slot)] = np.array([xy[0], xy[1], height * (layer + 0.5), *quat])
    return out


def block_poses(tower_pose: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """World poses of every block for a tower standing at ``tower_pose`` (its footprint centre on the table)."""
    return {key: geo.pose_compose(tower_pose, rel) for key, rel in block_offsets().items()}


def add_tower(spec: mujoco.MjSpec, tower_pose: np.ndarray, target: tuple[int, int] | None = None,
              free_layers: int = LAYERS, prefix: str = "") -> TowerNames:
    """Add the tower at ``tower_pose``: the top ``free_layers`` layers as free blocks, the rest as one base body.

    Every body starts asleep (``sleep="init"``): placed exactly on each other they are at
    rest, and the first contact wakes them. Tasks move the tower between episodes through
    ``qpos0`` so a reset keeps it asleep. ``target`` is painted red.
    """
    base_layers = LAYERS - free_layers
    base = spec.worldbody.add_body(name=f"{prefix}jenga_base", **body_frame(tower_pose))
    base.add_freejoint(name=f"{prefix}jenga_base_free")
    free = []
    for (layer, slot), rel in block_offsets().items():
        name = block_name(layer, slot, prefix)
        rgba = TARGET_RGBA if target == (layer, slot) else WOOD[(layer + slot) % 2]
        if layer < base_layers:
            _block_geom(base, name, rgba, rel)
            continue
        body = spec.worldbody.add_body(name=name, **body_frame(geo.pose_compose(tower_pose, rel)))
        body.add_freejoint(name=f"{name}_free")
        _block_geom(body, name, rgba, None)
        free.append(name)
    for body in (base, *(spec.body(n) for n in free)):
        body.sleep = mujoco.mjtSleepPolicy.mjSLEEP_INIT
    if hasattr(mujoco.mjtEnableBit, "mjENBL_SLEEP"):
        spec.option.enableflags |= int(mujoco.mjtEnableBit.mjENBL_SLEEP)
    return TowerNames(base=f"{prefix}jenga_base", base_layers=base_layers, free_blocks=tuple(free))


def _block_geom(body: mujoco.MjsBody, name: str, rgba, rel: np.ndarray | None) -> None:
    geom = body.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_BOX, size=[s / 2 for s in BLOCK_SIZE],
                         rgba=list(rgba), density=BLOCK_DENSITY, friction=[BLOCK_FRICTION, 0.005, 0.0001])
    if rel is not None:
        frame = body_frame(rel)
        geom.pos, geom.quat = frame["pos"], frame["quat"]
    geom.contype, geom.conaffinity = PROP_CONTYPE, PROP_CONAFFINITY
    geom.solref, geom.solimp = list(BLOCK_SOLREF), list(BLOCK_SOLIMP)
