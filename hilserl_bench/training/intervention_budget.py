"""How often the scripted supervisor may step in, tied to the policy's own measured success.

A person at the robot intervenes less as the policy improves, not on a clock. The
earlier schedule decayed linearly to zero at 20k env steps, before the USB policy could
grasp on its own, so corrections stopped exactly when they were still needed. Here the
budget (the probability that a fired trigger leads to a takeover) follows what the
policy achieves *without help*:

* every ``probe_every``-th episode is a probe: the supervisor watches but never takes
  over, so the episode's success is the policy's own;
* the budget is ``clip(1 - mean success of the last `window` probes, floor, ceiling)``,
  and ``ceiling`` until the first probe has finished.

So the budget falls only as fast as the policy proves it can finish alone, rises again
if it regresses, and never drops below ``floor`` (rare corrections keep fixing the
states the policy still gets wrong). Everything is a function of the episode index and
the probes' outcomes, so a resumed run rebuilds it from its metrics rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BudgetConfig:
    """The success-driven intervention budget (see the module docstring)."""

    ceiling: float = 1.0
    """Budget before any probe has finished, and its upper bound."""
    floor: float = 0.1
    """Lowest budget, however well the probes go (0 lets the supervisor go silent)."""
    probe_every: int = 5
    """Every this-many-th episode (episodes 4, 9, 14, ... for 5) runs without takeovers; 0 turns probes off."""
    window: int = 10
    """Number of most recent probe episodes whose success rate sets the budget."""

    def validate(self) -> None:
        """Reject values no schedule can use, naming the field."""
        if not 0.0 <= self.floor <= self.ceiling <= 1.0:
            raise ValueError(f"budget needs 0 <= floor ({self.floor}) <= ceiling ({self.ceiling}) <= 1")
        if self.probe_every < 0 or self.probe_every == 1:
            raise ValueError(f"probe_every={self.probe_every} must be 0 (no probes) or >= 2 (some corrected episodes)")
        if self.window < 1:
            raise ValueError(f"window={self.window} must be >= 1 probe episode")


class InterventionBudget:
    """Counts episodes, remembers probe outcomes and answers the current budget."""

    def __init__(self, config: BudgetConfig) -> None:
        config.validate()
        self.config = config
        self.episodes = 0
        self.probe_successes: list[bool] = []

    def is_probe(self, episode: int) -> bool:
        """Whether episode ``episode`` (0-based) runs without takeovers."""
        every = self.config.probe_every
        return every > 0 and episode % every == every - 1

    def value(self) -> float:
        """Probability that a fired trigger is honoured in the next non-probe episode."""
        c = self.config
        recent = self.probe_successes[-c.window:]
        if not recent:
            return c.ceiling
        return min(c.ceiling, max(c.floor, 1.0 - sum(recent) / len(recent)))

    def recent_probe_success(self) -> float | None:
        """Success rate over the probe window, ``None`` before the first probe."""
        recent = self.probe_successes[-self.config.window:]
        return sum(recent) / len(recent) if recent else None

    def end_episode(self, success: bool) -> None:
        """Record the finished episode (its success counts when it was a probe)."""
        if self.is_probe(self.episodes):
            self.probe_successes.append(bool(success))
        self.episodes += 1

    def restore(self, rows: Sequence[dict[str, Any]]) -> None:
        """Rebuild from a run's metrics rows (one per finished episode, in order), for resuming."""
        self.episodes, self.probe_successes = 0, []
        for row in rows:
            self.end_episode(bool(row.get("success", False)))
