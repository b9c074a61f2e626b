"""Human input devices for interventions, teleoperation and labelling.

Every device implements :class:`InputDevice` (``connect`` / ``poll`` / ``close``, usable
as a context manager, no I/O in constructors) and emits typed events (:class:`Twist`,
:class:`GripperCommand`, :class:`InterventionToggle`, :class:`EpisodeSuccess`,
:class:`EpisodeFailure`, :class:`ResetRequest`). Hardware libraries are imported only
on ``connect``: ``pyspacemouse`` for :class:`SpaceMouse`, ``pygame`` for
:class:`Gamepad`; :class:`Keyboard` needs only a terminal.

:func:`make_device` builds one by name; with ``episode_keys=True`` a SpaceMouse or
gamepad is combined with the terminal keyboard (when stdin is a terminal) so success,
failure and reset can be keyed while the other hand stays on the device.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any, Literal

from hilserl_bench.devices.events import (
    TWIST_AXES,
    DeviceDisconnectedError,
    DeviceNotFoundError,
    EpisodeFailure,
    EpisodeSuccess,
    Event,
    GripperCommand,
    InputDevice,
    InterventionToggle,
    ResetRequest,
    Twist,
)
from hilserl_bench.devices.fake import FakeClock, FakeDevice
from hilserl_bench.devices.gamepad import Gamepad, GamepadConfig
from hilserl_bench.devices.keyboard import KEY_MAP, Keyboard, KeyboardConfig
from hilserl_bench.devices.spacemouse import SpaceMouse, SpaceMouseConfig

DeviceName = Literal["spacemouse", "keyboard", "gamepad"]
DEVICE_NAMES: tuple[str, ...] = ("spacemouse", "keyboard", "gamepad")

__all__ = [
    "DEVICE_NAMES", "KEY_MAP", "TWIST_AXES", "CombinedDevice", "DeviceDisconnectedError", "DeviceName",
    "DeviceNotFoundError", "EpisodeFailure", "EpisodeSuccess", "Event", "FakeClock", "FakeDevice", "Gamepad",
    "GamepadConfig", "GripperCommand", "InputDevice", "InterventionToggle", "Keyboard", "KeyboardConfig",
    "ResetRequest", "SpaceMouse", "SpaceMouseConfig", "Twist", "make_device",
]


class CombinedDevice(InputDevice):
    """Several devices polled as one: their events concatenated in device order."""

    def __init__(self, devices: Sequence[InputDevice]) -> None:
        super().__init__()
        if not devices:
            raise ValueError("CombinedDevice needs at least one device")
        self.devices = list(devices)
        self.name = "+".join(d.name for d in self.devices)

    def _open(self) -> None:
        opened: list[InputDevice] = []
        try:
            for device in self.devices:
                device.connect()
                opened.append(device)
        except BaseException:
            for device in reversed(opened):
                device.close()
            raise

    def _read(self) -> list[Event]:
        return [event for device in self.devices for event in device.poll()]

    def _release(self) -> None:
        for device in reversed(self.devices):
            device.close()


def make_device(name: str, arms: int = 1, config: Any = None, episode_keys: bool = False) -> InputDevice:
    """An unconnected device by name, driving ``arms`` arms.

    Args:
        name: ``spacemouse`` (one per arm), ``keyboard`` or ``gamepad`` (one arm at a time:
            arm 0 unless their config says otherwise; Tab / the switch button moves to the other).
        arms: arms of the task (1 or 2).
        config: the device's config dataclass (:class:`SpaceMouseConfig`,
            :class:`KeyboardConfig`, :class:`GamepadConfig`); defaults when ``None``.
        episode_keys: also read success / failure / reset (and the other keys) from the
            terminal when ``name`` is not ``keyboard`` and stdin is a terminal.
    """
    if name == "spacemouse":
        device: InputDevice = SpaceMouse(arms, config)
    elif name == "keyboard":
        return Keyboard(config, arms=arms)
    elif name == "gamepad":
        device = Gamepad(config, arms=arms)
    else:
        raise ValueError(f"unknown device {name!r}; choose one of {list(DEVICE_NAMES)}")
    if episode_keys and _stdin_is_terminal():
        return CombinedDevice([device, Keyboard(arms=arms)])
    return device


def _stdin_is_terminal() -> bool:
    try:
        return os.isatty(sys.stdin.fileno())
    except (AttributeError, ValueError, OSError):
        return False
