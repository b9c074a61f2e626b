"""A game controller (Xbox / PlayStation layout) through ``pygame``'s joystick module.

``pygame`` is optional (``pip install 'hilserl-bench[gamepad]'``) and imported on
:meth:`Gamepad.connect`; no window is opened (SDL's dummy video driver is used when no
display is set). Polling pumps pygame's event queue, which never blocks. Default
mapping (SDL numbering of an Xbox pad; PlayStation pads differ, so check with
``python -m pygame.examples.joystick`` and change :class:`GamepadConfig`):

===============  =======================  ===============  =====================
input            effect                   input            effect
===============  =======================  ===============  =====================
left stick       x (up: +x), y (left: +y) A / B            close / open gripper
RT / LT          +z / -z                  X                toggle intervention
right stick      roll (right), pitch (up) Y                success
LB / RB          +yaw / -yaw              Back / Start     failure / reset
===============  =======================  ===============  =====================
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from hilserl_bench.devices.events import (
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

_HELP = ("check that the gamepad is listed by pygame (`python -c \"import pygame; pygame.init(); "
         "print(pygame.joystick.get_count())\"`) and that you can read /dev/input/event* "
         "(`ls -l /dev/input/`; add yourself to the 'input' group)")


@dataclass(frozen=True)
class GamepadConfig:
    """How gamepad axes and buttons become twists, gripper commands and episode events."""

    twist_terms: tuple[tuple[str, ...], ...] = (("-a1",), ("-a0",), ("t5", "-t2"), ("a3",), ("-a4",), ("b4", "-b5"))
    """Per twist value [x, y, z, roll, pitch, yaw], summed terms: a<i> axis, t<i> trigger (rest -1 -> 0..1),
    b<i> button (0/1); a leading '-' negates."""
    scale: float = 1.0
    """Multiplier on every twist value (the result is clipped to [-1, 1])."""
    stick_deadzone: float = 0.12
    """Axis and trigger readings below this magnitude count as 0 (sticks drift at rest)."""
    close_button: int = 0
    """Button held to close the gripper (A)."""
    open_button: int = 1
    """Button held to open the gripper (B)."""
    toggle_button: int = 2
    """Button that toggles intervention on/off (X)."""
    success_button: int = 3
    """Button that marks success (Y)."""
    failure_button: int = 6
    """Button that marks failure (Back / Share)."""
    reset_button: int = 7
    """Button that requests a reset (Start / Options)."""
    index: int = 0
    """Which joystick pygame lists, when several are plugged in."""
    arm: int = 0
    """Arm the gamepad drives at start (dual-arm tasks: 0 left, 1 right)."""
    switch_arm_button: int = 8
    """Dual-arm tasks: button that moves the gamepad to the other arm (Guide / PS on most pads)."""


def _import_pygame() -> Any:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    try:
        import pygame
    except ImportError as exc:
        raise DeviceNotFoundError("gamepad: pygame is not installed; `pip install 'hilserl-bench[gamepad]'`") from exc
    return pygame


class Gamepad(InputDevice):
    """One game controller driving one arm at a time (a button switches arms on dual-arm tasks)."""

    name = "gamepad"

    def __init__(self, config: GamepadConfig | None = None, arms: int = 1) -> None:
        super().__init__()
        self.config = config or GamepadConfig()
        if arms not in (1, 2) or not 0 <= self.config.arm < arms:
            raise ValueError(f"gamepad: arm {self.config.arm} of a {arms}-arm task; arms must be 1 or 2")
        self.arms = arms
        self.arm = self.config.arm
        """The arm the gamepad drives now."""
        if len(self.config.twist_terms) != 6:
            raise ValueError(f"GamepadConfig.twist_terms needs 6 entries, got {len(self.config.twist_terms)}")
        self._pg: Any = None
        self._joy: Any = None
        self._toggled = False

    def _open(self) -> None:
        pg = _import_pygame()
        pg.display.init()
        pg.joystick.init()
        pg.event.pump()
        count = pg.joystick.get_count()
        if count <= self.config.index:
            pg.joystick.quit()
            pg.display.quit()
            raise DeviceNotFoundError(f"gamepad: pygame lists {count} joystick(s), need index "
                                      f"{self.config.index}; {_HELP}")
        self._pg = pg
        self._joy = pg.joystick.Joystick(self.config.index)
        self._joy.init()

    def _value(self, term: str) -> float:
        sign, term = (-1.0, term[1:]) if term.startswith("-") else (1.0, term)
        kind, index = term[0], int(term[1:])
        if kind == "b":
            return sign * float(self._joy.get_button(index))
        raw = float(self._joy.get_axis(index))
        value = (raw + 1.0) / 2.0 if kind == "t" else raw
        return 0.0 if abs(value) < self.config.stick_deadzone else sign * value

    def _read(self) -> list[Event]:
        pg, c = self._pg, self.config
        pressed: list[int] = []
        try:
            mine = self._joy.get_instance_id()
            for ev in pg.event.get():
                if getattr(ev, "instance_id", getattr(ev, "joy", None)) != mine:
                    continue
                if ev.type == pg.JOYDEVICEREMOVED:
                    raise DeviceDisconnectedError(f"gamepad {c.index} was unplugged; {_HELP}")
                if ev.type == pg.JOYBUTTONDOWN:
                    pressed.append(ev.button)
            twist = tuple(max(-1.0, min(1.0, c.scale * sum(self._value(t) for t in terms)))
                          for terms in c.twist_terms)
            close, opened = self._joy.get_button(c.close_button), self._joy.get_button(c.open_button)
        except pg.error as exc:
            raise DeviceDisconnectedError(f"gamepad {c.index} stopped answering ({exc}); {_HELP}") from exc
        events: list[Event] = [Twist(self.arm, twist)]
        if close:
            events.append(GripperCommand(self.arm, "close"))
        elif opened:
            events.append(GripperCommand(self.arm, "open"))
        for button in pressed:
            if button == c.switch_arm_button and self.arms > 1:
                self.arm = (self.arm + 1) % self.arms
            elif button == c.toggle_button:
                self._toggled = not self._toggled
                events.append(InterventionToggle(self._toggled))
            elif button == c.success_button:
                events.append(EpisodeSuccess())
            elif button == c.failure_button:
                events.append(EpisodeFailure())
            elif button == c.reset_button:
                events.append(ResetRequest())
        return events

    def _release(self) -> None:
        if self._joy is not None:
            self._joy.quit()
            self._joy = None
        if self._pg is not None:
            self._pg.joystick.quit()
            self._pg.display.quit()
            self._pg = None
