"""3Dconnexion SpaceMouse (one per arm) through ``pyspacemouse``, as in HIL-SERL.

The default mapping is the paper's: device axes to the base-frame twist
``[-y, x, z, -roll, -pitch, -yaw]`` (pyspacemouse's legacy axis convention, which the
authors used), left button closes and right button opens the gripper. Each device is
read by a daemon thread with non-blocking HID reads, keeping only the newest state, so
:meth:`SpaceMouse.poll` returns at once; a thread that reports a read error, or has not
completed a read for ``read_timeout_s``, makes ``poll`` raise
:class:`~hilserl_bench.devices.events.DeviceDisconnectedError`.

Install with ``pip install 'hilserl-bench[spacemouse]'`` and
``apt-get install -y libhidapi-hidraw0``; the user needs read/write access to
``/dev/hidraw*`` (see docs/human_in_the_loop.md for a udev rule).
"""

from __future__ import annotations

import contextlib
import inspect
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from hilserl_bench.devices.events import (
    DeviceDisconnectedError,
    DeviceNotFoundError,
    Event,
    GripperCommand,
    InputDevice,
    Twist,
    call_with_timeout,
)

_HELP = ("check that the SpaceMouse is plugged in (`lsusb | grep -i 3dconnexion`), that you can read and write "
         "/dev/hidraw* (`ls -l /dev/hidraw*`; add a udev rule, see docs/human_in_the_loop.md), and that the HID "
         "library is installed (`apt-get install -y libhidapi-hidraw0`)")


@dataclass(frozen=True)
class SpaceMouseConfig:
    """How SpaceMouse axes and buttons become twists and gripper commands."""

    axes: tuple[str, str, str, str, str, str] = ("-y", "x", "z", "-roll", "-pitch", "-yaw")
    """Device axis (optionally negated) feeding each twist value [x, y, z, roll, pitch, yaw]."""
    scale: tuple[float, float, float, float, float, float] = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    """Multiplier per twist value after mapping (the result is clipped to [-1, 1])."""
    close_button: int = 0
    """Button index that closes the gripper while held (0: left)."""
    open_button: int = 1
    """Button index that opens the gripper while held (1: right)."""
    swap_arms: bool = False
    """Dual-arm tasks: drive arm 0 with the second device found and arm 1 with the first."""
    open_timeout_s: float = 5.0
    """Give up opening a device after this long."""
    read_timeout_s: float = 1.0
    """Report a disconnect when no read has completed for this long."""


def map_axes(state: Any, axes: tuple[str, ...], scale: tuple[float, ...]) -> tuple[float, ...]:
    """The twist for a pyspacemouse state (attributes x, y, z, roll, pitch, yaw), clipped to [-1, 1]."""
    out = []
    for spec, k in zip(axes, scale, strict=True):
        sign, name = (-1.0, spec[1:]) if spec.startswith("-") else (1.0, spec)
        out.append(float(np.clip(sign * k * float(getattr(state, name)), -1.0, 1.0)))
    return tuple(out)


class _Reader:
    """Daemon thread keeping the newest state of one opened pyspacemouse device."""

    def __init__(self, handle: Any, label: str) -> None:
        self.handle, self.label = handle, label
        self.state: Any = None
        self.error: BaseException | None = None
        self.heartbeat = time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name=f"spacemouse-{label}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                state = self.handle.read()
            except Exception as exc:  # the HID layer raises its own exception types
                self.error = exc
                return
            with self._lock:
                self.state = state
                self.heartbeat = time.monotonic()
            time.sleep(0.001)

    def latest(self, read_timeout_s: float) -> Any:
        if self.error is not None:
            raise DeviceDisconnectedError(f"SpaceMouse {self.label} stopped answering ({self.error}); {_HELP}")
        with self._lock:
            stale = time.monotonic() - self.heartbeat
            state = self.state
        if stale > read_timeout_s:
            raise DeviceDisconnectedError(f"SpaceMouse {self.label}: no read completed for {stale:.1f} s; {_HELP}")
        return state

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=0.5)


def _import_pyspacemouse() -> Any:
    try:
        import pyspacemouse
    except ImportError as exc:
        raise DeviceNotFoundError("SpaceMouse: pyspacemouse is not installed; `pip install "
                                  "'hilserl-bench[spacemouse]'` and `apt-get install -y libhidapi-hidraw0`") from exc
    return pyspacemouse


def _explain(exc: Exception, index: int) -> DeviceNotFoundError:
    """pyspacemouse's errors (RuntimeError in 2.x, bare Exception in 1.x) as what to check."""
    text = str(exc)
    if "HID API" in text:
        return DeviceNotFoundError("SpaceMouse: the HID system library is missing (`apt-get install -y "
                                   f"libhidapi-hidraw0`; pyspacemouse said: {text})")
    if "No connected" in text or "No found" in text or "not found" in text:
        return DeviceNotFoundError(f"SpaceMouse: no device found; {_HELP}")
    return DeviceNotFoundError(f"SpaceMouse: could not open device {index} ({text}); {_HELP}")


def _open_one(lib: Any, index: int) -> Any:
    """Open device ``index`` with pyspacemouse 2.x (legacy axes, as the paper used) or 1.x."""
    params = inspect.signature(lib.open).parameters
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            if "axis_convention" in params:
                handle = lib.open(device_index=index, axis_convention="legacy", nonblocking=True)
            else:
                handle = lib.open(DeviceNumber=index)
    except Exception as exc:  # pyspacemouse 1.x raises bare Exception
        raise _explain(exc, index) from exc
    if not handle:
        raise DeviceNotFoundError(f"SpaceMouse: no device found; {_HELP}")
    return handle


class SpaceMouse(InputDevice):
    """``arms`` SpaceMice (1, or 2 for dual-arm tasks); device i drives arm i."""

    name = "spacemouse"

    def __init__(self, arms: int = 1, config: SpaceMouseConfig | None = None) -> None:
        super().__init__()
        if arms not in (1, 2):
            raise ValueError(f"SpaceMouse drives 1 or 2 arms, got {arms}")
        self.arms, self.config = arms, config or SpaceMouseConfig()
        self._readers: list[_Reader] = []

    def _open(self) -> None:
        lib = _import_pyspacemouse()
        if self.arms == 2:
            found = self._count(lib)
            if found < 2:
                raise DeviceNotFoundError(f"SpaceMouse: this dual-arm task needs two devices, {found} found; {_HELP}")
        order = [1, 0] if self.arms == 2 and self.config.swap_arms else list(range(self.arms))
        try:
            for arm, index in enumerate(order):
                handle = call_with_timeout(lambda i=index: _open_one(lib, i), self.config.open_timeout_s,
                                           f"SpaceMouse {index}")
                self._readers.append(_Reader(handle, f"{index} (arm {arm})"))
        except BaseException:
            self._release()
            raise

    @staticmethod
    def _count(lib: Any) -> int:
        listing = getattr(lib, "get_connected_devices", None) or lib.list_devices
        try:
            return len(listing())
        except Exception as exc:  # pyspacemouse 1.x raises bare Exception
            raise _explain(exc, 0) from exc

    def _read(self) -> list[Event]:
        events: list[Event] = []
        c = self.config
        for arm, reader in enumerate(self._readers):
            state = reader.latest(c.read_timeout_s)
            if state is None:
                continue
            events.append(Twist(arm, map_axes(state, c.axes, c.scale)))
            buttons = list(getattr(state, "buttons", []) or [])
            if len(buttons) > c.close_button and buttons[c.close_button]:
                events.append(GripperCommand(arm, "close"))
            elif len(buttons) > c.open_button and buttons[c.open_button]:
                events.append(GripperCommand(arm, "open"))
        return events

    def _release(self) -> None:
        for reader in self._readers:
            reader.stop()
            with contextlib.suppress(Exception):  # already gone; nothing left to release
                reader.handle.close()
        self._readers.clear()
