"""A USB cable: a free USB-A plug (what the gripper holds) with a cable-plugin chain leaving its back face.

The chain is MuJoCo's ``composite type="cable"`` with the ``mujoco.elasticity.cable``
plugin (deformables.md): ``segments`` capsules joined by ball joints, its first body
fixed to the plug (``initial="none"``), the rest free to bend and to lie on the table.
MjSpec has no composite builder, so the cable is written as a small MJCF document,
parsed into its own spec and attached with a prefix.

Plug frame: origin at the overmould's centre, x toward the metal shell, z up; the
cable leaves the back face (x = -10 mm) along -x. Material numbers for a 4 mm USB 2.0
cable: about 20 g/m, bending stiffness EI about 6e-4 N m^2 (Young's modulus 5e7 Pa on
a 2 mm radius), twist modulus 1e7 Pa. With capsules of 0.3 g the bend mode has
sqrt(k/I) * dt of about 0.2 at 2 ms, inside the stability bound; a little joint
damping and armature keep random shaking from exciting the chain. The capsules use the
tight-fit contact parameters (:mod:`hilserl_bench.envs.props`) with a high ``solmix``, so
they also govern the capsules' contacts with the table and the fingers: with the
default solref a 10 N press sank the cable 0.8 mm into the clip's floor or the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import mujoco
import numpy as np

from hilserl_bench.envs.props import (
    FIT_CONDIM,
    FIT_SOLIMP,
    FIT_SOLREF,
    METAL,
    PROP_CONAFFINITY,
    PROP_CONTYPE,
    body_frame,
)

PLUG_SIZE = (0.020, 0.012, 0.007)
"""Overmould length, width (what the fingers close on), height (m)."""
SHELL_SIZE = (0.012, 0.012, 0.0045)
PLUG_MASS, PLUG_FRICTION = 0.008, 0.6
HELD_POSE_IN_TCP = (0.0, 0.0, 0.006, 1.0, 0.0, 0.0, 0.0)
"""Plug pose in a top-down TCP frame: centre 6 mm below the TCP, so the 18 mm pads end 3 mm below it."""


@dataclass(frozen=True)
class CableConfig:
    """Cable dimensions and material."""

    segments: int = 16
    """Capsules in the chain (15 to 25 keeps it fast; cost grows about as n^2.5)."""
    length: float = 0.25
    """Cable length from the plug's back face (m)."""
    radius: float = 0.002
    """Jacket radius (m): a 4 mm USB 2.0 cable."""
    linear_density: float = 0.020
    """Mass per metre (kg/m)."""
    bend: float = 5e7
    """Plugin bending modulus (Pa)."""
    twist: float = 1e7
    """Plugin twist modulus (Pa)."""
    damping: float = 0.0005
    """Ball-joint damping (N m s/rad)."""
    armature: float = 1e-6
    """Ball-joint armature (kg m^2), slows the stiffest bend mode."""
    friction: float = 0.5
    """Jacket sliding friction."""


@dataclass(frozen=True)
class CableNames:
    """Element names of the cable and its plug."""

    plug_body: str
    """The plug (free joint; track this one)."""
    segment_bodies: tuple[str, ...]
    """Chain bodies from the plug outward; each frame at its capsule's start, capsule along its +x."""
    segment_geoms: tuple[str, ...]
    """The capsules (the cable side of the tight-fit pair)."""
    segment_length: float
    """Capsule length between joints (m)."""
    radius: float
    """Capsule radius (m)."""


def _cable_mjcf(cfg: CableConfig) -> str:
    seg_mass = cfg.linear_density * cfg.length / cfg.segments
    seg_len = cfg.length / cfg.segments
    density = seg_mass / (np.pi * cfg.radius**2 * seg_len + 4.0 / 3.0 * np.pi * cfg.radius**3)
    px, py, pz = (s / 2 for s in PLUG_SIZE)
    solref, solimp = " ".join(map(str, FIT_SOLREF)), " ".join(map(str, FIT_SOLIMP))
    return f"""
<mujoco>
  <extension><plugin plugin="mujoco.elasticity.cable"/></extension>
  <worldbody>
    <body name="plug">
      <freejoint name="plug_joint"/>
      <geom name="plug_mould" type="box" size="{px} {py} {pz}" mass="{PLUG_MASS}" rgba="0.1 0.1 0.1 1"/>
      <body name="root" pos="{-px} 0 0" quat="0 0 0 1">
        <composite prefix="seg_" type="cable" curve="s" count="{cfg.segments + 1} 1 1" size="{cfg.length}"
                   initial="none">
          <plugin plugin="mujoco.elasticity.cable">
            <config key="twist" value="{cfg.twist}"/>
            <config key="bend" value="{cfg.bend}"/>
            <config key="vmax" value="0"/>
          </plugin>
          <joint kind="main" damping="{cfg.damping}" armature="{cfg.armature}"/>
          <geom type="capsule" size="{cfg.radius}" rgba="0.12 0.12 0.13 1" condim="{FIT_CONDIM}" density="{density}"
                friction="{cfg.friction} 0.005 0.0001" solref="{solref}" solimp="{solimp}" solmix="100"
                margin="0" gap="0"/>
        </composite>
      </body>
    </body>
  </worldbody>
</mujoco>"""


def add_usb_cable(spec: mujoco.MjSpec, pose: Sequence[float], prefix: str = "usb_cable/",
                  config: CableConfig | None = None) -> CableNames:
    """Attach a free USB cable whose plug sits at ``pose`` (cable straight along the plug's -x).

    Element names start with ``prefix`` (MuJoCo warns about attaching without one).
    """
    if not prefix:
        raise ValueError("prefix must be non-empty (e.g. 'usb_cable/'); MuJoCo cannot save unprefixed attachments")
    cfg = config or CableConfig()
    if not 2 <= cfg.segments <= 60:
        raise ValueError(f"segments={cfg.segments} is out of range; use 15 to 25 (2 to 60 allowed)")
    child = mujoco.MjSpec.from_string(_cable_mjcf(cfg))
    for geom in child.geoms:
        geom.contype, geom.conaffinity = PROP_CONTYPE, PROP_CONAFFINITY
    plug = child.body("plug")
    plug.add_geom(name="plug_shell", type=mujoco.mjtGeom.mjGEOM_BOX, rgba=list(METAL),
                  pos=[PLUG_SIZE[0] / 2 + SHELL_SIZE[0] / 2, 0, 0], size=[s / 2 for s in SHELL_SIZE],
                  mass=0.002, contype=PROP_CONTYPE, conaffinity=PROP_CONAFFINITY)
    plug.geoms[0].friction = [PLUG_FRICTION, 0.005, 0.0001]
    frame = spec.worldbody.add_frame(**body_frame(pose))
    spec.attach(child, frame=frame, prefix=prefix)
    segments = segment_names(prefix, cfg.segments)
    for body in segments[:2]:
        spec.add_exclude(bodyname1=f"{prefix}plug", bodyname2=body)
    geoms = tuple(g.name for b in segments for g in spec.body(b).geoms)
    return CableNames(plug_body=f"{prefix}plug", segment_bodies=tuple(segments), segment_geoms=geoms,
                      segment_length=cfg.length / cfg.segments, radius=cfg.radius)


def segment_names(prefix: str, segments: int) -> tuple[str, ...]:
    """Chain body names from the plug outward, as the composite names them."""
    middle = tuple(f"{prefix}seg_B_{i}" for i in range(1, segments - 1))
    return (f"{prefix}seg_B_first", *middle, f"{prefix}seg_B_last")
