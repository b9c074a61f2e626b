"""Human interventions as in HIL-SERL: while the person acts, their action replaces the policy's.

:class:`HumanIntervention` sits directly over the raw env (inside the learning stack),
where actions are base-frame twists, the frame a person steering a SpaceMouse thinks
in; ``RelativeFrame`` above it maps ``info["intervene_action"]`` into the policy's TCP
frame, so learners see human and scripted interventions identically: on intervened
steps ``intervene_action`` and ``teleop_action`` (float32, action-sized) and
``is_intervention=True``; on other steps neither action key.

The device is *active* on a step when a twist exceeds ``deadzone`` on some axis or a
gripper button is down; the intervention also stays on while toggled on
(:class:`~hilserl_bench.devices.InterventionToggle`) and for ``hold_s`` after the last
active input (0 in the paper, 0.5 s for object flipping). Episode events the person
raises appear once as ``info["human_success"]``, ``info["human_failure"]`` and
``info["human_reset"]`` (read them with ``info.get(key, False)``) and in
:attr:`HumanIntervention.last_events`, so record and train loops can end episodes and
label frames.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from hilserl_bench.devices.events import (
    EpisodeFailure,
    EpisodeSuccess,
    Event,
    GripperCommand,
    InputDevice,
    InterventionToggle,
    ResetRequest,
    Twist,
)
from hilserl_bench.wrappers._arms import ArmSlot, arm_slots
from hilserl_bench.wrappers.relative_frame import RelativeFrame

EPISODE_KEYS = {EpisodeSuccess: "human_success", EpisodeFailure: "human_failure", ResetRequest: "human_reset"}
"""Info key set (to True) on the step a person raised each episode event."""


@dataclass(frozen=True)
class HumanInterventionConfig:
    """When a person's device input takes over from the policy."""

    hold_s: float | None = None
    """Seconds the intervention stays on after the last active input (paper: 0; object flipping: 0.5);
    ``None``: the task's ``intervention_hold_s``."""
    deadzone: float = 0.02
    """Twist values below this magnitude count as 0 (and do not start an intervention)."""
    realtime: bool = True
    """Pace steps to the task's control rate (the simulator otherwise runs faster than a person reacts)."""
    episode_keys: bool = True
    """With a SpaceMouse or gamepad, also read episode keys (Enter, Backspace, Escape, ...) from the terminal."""


@dataclass
class DeviceAction:
    """One poll's events turned into a full raw-env action and flags."""

    action: np.ndarray
    """Base-frame action (twist per arm, gripper -1 close / +1 open / 0 keep), in [-1, 1]."""
    active: bool
    """A twist beyond the deadzone or a gripper command for an arm with a learned gripper."""
    toggle: bool | None
    """The last InterventionToggle state in the poll, ``None`` when none came."""
    episode_events: list[Event]
    """EpisodeSuccess / EpisodeFailure / ResetRequest events of the poll, in order."""


def assemble_action(events: Iterable[Event], slots: Sequence[ArmSlot], action_dim: int,
                    deadzone: float = 0.0) -> DeviceAction:
    """Place each arm's twist and gripper command in its action block ([arm 0 (6|7), arm 1 (6|7)]).

    Twists for the same arm are summed (e.g. a SpaceMouse and the keyboard) and clipped.
    """
    action = np.zeros(action_dim, dtype=np.float64)
    active, toggle, episode_events = False, None, []
    for event in events:
        if isinstance(event, Twist | GripperCommand) and not 0 <= event.arm < len(slots):
            raise ValueError(f"the device drives arm {event.arm} but the task has {len(slots)} arm(s)")
        if isinstance(event, Twist):
            slot = slots[event.arm].twist
            values = np.asarray(event.values, dtype=np.float64)[list(slots[event.arm].axes)]
            action[slot] = np.clip(action[slot] + values, -1.0, 1.0)
        elif isinstance(event, GripperCommand):
            index = slots[event.arm].gripper
            if index is not None:
                action[index] = -1.0 if event.command == "close" else 1.0
                active = True
        elif isinstance(event, InterventionToggle):
            toggle = bool(event.on)
        elif type(event) in EPISODE_KEYS:
            episode_events.append(event)
    for slot in slots:
        twist = action[slot.twist]
        twist[np.abs(twist) < deadzone] = 0.0
        active = active or bool(np.any(twist != 0.0))
    return DeviceAction(action, active, toggle, episode_events)


class HumanIntervention(gym.Wrapper):
    """Replace the policy's action with the device's while the person acts (see the module docstring)."""

    def __init__(self, env: gym.Env, device: InputDevice, config: HumanInterventionConfig | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 close_device: bool = True) -> None:
        super().__init__(env)
        inner = env
        while isinstance(inner, gym.Wrapper):
            if isinstance(inner, RelativeFrame):
                raise ValueError("HumanIntervention goes directly over the raw env (base-frame actions), inside the "
                                 "learning stack: wrap_learning_stack(HumanIntervention(raw_env, device))")
            inner = inner.env
        self.device, self.config = device, config or HumanInterventionConfig()
        self.clock, self.sleep, self.close_device = clock, sleep, close_device
        self._slots = arm_slots(env)
        task_hold = getattr(getattr(env.unwrapped, "task", None), "intervention_hold_s", 0.0)
        self.hold_s = float(task_hold if self.config.hold_s is None else self.config.hold_s)
        """Seconds the intervention stays on after the last active input."""
        self._toggled = False
        self._last_input = -np.inf
        self._next_tick: float | None = None
        self.intervening = False
        """Whether the latest step was an intervention (for live views)."""
        self.last_events: list[Event] = []
        """Episode events (success / failure / reset) of the latest step."""

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self._last_input = -np.inf
        self._next_tick = None
        self.intervening = False
        self.last_events = []
        return self.env.reset(seed=seed, options=options)

    def step(self, action: np.ndarray):
        self._pace()
        polled = assemble_action(self.device.poll(), self._slots, int(self.env.action_space.shape[0]),
                                 self.config.deadzone)
        now = self.clock()
        if polled.toggle is not None:
            self._toggled = polled.toggle
        if polled.active:
            self._last_input = now
        self.intervening = polled.active or self._toggled or now - self._last_input < self.hold_s
        executed = polled.action if self.intervening else action
        obs, reward, terminated, truncated, info = self.env.step(executed)
        if self.intervening:
            info["intervene_action"] = polled.action.astype(np.float32)
            info["teleop_action"] = polled.action.astype(np.float32)
            info["is_intervention"] = True
        self.last_events = polled.episode_events
        for event in polled.episode_events:
            info[EPISODE_KEYS[type(event)]] = True
        return obs, reward, terminated, truncated, info

    def _pace(self) -> None:
        """Sleep so steps start at most once per control period (no-op when ``realtime`` is off)."""
        if not self.config.realtime:
            return
        dt = float(self.env.unwrapped.control_dt)
        now = self.clock()
        if self._next_tick is not None and now < self._next_tick:
            self.sleep(self._next_tick - now)
            now = self._next_tick
        self._next_tick = now + dt

    def close(self) -> None:
        try:
            if self.close_device:
                self.device.close()
        finally:
            self.env.close()


def human_intervention_env(raw_env: gym.Env, device_name: str, config: HumanInterventionConfig | None = None,
                           device_config: Any = None, official_adjoint_coupling: bool = False) -> gym.Env:
    """The learning stack over ``raw_env`` with a connected ``device_name`` intervening beneath it.

    The device is connected here (so a missing device fails before training starts) and
    closed by the returned env's ``close()``.
    """
    from hilserl_bench.data.learning_env import wrap_learning_stack
    from hilserl_bench.devices import make_device

    config = config or HumanInterventionConfig()
    device = make_device(device_name, len(raw_env.unwrapped.task.arms), device_config, config.episode_keys)
    device.connect()
    try:
        return wrap_learning_stack(HumanIntervention(raw_env, device, config),
                                   official_adjoint_coupling=official_adjoint_coupling)
    except BaseException:
        device.close()
        raise
