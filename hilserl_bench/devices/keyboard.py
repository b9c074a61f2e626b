"""The terminal as an intervention device: works over SSH and without a display.

The terminal is put in cbreak mode (keys arrive one by one, no echo) and read with
``select`` and a zero timeout, so polling never blocks; the previous terminal settings
are restored on :meth:`Keyboard.close`. A terminal reports key presses, not releases:
each key press moves the arm for one control step, and holding a key moves it
continuously once the terminal's auto-repeat starts. Default key map (``KEY_MAP``):

=========  ======================================  =========  =========================
key        effect                                  key        effect
=========  ======================================  =========  =========================
w / s      +x / -x (forward / back)                c / v      close / open gripper
a / d      +y / -y (left / right)                  space      toggle intervention
r / f      +z / -z (up / down)                     Enter      success
i / k      +pitch / -pitch (about y)               Backspace  failure
j / l      +roll / -roll (about x)                 Escape     reset (end episode)
u / o      +yaw / -yaw (about z)
=========  ======================================  =========  =========================

Upper-case letters act like lower-case ones (Caps Lock is harmless).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from dataclasses import dataclass
from typing import Any

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

ENTER, BACKSPACE, ESCAPE = "enter", "backspace", "escape"
KEY_MAP: tuple[tuple[str, str], ...] = (
    ("w", "+x"), ("s", "-x"), ("a", "+y"), ("d", "-y"), ("r", "+z"), ("f", "-z"),
    ("j", "+roll"), ("l", "-roll"), ("i", "+pitch"), ("k", "-pitch"), ("u", "+yaw"), ("o", "-yaw"),
    ("c", "close"), ("v", "open"), (" ", "toggle"), (ENTER, "success"), (BACKSPACE, "failure"), (ESCAPE, "reset"),
    ("\t", "switch_arm"),
)
"""(key, action) pairs; actions: +/-<twist axis>, close, open, toggle, success, failure, reset, switch_arm
(Tab: on dual-arm tasks the keys then drive the other arm)."""


@dataclass(frozen=True)
class KeyboardConfig:
    """Key bindings and step size of the keyboard device."""

    key_map: tuple[tuple[str, str], ...] = KEY_MAP
    """(key, action) pairs; see the module docstring."""
    speed: float = 1.0
    """Twist value of one key press (1.0: the task's full action scale per step)."""
    arm: int = 0
    """Arm the keys drive at start (dual-arm tasks: 0 left, 1 right; ``switch_arm`` moves to the next)."""


def split_keys(data: str) -> list[str]:
    """Key names in terminal input: characters, ``enter``, ``backspace``, ``escape``; escape sequences dropped."""
    keys, i = [], 0
    while i < len(data):
        ch = data[i]
        if ch == "\x1b":
            if i + 1 < len(data) and data[i + 1] in "[O":
                i += 2
                while i < len(data) and not (data[i].isalpha() or data[i] == "~"):
                    i += 1
                i += 1
                continue
            keys.append(ESCAPE)
        elif ch in "\r\n":
            keys.append(ENTER)
        elif ch in "\x7f\x08":
            keys.append(BACKSPACE)
        else:
            keys.append(ch.lower())
        i += 1
    return keys


class Keyboard(InputDevice):
    """Key presses read from a terminal (stdin by default) in cbreak mode."""

    name = "keyboard"

    def __init__(self, config: KeyboardConfig | None = None, fd: int | None = None, arms: int = 1) -> None:
        super().__init__()
        self.config = config or KeyboardConfig()
        if arms not in (1, 2) or not 0 <= self.config.arm < arms:
            raise ValueError(f"keyboard: arm {self.config.arm} of a {arms}-arm task; arms must be 1 or 2")
        self.arms = arms
        self.arm = self.config.arm
        """The arm the keys drive now."""
        bad = [a for _, a in self.config.key_map if a.lstrip("+-") not in TWIST_AXES
               and a not in ("close", "open", "toggle", "success", "failure", "reset", "switch_arm")]
        if bad:
            raise ValueError(f"unknown keyboard actions {bad}")
        self._fd = fd
        self._active_fd = -1
        self._saved: Any = None
        self._toggled = False
        self._bindings = dict(self.config.key_map)

    def _open(self) -> None:
        import termios
        import tty

        try:
            fd = sys.stdin.fileno() if self._fd is None else self._fd
        except (io.UnsupportedOperation, AttributeError, ValueError):
            fd = -1
        if fd < 0 or not os.isatty(fd):
            raise DeviceNotFoundError("keyboard: stdin is not a terminal (TTY); run the command in an interactive "
                                      "terminal, not with input piped, redirected, or in the background")
        self._saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)
        self._active_fd = fd

    def _read(self) -> list[Event]:
        import select

        chunks = []
        while True:
            try:
                ready, _, _ = select.select([self._active_fd], [], [], 0)
            except (OSError, ValueError) as exc:
                raise DeviceDisconnectedError(f"keyboard: the terminal went away ({exc})") from exc
            if not ready:
                break
            data = os.read(self._active_fd, 1024)
            if not data:
                raise DeviceDisconnectedError("keyboard: the terminal closed (end of input)")
            chunks.append(data)
        return self.events_for(split_keys(b"".join(chunks).decode(errors="ignore")))

    def events_for(self, keys: list[str]) -> list[Event]:
        """The events of one poll's key presses (twists summed per axis and clipped to [-1, 1])."""
        twist = [0.0] * 6
        moved = False
        events: list[Event] = []
        for key in keys:
            action = self._bindings.get(key)
            if action is None:
                continue
            if action == "switch_arm":
                if moved:
                    events.insert(0, Twist(self.arm, tuple(twist)))
                    twist, moved = [0.0] * 6, False
                self.arm = (self.arm + 1) % self.arms
                continue
            arm = self.arm
            if action.lstrip("+-") in TWIST_AXES:
                sign = -1.0 if action.startswith("-") else 1.0
                axis = TWIST_AXES.index(action.lstrip("+-"))
                twist[axis] = max(-1.0, min(1.0, twist[axis] + sign * self.config.speed))
                moved = True
            elif action in ("close", "open"):
                events.append(GripperCommand(arm, action))
            elif action == "toggle":
                self._toggled = not self._toggled
                events.append(InterventionToggle(self._toggled))
            else:
                events.append({"success": EpisodeSuccess, "failure": EpisodeFailure, "reset": ResetRequest}[action]())
        if moved:
            events.insert(0, Twist(self.arm, tuple(twist)))
        return events

    def _release(self) -> None:
        import termios

        if self._saved is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(self._active_fd, termios.TCSADRAIN, self._saved)
            self._saved = None
