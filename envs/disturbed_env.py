"""The simulator applying a task's disturbance to an episode: a wrapper that reaches into the MuJoCo cell.

:class:`DisturbedEnv` wraps a simulated env (raw, or outermost around the training stack:
it counts env steps and acts on ``env.unwrapped.backend``). At every reset it draws the
episode's :class:`~hilserl_bench.disturbances.DisturbanceEvent` from the reset seed, and
during the steps the event covers it changes the cell before the step's physics runs:

* ``ForcePulse`` / ``CablePush``: ``xfrc_applied`` on the body for those control periods, cleared after;
* ``MoveBody``: the body's root moves by the offset: a free joint's position, a mocap body, or a fixed
  fixture's ``body_pos`` (restored at the next reset);
* ``ShiftInGrasp``: the held part's free-joint position moves by the offset in the part's frame;
* ``VisualChange``: light diffuse and scene colours scaled (restored at the next reset).

``info["disturbance"]`` is the kind name on every step the event acts during and ``""``
otherwise; ``info["disturbance_onset_step"]`` is the drawn onset. ``render()`` frames of
the steps it acts during, and a few after, get a red border and a label, so videos show it.
Refuses any backend but the simulator: a disturbance is never sent to a robot.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.disturbances import SIM_ONLY, DisturbanceEvent, DisturbanceSpec, event_rng, task_disturbances
from hilserl_bench.errors import UserFacingError

MARK_STEPS = 5
"""Video frames marked after a one-step event, so a 10 fps video shows it for half a second."""


class DisturbedEnv(gym.Wrapper):
    """Apply one disturbance kind per episode (see the module docstring)."""

    def __init__(self, env: gym.Env, kind: str, spec: DisturbanceSpec | None = None) -> None:
        super().__init__(env)
        raw = env.unwrapped
        backend = getattr(raw, "backend", None)
        model = getattr(backend, "model", None)
        if not isinstance(model, mujoco.MjModel):
            raise UserFacingError(SIM_ONLY)
        kinds = task_disturbances(type(raw.task))
        if spec is None and kind not in kinds:
            raise UserFacingError(f"task {raw.task.task_id} has no disturbance {kind!r}; "
                                  f"its kinds: {', '.join(kinds) or 'none'}")
        self.kind, self.disturbance = kind, spec or kinds[kind]
        self.backend, self.model, self.data = backend, model, backend.data
        robot_roots = set(model.body_rootid[model.geom_bodyid[model.geom_contype == 2]].tolist())
        self._scene_geoms = np.flatnonzero(~np.isin(model.body_rootid[model.geom_bodyid], list(robot_roots)))
        self._nominal = {k: np.array(getattr(model, k)) for k in ("body_pos", "light_diffuse", "geom_rgba",
                                                                   "mat_rgba")}
        self._seed = -1
        self.event: DisturbanceEvent | None = None
        self.applied_step: int | None = None
        """Env step at which this episode's event first acted (None: the episode ended before its onset)."""
        self._step = 0
        self._marked_until = -1

    # -- gymnasium API ----------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self.restore()
        self._seed = int(seed) if seed is not None else self._seed + 1
        obs, info = self.env.reset(seed=seed, options=options)
        self.event = self.disturbance.sample(self.kind, event_rng(self._seed), float(self.unwrapped.control_dt))
        self._step, self.applied_step, self._marked_until = 0, None, -1
        return obs, {**info, "disturbance": "", "disturbance_onset_step": self.event.onset_step}

    def step(self, action: Any):
        event = self.event
        if event is None:
            raise RuntimeError("call reset() before step()")
        active = event.active(self._step)
        if active:
            self._apply(event, first=self._step == event.onset_step)
            if self.applied_step is None:
                self.applied_step = self._step
            self._marked_until = self._step + max(event.steps, MARK_STEPS)
        try:
            obs, reward, terminated, truncated, info = self.env.step(action)
        finally:
            if active and event.type in ("ForcePulse", "CablePush"):
                self.data.xfrc_applied[self.model.body(event.body).id, :3] = 0.0
        self._step += 1
        info = {**info, "disturbance": self.kind if active else "", "disturbance_onset_step": event.onset_step}
        return obs, reward, terminated, truncated, info

    def render(self) -> Any:
        frame = self.env.render()
        if frame is None or self._step > self._marked_until or self.event is None:
            return frame
        return mark_frame(np.asarray(frame), f"disturbance: {self.kind}")

    def close(self) -> None:
        self.restore()
        super().close()

    # -- applying ---------------------------------------------------------------------------
    def _apply(self, event: DisturbanceEvent, first: bool) -> None:
        m, d = self.model, self.data
        vector = np.asarray(event.vector, dtype=np.float64)
        if event.type in ("ForcePulse", "CablePush"):
            d.xfrc_applied[m.body(event.body).id, :3] = vector
        elif not first:
            return
        elif event.type == "MoveBody":
            self._move_root(m.body(event.body).id, vector)
        elif event.type == "ShiftInGrasp":
            addr = self._free_qpos(m.body(event.body).id)
            rotation = geo.quat_to_mat(geo.quat_from_mujoco(d.qpos[addr + 3:addr + 7]))
            d.qpos[addr:addr + 3] += rotation @ vector
        elif event.type == "VisualChange":
            m.light_diffuse[:] = np.clip(self._nominal["light_diffuse"] * event.light_scale, 0.0, 1.0)
            g, colour = self._scene_geoms, np.asarray(event.colour_scale)
            m.geom_rgba[g, :3] = np.clip(self._nominal["geom_rgba"][g, :3] * colour, 0.0, 1.0)
            mats = np.unique(m.geom_matid[g][m.geom_matid[g] >= 0])
            m.mat_rgba[mats, :3] = np.clip(self._nominal["mat_rgba"][mats, :3] * colour, 0.0, 1.0)
        else:
            raise ValueError(f"unknown disturbance type {event.type!r}")
        mujoco.mj_forward(m, d)

    def _move_root(self, body: int, offset: np.ndarray) -> None:
        """Move the body's root: a free joint's position, a mocap position, or a fixed body's model pose."""
        m, d = self.model, self.data
        root = int(m.body_rootid[body])
        joint = int(m.body_jntadr[root])
        if joint >= 0 and m.jnt_type[joint] == mujoco.mjtJoint.mjJNT_FREE:
            addr = int(m.jnt_qposadr[joint])
            d.qpos[addr:addr + 3] += offset
        elif m.body_mocapid[root] >= 0:
            d.mocap_pos[m.body_mocapid[root]] += offset
        elif joint < 0:
            m.body_pos[root] += offset
        else:
            raise ValueError(f"body {m.body(root).name!r} has joints that are not free; move one of its parts")

    def _free_qpos(self, body: int) -> int:
        m = self.model
        joint = int(m.body_jntadr[body])
        if joint < 0 or m.jnt_type[joint] != mujoco.mjtJoint.mjJNT_FREE:
            raise ValueError(f"body {m.body(body).name!r} has no free joint; a grasp shift moves a free part")
        return int(m.jnt_qposadr[joint])

    def restore(self) -> None:
        """Undo model edits (moved fixtures, lighting, colours) and any force left on."""
        for key, value in self._nominal.items():
            getattr(self.model, key)[:] = value
        self.data.xfrc_applied[:] = 0.0


def mark_frame(frame: np.ndarray, text: str, width: int = 6) -> np.ndarray:
    """A red border and a label on a video frame, to show the steps a disturbance acts during."""
    from PIL import Image, ImageDraw

    out = frame.copy()
    red = np.array([230, 30, 30], dtype=np.uint8)
    out[:width], out[-width:], out[:, :width], out[:, -width:] = red, red, red, red
    image = Image.fromarray(out)
    draw = ImageDraw.Draw(image)
    h = out.shape[0]
    box = draw.textbbox((width + 4, h - width - 16), text)
    draw.rectangle((box[0] - 3, box[1] - 2, box[2] + 3, box[3] + 2), fill=(160, 0, 0))
    draw.text((width + 4, h - width - 16), text, fill=(255, 255, 255))
    return np.asarray(image)
