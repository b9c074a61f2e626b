"""Domain randomisation for sim-to-real: what the cameras see and the physics that matter, redrawn every reset.

:class:`DomainRandomisation` wraps a simulated env (raw or inside the training stack) and, before
each ``reset``, rewrites the compiled MuJoCo model from the nominal values it saved at wrap time:

=====================  ==========================================================================
lighting               every light's diffuse colour scaled by ``light_scale``, its position moved
                       by up to ``light_shift`` m per axis; headlight ambient scaled likewise
colours                every non-robot geom (table, floor, props) gets its RGB scaled per channel
                       by ``colour_scale`` (alpha kept); the scene has no texture images, so
                       colours are what "textures" can vary here
camera pose            every policy camera moved by up to ``camera_shift`` m per axis and turned
                       by up to ``camera_tilt`` rad about a random axis
friction               sliding friction of every non-robot geom scaled by ``friction_scale``
masses                 mass and inertia of every free (prop) body scaled by ``mass_scale``
=====================  ==========================================================================

Draws come from the reset seed (``reset(seed=s)`` gives the same scene every time). A task can
narrow or widen the ranges by defining a ``domain_randomisation`` attribute holding a
:class:`DomainRandomisationConfig`. Robot geoms (``contype`` 2) keep their look and physics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from hilserl_bench import geometry as geo


@dataclass(frozen=True)
class DomainRandomisationConfig:
    """Ranges of every randomised quantity (multiplicative ranges are ``(low, high)`` factors)."""

    light_scale: tuple[float, float] = (0.5, 1.5)
    """Factor on each light's diffuse colour and on the headlight's ambient light."""
    light_shift: float = 0.3
    """Largest move of a light's position per axis (m)."""
    colour_scale: tuple[float, float] = (0.6, 1.4)
    """Per-channel factor on the RGB of table, floor and props (clipped to [0, 1])."""
    camera_shift: float = 0.005
    """Largest move of a policy camera per axis (m)."""
    camera_tilt: float = 0.03
    """Largest rotation of a policy camera (rad, about a random axis)."""
    friction_scale: tuple[float, float] = (0.7, 1.3)
    """Factor on the sliding friction of table and props."""
    mass_scale: tuple[float, float] = (0.8, 1.2)
    """Factor on the mass and inertia of every free body (the props)."""


class DomainRandomisation(gym.Wrapper):
    """Redraw lighting, colours, camera poses, friction and masses at every reset (see the module docstring)."""

    def __init__(self, env: gym.Env, config: DomainRandomisationConfig | None = None) -> None:
        super().__init__(env)
        raw = env.unwrapped
        model = getattr(getattr(raw, "backend", None), "model", None)
        if not isinstance(model, mujoco.MjModel):
            raise ValueError("domain randomisation changes the simulated scene: it needs --backend sim")
        self.config = config or getattr(raw.task, "domain_randomisation", None) or DomainRandomisationConfig()
        self.model = model
        robot_roots = set(model.body_rootid[model.geom_bodyid[model.geom_contype == 2]].tolist())
        self._scene_geoms = np.flatnonzero(~np.isin(model.body_rootid[model.geom_bodyid], list(robot_roots)))
        free = np.flatnonzero(model.jnt_type == mujoco.mjtJoint.mjJNT_FREE)
        self._prop_bodies = np.unique(model.jnt_bodyid[free])
        self._cameras = np.array([model.camera(name).id for name in raw.task.cameras])
        self._nominal = {k: np.array(getattr(model, k)) for k in (
            "light_diffuse", "light_pos", "geom_rgba", "geom_friction", "body_mass", "body_inertia", "cam_pos",
            "cam_quat")}
        self._ambient = np.array(model.vis.headlight.ambient)
        self._rng = np.random.default_rng()
        self.last_draw: dict[str, Any] = {}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            self._rng = np.random.default_rng([seed, 0x0D8])
        self.randomise(self._rng)
        return self.env.reset(seed=seed, options=options)

    def randomise(self, rng: np.random.Generator) -> None:
        """Rewrite the model from the nominal values with fresh draws."""
        cfg, m, nom = self.config, self.model, self._nominal
        n_light = m.nlight
        light = rng.uniform(*cfg.light_scale, size=(n_light, 1))
        m.light_diffuse[:] = np.clip(nom["light_diffuse"] * light, 0.0, 1.0)
        m.light_pos[:] = nom["light_pos"] + rng.uniform(-cfg.light_shift, cfg.light_shift, size=(n_light, 3))
        m.vis.headlight.ambient[:] = np.clip(self._ambient * rng.uniform(*cfg.light_scale), 0.0, 1.0)
        g = self._scene_geoms
        rgba = nom["geom_rgba"].copy()
        rgba[g, :3] = np.clip(rgba[g, :3] * rng.uniform(*cfg.colour_scale, size=(len(g), 3)), 0.0, 1.0)
        m.geom_rgba[:] = rgba
        friction = nom["geom_friction"].copy()
        friction[g, 0] *= rng.uniform(*cfg.friction_scale, size=len(g))
        m.geom_friction[:] = friction
        mass = rng.uniform(*cfg.mass_scale, size=len(self._prop_bodies))
        m.body_mass[:], m.body_inertia[:] = nom["body_mass"], nom["body_inertia"]
        m.body_mass[self._prop_bodies] *= mass
        m.body_inertia[self._prop_bodies] *= mass[:, None]
        m.cam_pos[:], m.cam_quat[:] = nom["cam_pos"], nom["cam_quat"]
        for cam in self._cameras:
            m.cam_pos[cam] += rng.uniform(-cfg.camera_shift, cfg.camera_shift, size=3)
            axis = rng.normal(size=3)
            angle = rng.uniform(-cfg.camera_tilt, cfg.camera_tilt)
            turn = geo.quat_to_mujoco(geo.rotvec_to_quat(axis / np.linalg.norm(axis) * angle))
            out = np.empty(4)
            mujoco.mju_mulQuat(out, turn, m.cam_quat[cam])
            m.cam_quat[cam] = out
        self.last_draw = {"light_scale": light[:, 0].tolist(), "prop_mass_scale": mass.tolist()}

    def close(self) -> None:
        model, nom = self.model, self._nominal
        for key, value in nom.items():
            getattr(model, key)[:] = value
        model.vis.headlight.ambient[:] = self._ambient
        super().close()
