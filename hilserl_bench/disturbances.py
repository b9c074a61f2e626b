"""Disturbances a task can be evaluated under, as data, and how one episode's disturbance is drawn.

The paper shows HIL-SERL policies recovering from pushes on the arm, objects moved during
execution and deformed cables; a simulator can measure that exactly. Each task class holds
one ``disturbances`` attribute, ``{kind name: spec}``, built from the specs here:

=======================  ====================================================================
:class:`ForcePulse`      a force on a body (the end effector's ``hand``) for a short time
:class:`MoveBody`        a fixture or free object displaced by millimetres to centimetres
:class:`ShiftInGrasp`    the held part displaced in the fingers, along its own axes
:class:`VisualChange`    lighting and colours change (pixels only: the physics is untouched)
:class:`CablePush`       a force pulse on one segment of a cable (deformable tasks)
=======================  ====================================================================

A spec is a distribution; :meth:`DisturbanceSpec.sample` draws one concrete
:class:`DisturbanceEvent` (onset step, body, vector) from a generator seeded by the episode's
reset seed, so the same seed gives the same disturbance and, the simulator being
deterministic, the same trajectory. Only the simulator applies events
(:mod:`hilserl_bench.envs.disturbed_env`); nothing here is ever sent to a robot.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

Direction = Literal["horizontal", "sphere", "down", "up"]
KIND_ALL = "all"
"""``--disturb all``: every kind of the task, one after the other, beside the undisturbed run."""
KIND_LIST = "list"
"""``--disturb list``: print the task's kinds and exit."""
SIM_ONLY = ("disturbances are applied by the simulator only and are never sent to a robot: "
            "drop --backend real (and --robot-url / --emulator) to run --disturb in simulation")


@dataclass(frozen=True)
class DisturbanceEvent:
    """One episode's drawn disturbance: what acts, on which body, from which env step and for how many."""

    kind: str
    """The kind name (a key of the task's ``disturbances``)."""
    type: str
    """The spec class name (``ForcePulse``, ``MoveBody``, ...), which decides how the simulator applies it."""
    onset_step: int
    """0-based env step during which it starts to act (the step taken from time onset_step x control_dt)."""
    steps: int
    """Env steps it acts during (force pulses span their duration; displacements act once)."""
    body: str = ""
    """Body it acts on (empty for visual changes)."""
    vector: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """Force (N, world frame) for pulses; displacement (m; world frame for MoveBody, part frame for ShiftInGrasp)."""
    light_scale: float = 1.0
    """Factor on every light's diffuse colour (visual changes)."""
    colour_scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    """Per-channel factor on the scene's (non-robot) colours (visual changes)."""

    def active(self, step: int) -> bool:
        """Whether the event acts during 0-based env step ``step``."""
        return self.onset_step <= step < self.onset_step + self.steps

    def describe(self) -> dict[str, Any]:
        """JSON/CSV-ready fields (vector in N or mm so the numbers read as the spec's units)."""
        out = asdict(self)
        scale = 1.0 if self.type in ("ForcePulse", "CablePush") else 1000.0
        out["vector"] = [round(float(v) * scale, 6) for v in self.vector]
        out["magnitude"] = round(float(np.linalg.norm(self.vector)) * scale, 6)
        out["colour_scale"] = [round(float(v), 6) for v in self.colour_scale]
        return out


@dataclass(frozen=True, kw_only=True)
class DisturbanceSpec:
    """What every kind shares: when it may start."""

    window_s: tuple[float, float] = (1.0, 3.0)
    """Onset time is drawn uniformly in this range (s after the episode starts); an episode that ends
    earlier is never disturbed (its record says ``applied = False``)."""
    pixels_only: bool = field(default=False, init=False)
    """Whether only camera images change (state-mode policies cannot notice it)."""

    def sample(self, kind: str, rng: np.random.Generator, control_dt: float) -> DisturbanceEvent:
        """One concrete event for an episode, every random number drawn from ``rng``."""
        raise NotImplementedError

    def _onset(self, rng: np.random.Generator, control_dt: float) -> int:
        low, high = self.window_s
        if not 0.0 <= low <= high:
            raise ValueError(f"window_s={self.window_s} must be 0 <= start <= end (s)")
        return int(np.floor(rng.uniform(low, high) / control_dt + 1e-9))


def _direction(rng: np.random.Generator, how: Direction) -> np.ndarray:
    """A unit vector: uniform in the table plane, uniform on the sphere, or straight down/up."""
    if how == "horizontal":
        angle = rng.uniform(0.0, 2.0 * np.pi)
        return np.array([np.cos(angle), np.sin(angle), 0.0])
    if how == "sphere":
        v = rng.normal(size=3)
        return v / np.linalg.norm(v)
    if how in ("down", "up"):
        rng.uniform()  # keep the stream aligned with the other directions
        return np.array([0.0, 0.0, -1.0 if how == "down" else 1.0])
    raise ValueError(f"direction={how!r}; choose horizontal, sphere, down or up")


@dataclass(frozen=True, kw_only=True)
class ForcePulse(DisturbanceSpec):
    """An external push: ``magnitude_n`` newtons on a body's centre of mass for ``duration_s`` seconds.

    Applied through MuJoCo's ``xfrc_applied`` over whole control periods (0.1 s resolution at
    10 Hz), so the robot's controller and the policy react to it like to a hand shoving the arm.
    """

    bodies: tuple[str, ...] = ("hand",)
    """Candidate bodies; one is drawn per episode (``hand`` is the end effector; ``left/hand`` on dual arms)."""
    magnitude_n: tuple[float, float] = (15.0, 25.0)
    """Force magnitude range (N)."""
    duration_s: float = 0.2
    """How long it pushes (s, rounded to whole control periods, at least one)."""
    direction: Direction = "horizontal"
    """How the force direction is drawn."""

    def sample(self, kind: str, rng: np.random.Generator, control_dt: float) -> DisturbanceEvent:
        onset = self._onset(rng, control_dt)
        body = self.bodies[int(rng.integers(len(self.bodies)))]
        force = _direction(rng, self.direction) * rng.uniform(*self.magnitude_n)
        steps = max(1, round(self.duration_s / control_dt))
        return DisturbanceEvent(kind, type(self).__name__, onset, steps, body, _vec(force))


@dataclass(frozen=True, kw_only=True)
class CablePush(ForcePulse):
    """A deformable part pushed mid-episode: a force pulse on one of the cable's segment bodies."""

    magnitude_n: tuple[float, float] = (0.5, 1.5)
    """Force range (N); a few newtons on a 5 g segment is a sharp flick."""
    duration_s: float = 0.1


@dataclass(frozen=True, kw_only=True)
class MoveBody(DisturbanceSpec):
    """A fixture or free object moved by ``distance_mm`` along a random direction in ``axes``, all at once.

    A fixed fixture (no joint) moves with its whole root body (the board under a slot), a free object
    through its joint's position; the move lasts to the end of the episode, as a bumped fixture would.
    """

    body: str = ""
    """Tracked body to move (its root body moves)."""
    distance_mm: tuple[float, float] = (2.0, 5.0)
    """Displacement length range (mm)."""
    direction: Direction = "horizontal"
    """How the displacement direction is drawn."""

    def sample(self, kind: str, rng: np.random.Generator, control_dt: float) -> DisturbanceEvent:
        onset = self._onset(rng, control_dt)
        offset = _direction(rng, self.direction) * rng.uniform(*self.distance_mm) / 1000.0
        return DisturbanceEvent(kind, type(self).__name__, onset, 1, self.body, _vec(offset))


@dataclass(frozen=True, kw_only=True)
class ShiftInGrasp(DisturbanceSpec):
    """The held part slips in the fingers: displaced by ``distance_mm`` along one of its own ``axes``."""

    body: str = ""
    """The held part (a body with a free joint, held by friction)."""
    distance_mm: tuple[float, float] = (1.0, 3.0)
    """Slip length range (mm)."""
    axes: tuple[int, ...] = (0,)
    """Part-frame axes (0 = x, 1 = y, 2 = z) the slip may run along; one is drawn, with a random sign."""

    def sample(self, kind: str, rng: np.random.Generator, control_dt: float) -> DisturbanceEvent:
        onset = self._onset(rng, control_dt)
        offset = np.zeros(3)
        axis = self.axes[int(rng.integers(len(self.axes)))]
        offset[axis] = rng.choice((-1.0, 1.0)) * rng.uniform(*self.distance_mm) / 1000.0
        return DisturbanceEvent(kind, type(self).__name__, onset, 1, self.body, _vec(offset))


@dataclass(frozen=True, kw_only=True)
class VisualChange(DisturbanceSpec):
    """Lighting dims or brightens and scene colours shift mid-episode; camera images change, physics does not."""

    light_scale: tuple[float, float] = (0.3, 1.7)
    """Factor range on every light's diffuse colour (one draw for all lights)."""
    colour_scale: tuple[float, float] = (0.6, 1.4)
    """Per-channel factor range on the colours of table, floor and props (robot geoms keep theirs)."""
    pixels_only: bool = field(default=True, init=False)

    def sample(self, kind: str, rng: np.random.Generator, control_dt: float) -> DisturbanceEvent:
        onset = self._onset(rng, control_dt)
        light = float(rng.uniform(*self.light_scale))
        colour = tuple(float(c) for c in rng.uniform(*self.colour_scale, size=3))
        return DisturbanceEvent(kind, type(self).__name__, onset, 1, light_scale=light, colour_scale=colour)


def _vec(v: np.ndarray) -> tuple[float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]))


def event_rng(seed: int) -> np.random.Generator:
    """The disturbance stream of the episode reset with ``seed`` (separate from the env's own stream)."""
    return np.random.default_rng([int(seed), 0xD157])


def task_disturbances(task_cls: type) -> dict[str, DisturbanceSpec]:
    """The task's kinds (its ``disturbances`` attribute; empty when it defines none)."""
    return dict(getattr(task_cls, "disturbances", {}) or {})


def resolve_kinds(task_id: str, kind: str) -> list[str]:
    """The kinds ``--disturb KIND`` names for a task (``all``: every kind), or a one-line error listing them."""
    from hilserl_bench import registry
    from hilserl_bench.errors import UserFacingError

    kinds = task_disturbances(registry.task_class(task_id))
    if kind == KIND_ALL and kinds:
        return list(kinds)
    if kind in kinds:
        return [kind]
    listed = ", ".join(kinds) or "none defined"
    raise UserFacingError(f"unknown disturbance {kind!r} for task {task_id}; its kinds: {listed} "
                          f"(or `{KIND_ALL}`; `--disturb {KIND_LIST}` describes them)")


def describe_kinds(task_id: str) -> str:
    """One line per kind of a task: its name and spec, for ``--disturb list``."""
    from hilserl_bench import registry

    kinds = task_disturbances(registry.task_class(task_id))
    width = max((len(k) for k in kinds), default=0)
    return "\n".join(f"{name:<{width}}  {spec!r}" for name, spec in kinds.items())
