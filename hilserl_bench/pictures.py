"""Pictures and video frames that show what a task is about: a close view beside the policy cameras.

The overview camera shows the whole cell, in which a RAM stick or a USB plug is a few
pixels and the hand hides the insertion. The policy cameras (what the learner sees)
show the task clearly, so every README picture and video frame is one row: a free
camera that follows the tool and the insertion target from the side, then each policy
camera rendered at a readable size, each labelled. Simulator only; on another backend
:class:`CloseUpView` falls back to the env's own ``render()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np


@dataclass(frozen=True)
class PictureConfig:
    """Sizes and viewpoint of the composite frame."""

    height: int = 300
    """Pixel height of every panel (policy cameras are square at this size)."""
    close_width: int = 400
    """Pixel width of the close view panel."""
    azimuth: float = 60.0
    """Close view direction around the vertical (deg): from the robot's side, where parts are inserted."""
    elevation: float = -20.0
    """Close view pitch (deg, negative looks down)."""
    min_distance: float = 0.22
    """Close view distance (m) when the tool is at the target; it backs off as they separate."""
    labels: bool = True
    """Write each panel's name in its corner."""


def _label(frame: np.ndarray, text: str) -> np.ndarray:
    from PIL import Image, ImageDraw

    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image)
    box = draw.textbbox((6, 4), text)
    draw.rectangle((box[0] - 3, box[1] - 2, box[2] + 3, box[3] + 2), fill=(0, 0, 0))
    draw.text((6, 4), text, fill=(255, 255, 255))
    return np.asarray(image)


def _focus(env: Any) -> tuple[np.ndarray, float]:
    """Point between the tool(s) and the insertion target, and how far apart they are (m).

    Two-arm tasks have no single target, and their arm states are in each arm's own base
    frame: the view centres on the task's tracked objects (world frame) instead.
    """
    raw = env.unwrapped
    try:
        target = np.asarray(raw.task.target_pose[:3], dtype=float)
    except AttributeError:
        poses = raw.last_scene.poses if raw.last_scene is not None else {}
        points = [np.asarray(pose[:3], dtype=float) for pose in poses.values()]
        if not points:
            return np.array([0.6, 0.0, 0.1]), 0.3
        centre = np.mean(points, axis=0)
        return centre, float(max(np.linalg.norm(p - centre) for p in points)) + 0.1
    tools = [np.asarray(state.pose[:3], dtype=float) for state in getattr(raw, "_states", ())]
    if not tools:
        return target, 0.0
    tool = np.mean(tools, axis=0)
    return 0.5 * (tool + target), float(np.linalg.norm(tool - target))


def close_view(env: Any, config: PictureConfig = PictureConfig()) -> np.ndarray:
    """A free camera aimed between the tool and the target, backing off as they separate."""
    import mujoco

    backend = env.unwrapped.backend
    focus, spread = _focus(env)
    camera = mujoco.MjvCamera()
    camera.type = mujoco.mjtCamera.mjCAMERA_FREE
    camera.lookat[:] = focus
    camera.distance = config.min_distance + 1.3 * spread
    camera.azimuth, camera.elevation = config.azimuth, config.elevation
    renderer = backend._renderer(config.height, config.close_width)
    renderer.update_scene(backend.data, camera=camera)
    return renderer.render()


def policy_views(env: Any, config: PictureConfig = PictureConfig()) -> dict[str, np.ndarray]:
    """Each policy camera at ``config.height`` square (the learner sees the same view at 128 px)."""
    backend = env.unwrapped.backend
    renderer = backend._renderer(config.height, config.height)
    frames = {}
    for cam in env.unwrapped.task.cameras:
        renderer.update_scene(backend.data, camera=cam)
        frames[cam] = renderer.render()
    return frames


def supports_close_up(env: Any) -> bool:
    """Whether the env runs in the simulator (the close view needs its model and data)."""
    backend = getattr(env.unwrapped, "backend", None)
    return all(hasattr(backend, name) for name in ("data", "model", "_renderer"))


def composite(env: Any, config: PictureConfig = PictureConfig()) -> np.ndarray:
    """One (height, W, 3) row: close view, then every policy camera, labelled."""
    panels = {"close view": close_view(env, config), **policy_views(env, config)}
    if config.labels:
        panels = {name: _label(frame, name) for name, frame in panels.items()}
    gap = np.full((config.height, 4, 3), 255, dtype=np.uint8)
    row: list[np.ndarray] = []
    for frame in panels.values():
        row.extend([frame, gap])
    return np.concatenate(row[:-1], axis=1)


class CloseUpView(gym.Wrapper):
    """``render()`` returns :func:`composite` frames in simulation, the env's own frame elsewhere."""

    def __init__(self, env: gym.Env, config: PictureConfig = PictureConfig()) -> None:
        super().__init__(env)
        self.config = config

    def render(self) -> np.ndarray | None:
        if self.env.render_mode != "rgb_array":
            return None
        if not supports_close_up(self.env):
            return self.env.render()
        return composite(self.env, self.config)
