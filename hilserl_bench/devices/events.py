"""What an intervention device says, and the small interface every device implements.

Devices translate their hardware (a SpaceMouse's axes, a terminal's key presses, a
gamepad's sticks) into typed events, so the intervention wrapper, the teleoperation
loop and the tests never look at raw button tuples. A poll returns the events of that
control step: a :class:`Twist` for every arm the person is moving (zero when at rest),
a :class:`GripperCommand` while a gripper button is down (or on a key press), and
episode-level events (:class:`EpisodeSuccess`, :class:`EpisodeFailure`,
:class:`ResetRequest`) on the press that raised them.

Every device follows one life cycle: the constructor stores settings only (no I/O),
:meth:`InputDevice.connect` opens the hardware (or raises :class:`DeviceNotFoundError`
saying what is missing and how to check it), :meth:`InputDevice.poll` never blocks,
and :meth:`InputDevice.close` releases everything; ``with device:`` does both.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

from hilserl_bench.errors import UserFacingError

TWIST_AXES = ("x", "y", "z", "roll", "pitch", "yaw")
"""Order of a twist's six values: base-frame translation, then rotation about x, y, z."""


class DeviceNotFoundError(UserFacingError):
    """A device or its library is missing; the message names it and says how to check."""


class DeviceDisconnectedError(UserFacingError):
    """A connected device stopped answering (unplugged, permissions changed, read timed out)."""


@dataclass(frozen=True)
class Twist:
    """The person commands arm ``arm`` to move by ``values`` (each in [-1, 1], base frame)."""

    arm: int
    """Index of the arm in ``task.arms`` order (0 for single-arm tasks and the left arm)."""
    values: tuple[float, float, float, float, float, float]
    """[x, y, z, roll, pitch, yaw], already mapped from device axes and scaled."""

    def __post_init__(self) -> None:
        if len(self.values) != 6:
            raise ValueError(f"a Twist needs 6 values {TWIST_AXES}, got {len(self.values)}")


@dataclass(frozen=True)
class GripperCommand:
    """Close or open arm ``arm``'s gripper (held button, or one key press)."""

    arm: int
    """Index of the arm in ``task.arms`` order."""
    command: Literal["close", "open"]
    """What to do with the gripper."""

    def __post_init__(self) -> None:
        if self.command not in ("close", "open"):
            raise ValueError(f"GripperCommand.command must be 'close' or 'open', got {self.command!r}")


@dataclass(frozen=True)
class InterventionToggle:
    """Take over (``on``) or hand back (not ``on``) control regardless of device motion."""

    on: bool
    """True: the device's action replaces the policy's even when the device is at rest."""


@dataclass(frozen=True)
class EpisodeSuccess:
    """The person marks success (ends a demo episode; labels a frame when labelling)."""


@dataclass(frozen=True)
class EpisodeFailure:
    """The person marks failure (ends a demo episode; labels a frame when labelling)."""


@dataclass(frozen=True)
class ResetRequest:
    """The person asks to end the episode now and reset."""


Event = Twist | GripperCommand | InterventionToggle | EpisodeSuccess | EpisodeFailure | ResetRequest


class InputDevice(ABC):
    """A human input device: ``connect()``, ``poll()`` each control step, ``close()``."""

    name: str = "device"
    """Short name used in messages (``spacemouse``, ``keyboard``, ``gamepad``, ``fake``)."""

    def __init__(self) -> None:
        self._connected = False

    @property
    def connected(self) -> bool:
        """Whether :meth:`connect` succeeded and :meth:`close` has not been called since."""
        return self._connected

    def connect(self) -> None:
        """Open the hardware; :class:`DeviceNotFoundError` when it or its library is missing."""
        if not self._connected:
            self._open()
            self._connected = True

    def poll(self) -> list[Event]:
        """Events since the last poll (never blocks); :class:`DeviceDisconnectedError` on failure."""
        if not self._connected:
            raise RuntimeError(f"{self.name}: call connect() before poll()")
        return self._read()

    def close(self) -> None:
        """Release the hardware; safe to call twice or without a connection."""
        if self._connected:
            self._connected = False
            self._release()

    def __enter__(self) -> InputDevice:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def _open(self) -> None: ...

    @abstractmethod
    def _read(self) -> list[Event]: ...

    @abstractmethod
    def _release(self) -> None: ...


T = TypeVar("T")


def call_with_timeout(fn: Callable[[], T], timeout_s: float, what: str) -> T:
    """``fn()`` in a helper thread; :class:`DeviceNotFoundError` if it has not returned in ``timeout_s``.

    Driver calls that open hardware can hang on a wedged USB device; the control loop
    must not. The stuck thread is a daemon and is abandoned.
    """
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # re-raised in the caller's thread
            error.append(exc)

    worker = threading.Thread(target=target, name=f"open-{what}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise DeviceNotFoundError(f"{what}: opening the device did not finish within {timeout_s:g} s "
                                  "(unplug and replug it, then try again)")
    if error:
        raise error[0]
    return result[0]
