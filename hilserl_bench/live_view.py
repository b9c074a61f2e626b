"""An optional window showing what the person controls: MuJoCo's viewer (sim) or the cameras (real).

The simulator is shown with ``mujoco.viewer.launch_passive``, which renders from its
own thread while the control loop keeps stepping (:meth:`SimView.update` syncs it
once per step). A real cell is shown as a tile of its camera frames in an OpenCV
window with the episode, step, success and intervention state drawn on it. Both need
a display; without one :func:`make_live_view` raises :class:`ViewUnavailable` saying
to run headless (without ``--view``), and with ``enabled=False`` it returns a
:class:`NullView` that imports nothing. Closing the window sets ``running`` to False.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from hilserl_bench.errors import UserFacingError


class ViewUnavailable(UserFacingError):
    """The live view cannot open (no display, no GUI library); the message says what to do."""


@dataclass
class ViewStatus:
    """What the overlay shows."""

    episode: int = 0
    """Episode number."""
    step: int = 0
    """Step within the episode."""
    success: bool = False
    """The task (or the person) reported success."""
    intervening: bool = False
    """The person's device is in control this step."""
    note: str = ""
    """Free text (e.g. the key map reminder, 'labelling')."""

    def text(self) -> str:
        flags = ("SUCCESS  " if self.success else "") + ("HUMAN" if self.intervening else "policy")
        return f"episode {self.episode}  step {self.step}  {flags}" + (f"  {self.note}" if self.note else "")


def require_display() -> None:
    """:class:`ViewUnavailable` unless a window can be opened on this machine."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise ViewUnavailable("--view needs a display, but neither DISPLAY nor WAYLAND_DISPLAY is set; "
                              "run headless without --view (or forward X with `ssh -X`)")


class NullView:
    """No window; every call is free."""

    running = True

    def update(self, status: ViewStatus) -> None:
        """Nothing to draw."""

    def close(self) -> None:
        """Nothing to close."""


class SimView:
    """MuJoCo's passive viewer on the simulator's model and data."""

    def __init__(self, model: Any, data: Any) -> None:
        self.model, self.data = model, data
        self.handle: Any = None
        self.running = True

    def open(self) -> None:
        require_display()
        import mujoco.viewer

        try:
            self.handle = mujoco.viewer.launch_passive(self.model, self.data, show_left_ui=False, show_right_ui=False)
        except RuntimeError as exc:  # e.g. macOS without mjpython, GLFW failing to open a window
            raise ViewUnavailable(f"MuJoCo's viewer could not open ({exc}); run headless without --view") from exc

    def update(self, status: ViewStatus) -> None:
        """Push the current simulation state and overlay to the viewer thread."""
        import mujoco

        if self.handle is None or not self.handle.is_running():
            self.running = False
            return
        self.handle.set_texts((None, mujoco.mjtGridPos.mjGRID_TOPLEFT, status.text(), ""))
        self.handle.sync()

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def tile_frames(frames: dict[str, np.ndarray], height: int = 256) -> np.ndarray:
    """Camera frames side by side, each resized (nearest neighbour) to ``height`` rows; RGB uint8."""
    if not frames:
        return np.zeros((height, height, 3), np.uint8)
    tiles = []
    for frame in frames.values():
        h, w = frame.shape[:2]
        width = max(1, round(w * height / h))
        tiles.append(frame[(np.arange(height) * h) // height][:, (np.arange(width) * w) // width])
    return np.ascontiguousarray(np.concatenate(tiles, axis=1), dtype=np.uint8)


class CameraView:
    """The cell's cameras in an OpenCV window (``opencv-python``, not the headless wheel)."""

    window = "hilserl-bench"

    def __init__(self, raw_env: Any, height: int = 256) -> None:
        self.raw, self.height = raw_env, height
        self.cv2: Any = None
        self.running = True

    def open(self) -> None:
        require_display()
        try:
            import cv2
        except ImportError as exc:
            raise ViewUnavailable("the camera view needs OpenCV with GUI support (`pip install opencv-python`); "
                                  "or run headless without --view") from exc
        self.cv2 = cv2

    def frames(self) -> dict[str, np.ndarray]:
        """The newest observation's images, else fresh frames from the backend's cameras."""
        images = self.raw.last_obs.get("images") if isinstance(self.raw.last_obs, dict) else None
        if images:
            return dict(images)
        return dict(self.raw.backend.camera_frames(self.raw.task.cameras))

    def update(self, status: ViewStatus) -> None:
        cv2 = self.cv2
        image = np.ascontiguousarray(tile_frames(self.frames(), self.height)[..., ::-1])
        color = (0, 0, 255) if status.intervening else (0, 200, 0) if status.success else (255, 255, 255)
        cv2.putText(image, status.text(), (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, color, 1, cv2.LINE_AA)
        try:
            cv2.imshow(self.window, image)
            cv2.waitKey(1)
            if cv2.getWindowProperty(self.window, cv2.WND_PROP_VISIBLE) < 1:
                self.running = False
        except cv2.error as exc:
            raise ViewUnavailable(f"OpenCV cannot open windows ({exc}); install opencv-python instead of "
                                  "opencv-python-headless, or run headless without --view") from exc

    def close(self) -> None:
        if self.cv2 is not None:
            with contextlib.suppress(self.cv2.error):
                self.cv2.destroyWindow(self.window)
            self.cv2 = None


def make_live_view(raw_env: Any, enabled: bool) -> NullView | SimView | CameraView:
    """An opened view of ``raw_env`` (a :class:`~hilserl_bench.env.FrankaEnv`), or :class:`NullView`."""
    if not enabled:
        return NullView()
    backend = raw_env.unwrapped.backend
    model, data = getattr(backend, "model", None), getattr(backend, "data", None)
    if model is not None and data is not None and type(model).__module__.startswith("mujoco"):
        view: SimView | CameraView = SimView(model, data)
    else:
        view = CameraView(raw_env.unwrapped)
    view.open()
    return view
