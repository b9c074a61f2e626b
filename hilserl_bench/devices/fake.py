"""A scripted stand-in for a person with a device, and a manual clock, for tests and dry runs.

:class:`FakeDevice` replays a list of per-poll event lists (poll ``i`` returns
``script[i]``; past the end, nothing, as a device at rest), can pretend to be missing
(``connect`` raises :class:`~hilserl_bench.devices.events.DeviceNotFoundError`) or to
be unplugged after a given number of polls (``poll`` raises
:class:`~hilserl_bench.devices.events.DeviceDisconnectedError`). It records what was
polled and whether it was closed, so tests can check the life cycle. :class:`FakeClock`
is injected where code reads ``time.monotonic`` (hold times, pacing).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hilserl_bench.devices.events import (
    DeviceDisconnectedError,
    DeviceNotFoundError,
    Event,
    InputDevice,
    Twist,
)


class FakeDevice(InputDevice):
    """Replays ``script``: a sequence of per-poll event lists."""

    name = "fake"

    def __init__(self, script: Sequence[Iterable[Event]] = (), disconnect_after: int | None = None,
                 present: bool = True) -> None:
        super().__init__()
        self.script = [list(events) for events in script]
        self.disconnect_after = disconnect_after
        self.present = present
        self.polls = 0
        self.opened = 0
        self.closed = 0

    def _open(self) -> None:
        if not self.present:
            raise DeviceNotFoundError("fake: no device present (constructed with present=False)")
        self.opened += 1

    def _read(self) -> list[Event]:
        if self.disconnect_after is not None and self.polls >= self.disconnect_after:
            raise DeviceDisconnectedError(f"fake: unplugged after {self.disconnect_after} polls")
        events = self.script[self.polls] if self.polls < len(self.script) else []
        self.polls += 1
        return list(events)

    def _release(self) -> None:
        self.closed += 1


class FakeClock:
    """A clock that only moves when told; ``sleep`` advances it instead of waiting."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += float(seconds)

    def sleep(self, seconds: float) -> None:
        """Stand-in for ``time.sleep``."""
        self.now += max(0.0, float(seconds))


def twist(arm: int = 0, **axes: float) -> Twist:
    """``Twist`` built from named axes: ``twist(x=0.5, yaw=-1)``; unnamed axes are 0."""
    names = ("x", "y", "z", "roll", "pitch", "yaw")
    unknown = sorted(set(axes) - set(names))
    if unknown:
        raise ValueError(f"unknown twist axes {unknown}; choose from {names}")
    return Twist(arm, tuple(float(axes.get(n, 0.0)) for n in names))


def idle(steps: int) -> list[list[Event]]:
    """``steps`` polls with the device at rest."""
    return [[] for _ in range(steps)]


def hold(events: Iterable[Event], steps: int) -> list[list[Event]]:
    """The same events on ``steps`` consecutive polls (a stick held, a button held)."""
    events = list(events)
    return [list(events) for _ in range(steps)]

