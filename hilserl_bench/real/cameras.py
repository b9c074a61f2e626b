"""Policy cameras on the real cell: RealSense, any OpenCV device, or the emulator's renderer.

Hardware cameras are read by a daemon thread that keeps only the newest frame, so
the 10 Hz loop never waits on a driver. A camera that stops delivering (unplugged,
USB bandwidth, a hung driver call) makes :meth:`ThreadedCamera.read` raise
:class:`CameraError` once its newest frame is older than ``stall_s``; nothing ever
waits on a console prompt. Frames are cropped per task and resized to the task's
square image size (OpenCV's area filter when installed, else box averaging).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from hilserl_bench.real.config import CameraConfig

Crop = tuple[int, int, int, int]


class CameraError(RuntimeError):
    """A camera could not be opened, stalled, or disconnected; the message names it."""


class FrameSource(Protocol):
    """A driver handle: ``read`` returns one RGB uint8 frame (it may block briefly), ``close`` frees it."""

    def read(self) -> np.ndarray: ...

    def close(self) -> None: ...


def crop_and_resize(frame: np.ndarray, crop: Crop | None, size: int) -> np.ndarray:
    """Crop (top, bottom, left, right) then resize to (size, size, 3) uint8."""
    if crop is not None:
        top, bottom, left, right = (int(c) for c in crop)
        cropped = frame[top:bottom, left:right]
        if cropped.size == 0:
            raise CameraError(f"crop {list(crop)} (top, bottom, left, right) leaves no pixels of a {frame.shape} frame")
        frame = cropped
    if frame.shape[:2] == (size, size):
        return np.ascontiguousarray(frame, dtype=np.uint8)
    try:
        import cv2
    except ImportError:
        return _box_resize(frame, size)
    return cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA)


def _box_resize(frame: np.ndarray, size: int) -> np.ndarray:
    """Average each output pixel's source box (an area filter); nearest neighbour when upscaling."""
    h, w = frame.shape[:2]
    if h < size or w < size:
        return frame[(np.arange(size) * h) // size][:, (np.arange(size) * w) // size]
    rows, cols = (np.arange(size + 1) * h) // size, (np.arange(size + 1) * w) // size
    sums = np.add.reduceat(np.add.reduceat(frame.astype(np.float32), rows[:-1], axis=0), cols[:-1], axis=1)
    return (sums / np.outer(np.diff(rows), np.diff(cols))[..., None] + 0.5).astype(np.uint8)


class ThreadedCamera:
    """Latest-frame reader around a :class:`FrameSource` opened by ``open_source`` in the reader thread."""

    def __init__(self, name: str, open_source: Callable[[], FrameSource], crop: Crop | None, size: int,
                 stall_s: float = 1.0, start_s: float = 5.0) -> None:
        self.name, self.crop, self.size, self.stall_s, self.start_s = name, crop, size, stall_s, start_s
        self._open_source = open_source
        self._lock = threading.Lock()
        self._frame: np.ndarray | None = None
        self._stamp = 0.0
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._first = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> ThreadedCamera:
        """Start reading; raises :class:`CameraError` if no frame arrives within ``start_s``."""
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"camera-{self.name}")
        self._thread.start()
        if not self._first.wait(self.start_s):
            self._stop.set()
            raise CameraError(f"camera {self.name!r} delivered no frame within {self.start_s:.1f} s of opening")
        if self._error is not None and self._frame is None:
            self.close()
            raise CameraError(f"camera {self.name!r} failed to open: {self._error}") from self._error
        return self

    def _run(self) -> None:
        source = None
        try:
            source = self._open_source()
            while not self._stop.is_set():
                frame = crop_and_resize(source.read(), self.crop, self.size)
                with self._lock:
                    self._frame, self._stamp = frame, time.monotonic()
                self._first.set()
        except BaseException as exc:  # noqa: BLE001  (reported to the reading thread)
            self._error = exc
            self._first.set()
        finally:
            if source is not None:
                source.close()

    def read(self) -> np.ndarray:
        """The newest frame, or :class:`CameraError` if the camera died or stalled."""
        with self._lock:
            frame, age = self._frame, time.monotonic() - self._stamp
        if self._error is not None:
            raise CameraError(f"camera {self.name!r} disconnected: {self._error}") from self._error
        if frame is None or age > self.stall_s:
            raise CameraError(f"camera {self.name!r} stalled: newest frame is {age:.2f} s old "
                              f"(limit {self.stall_s:.2f} s); check its cable and USB bandwidth")
        return frame

    def close(self) -> None:
        """Stop the reader; a driver call stuck forever leaves only a daemon thread behind."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)


class EmulatorCamera:
    """A camera rendered by the emulator (``/sim/camera/<name>``), read synchronously for determinism."""

    def __init__(self, name: str, client: Any, crop: Crop | None, size: int) -> None:
        self.name, self.client, self.crop, self.size = name, client, crop, size

    def read(self) -> np.ndarray:
        return crop_and_resize(self.client.sim_camera(self.name, self.size), self.crop, self.size)

    def close(self) -> None:
        """The client's session belongs to the backend."""


class RealSenseSource:
    """A RealSense colour stream by serial (``pyrealsense2``, the ``realsense`` extra)."""

    def __init__(self, cfg: CameraConfig, timeout_ms: int = 1000) -> None:
        try:
            import pyrealsense2 as rs
        except ImportError:
            raise CameraError("RealSense cameras need pyrealsense2: pip install 'hilserl-bench[realsense]'") from None
        self._timeout_ms = timeout_ms
        self._pipe = rs.pipeline()
        rs_cfg = rs.config()
        rs_cfg.enable_device(cfg.serial)
        rs_cfg.enable_stream(rs.stream.color, cfg.width, cfg.height, rs.format.rgb8, cfg.fps)
        profile = self._pipe.start(rs_cfg)
        if cfg.exposure is not None:
            sensor = profile.get_device().query_sensors()[1]
            sensor.set_option(rs.option.exposure, float(cfg.exposure))

    def read(self) -> np.ndarray:
        frames = self._pipe.wait_for_frames(self._timeout_ms)
        return np.asanyarray(frames.get_color_frame().get_data()).copy()

    def close(self) -> None:
        self._pipe.stop()


class OpenCVSource:
    """Any device OpenCV opens (index, /dev/videoN, stream URL; the ``opencv`` extra)."""

    def __init__(self, cfg: CameraConfig) -> None:
        try:
            import cv2
        except ImportError:
            raise CameraError("OpenCV cameras need opencv: pip install 'hilserl-bench[opencv]'") from None
        self._cv2 = cv2
        self._cap = cv2.VideoCapture(cfg.device)
        if not self._cap.isOpened():
            raise CameraError(f"OpenCV cannot open device {cfg.device!r}")
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, cfg.width)
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, cfg.height)
        self._cap.set(cv2.CAP_PROP_FPS, cfg.fps)

    def read(self) -> np.ndarray:
        ok, frame = self._cap.read()
        if not ok:
            raise CameraError("device returned no frame (unplugged?)")
        return self._cv2.cvtColor(frame, self._cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        self._cap.release()


def open_camera(name: str, cfg: CameraConfig, crop: Crop | None, size: int, client: Any = None,
                stall_s: float = 1.0, start_s: float = 5.0) -> ThreadedCamera | EmulatorCamera:
    """Open one camera per its config; hardware cameras start their reader thread here."""
    if cfg.kind == "emulator":
        if client is None:
            raise CameraError(f"camera {name!r} is an emulator camera but no emulator client was given")
        return EmulatorCamera(name, client, crop, size)
    if cfg.kind == "realsense":
        opener: Callable[[], FrameSource] = lambda: RealSenseSource(cfg)  # noqa: E731
    elif cfg.kind == "opencv":
        opener = lambda: OpenCVSource(cfg)  # noqa: E731
    else:
        raise CameraError(f"camera {name!r} has kind {cfg.kind!r}; choose realsense, opencv or emulator")
    return ThreadedCamera(name, opener, crop, size, stall_s, start_s).start()
