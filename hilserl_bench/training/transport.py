"""What travels between actors and the learner when they do not share a thread.

The actor side is an :class:`EpisodeLink`, the same two calls as the synchronous
:class:`~hilserl_bench.training.roles.SyncLink`: it collects the episode's transitions
and, after every env step, swaps in the newest parameters from a :class:`PolicySlot`
(written by the learner thread, or by a Ray call). The learner side hands out
:class:`Assignment` s and receives whole episodes as :class:`EpisodeReport` s; the
:class:`EpisodeLedger` remembers which reset indices were committed, so none is lost
or stored twice across kills and restarts.

Episodes travel whole because the learner commits them whole: its checkpoint then
holds exactly the episodes it has fully ingested, and each episode's transitions sit
contiguously in the replay buffer (frames stored once, as in the synchronous mode).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

KEY_STRIDE = 2**27
"""Sampling-key offset between actors: actor i draws keys i * 2**27 + its env steps (31 actors fit in uint32)."""


class EpisodeAborted(Exception):
    """The run stopped (budget reached, interrupt, fault) while this actor was mid-episode; the episode is dropped."""


@dataclass(frozen=True)
class Assignment:
    """One episode for one actor: which reset seed, which sampling keys, how many steps at most."""

    reset_index: int
    """Global episode index that picks the reset seed (as the sync mode's episode counter does)."""
    key_offset: int
    """First sampling key (``Actor.run_episode``'s ``env_steps``)."""
    max_steps: int
    """Env steps left in the run's budget when the episode was handed out."""


@dataclass
class EpisodeReport:
    """A finished episode on its way to the learner."""

    actor: int
    reset_index: int
    transitions: list[dict[str, Any]]
    row: dict[str, Any]


class PolicySlot:
    """The newest published parameters; the learner writes, actors read (thread-safe, versioned)."""

    def __init__(self, policy: Any = None, learner_steps: int = 0) -> None:
        self._lock = threading.Lock()
        self._value = (1 if policy is not None else 0, policy, learner_steps)

    def put(self, policy: Any, learner_steps: int) -> None:
        with self._lock:
            self._value = (self._value[0] + 1, policy, learner_steps)

    def get(self) -> tuple[int, Any, int]:
        """(version, policy, learner steps it was published at)."""
        with self._lock:
            return self._value


class EpisodeLink:
    """Actor-side link of the asynchronous modes: keeps the episode, pulls new parameters after each step."""

    def __init__(self, slot: PolicySlot, stop: threading.Event | None = None) -> None:
        self.slot, self.stop = slot, stop
        self.transitions: list[dict[str, Any]] = []
        self.seen, _, self.learner_steps = slot.get()
        self.losses: dict[str, float] = {}

    def ingest(self, transition: dict[str, Any]) -> None:
        self.transitions.append(transition)

    def after_step(self, actor: Any) -> None:
        if self.stop is not None and self.stop.is_set():
            raise EpisodeAborted
        version, policy, steps = self.slot.get()
        if version != self.seen:
            actor.set_policy(policy)
            self.seen, self.learner_steps = version, steps


@dataclass
class EpisodeLedger:
    """Reset indices: the next fresh one, those to play again, and those handed out and not yet committed.

    An index is committed once its episode's report is ingested; one handed out but never
    committed (its actor died, the run stopped) goes back to ``replay`` and is handed out
    before any fresh index, so every index ends up committed exactly once.
    """

    next_index: int = 0
    replay: list[int] = field(default_factory=list)
    in_flight: dict[int, int] = field(default_factory=dict)
    """Reset index -> the actor it was handed to."""

    def assign(self, actor: int) -> int:
        if self.replay:
            index = self.replay.pop(0)
        else:
            index, self.next_index = self.next_index, self.next_index + 1
        self.in_flight[index] = actor
        return index

    def commit(self, actor: int, index: int) -> bool:
        """Whether ``index`` was out on ``actor`` (a late report of a released episode is refused)."""
        if self.in_flight.get(index) != actor:
            return False
        del self.in_flight[index]
        return True

    def release(self, index: int) -> None:
        """The episode of ``index`` will never be reported (its actor died): play the index again."""
        if self.in_flight.pop(index, None) is not None:
            self.replay = sorted([*self.replay, index])

    def state(self) -> dict[str, Any]:
        """What a checkpoint keeps: episodes out on actors now count as to be replayed."""
        return {"next_index": self.next_index, "replay": sorted([*self.replay, *self.in_flight])}

    @classmethod
    def from_state(cls, state: dict[str, Any] | None, episodes: int) -> EpisodeLedger:
        """From a checkpoint's ``ledger`` (a sync checkpoint has none: indices ``0..episodes-1`` are committed)."""
        if not state:
            return cls(next_index=episodes)
        return cls(next_index=int(state["next_index"]), replay=[int(i) for i in state["replay"]])
