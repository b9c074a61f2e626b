"""The learner side of ``--mode async`` and ``--mode ray``: commit whole episodes, train, publish, checkpoint.

One :class:`LearnerLoop` owns the run's :class:`~hilserl_bench.training.run_setup.RunSetup`
(agent, buffers, metrics log, counters) and runs on one thread: the learner thread of
async mode, or the Ray learner actor. Actors on other threads or processes call
:meth:`~LearnerLoop.assign` for their next episode and :meth:`~LearnerLoop.submit` with
the finished episode; the loop commits reports in arrival order, training between them.

Guarantee (docs/async_and_ray.md): a checkpoint holds exactly the committed episodes
(every transition of each in the buffers, one metrics row each) and the ledger of reset
indices; episodes out on actors at that moment are replayed (same reset index) after a
resume, never half-stored. ``--env-steps`` is reached at an episode boundary: with one
actor exactly, with N actors overshooting by less than N - 1 episodes.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from hilserl_bench.training.run_setup import RunSetup
from hilserl_bench.training.transport import KEY_STRIDE, Assignment, EpisodeLedger, EpisodeReport


class LearnerLoop:
    """See the module docstring; ``publish(policy, learner_steps)`` delivers parameters to the actors."""

    def __init__(self, setup: RunSetup, publish: Callable[[Any, int], None],
                 on_commit: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.setup, self.cfg, self.learner = setup, setup.cfg, setup.learner
        self.publish, self.on_commit = publish, on_commit
        self.ledger = EpisodeLedger.from_state(setup.meta.get("ledger"), setup.episodes)
        self.inbox: queue.Queue[EpisodeReport] = queue.Queue()
        self.stop = threading.Event()
        self.producers_done = threading.Event()
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._pending: dict[int, int] = {}
        self._playing: dict[int, int] = {}
        self._actor_steps: dict[int, int] = {}
        for row in setup.log.rows:
            actor = int(row.get("actor", 0) or 0)
            self._actor_steps[actor] = self._actor_steps.get(actor, 0) + int(row["steps"])
        self._published_at = self.learner.steps
        self._committing = False
        self._started = time.monotonic()

    # -- called from actor threads / Ray calls ----------------------------------------------------------
    def assign(self, actor: int) -> Assignment | None:
        """The next episode for ``actor``, or ``None`` when the budget is spoken for or the run is stopping."""
        with self._lock:
            left = self.cfg.env_steps - self.setup.env_steps - sum(self._pending.values())
            if self.stop.is_set() or left <= 0:
                return None
            index = self._playing[actor] = self.ledger.assign(actor)
            return Assignment(index, actor * KEY_STRIDE + self._actor_steps.get(actor, 0), left)

    def submit(self, report: EpisodeReport) -> None:
        with self._lock:
            self._pending[report.actor] = self._pending.get(report.actor, 0) + len(report.transitions)
            if self._playing.get(report.actor) == report.reset_index:
                del self._playing[report.actor]
        self.inbox.put(report)

    def release(self, actor: int) -> None:
        """``actor`` died: the episode it was playing is played again by whoever asks next."""
        with self._lock:
            index = self._playing.pop(actor, None)
            if index is not None:
                self.ledger.release(index)

    def rows_of(self, actor: int) -> list[dict[str, Any]]:
        """Committed metrics rows of one actor (a sync run's rows count as actor 0's)."""
        return [r for r in self.setup.log.rows if int(r.get("actor", 0) or 0) == actor]

    def stop_now(self) -> None:
        """End the run at the next commit boundary (an interrupt); the learner still writes its checkpoint."""
        self.stop.set()

    def done(self) -> bool:
        return self.setup.env_steps >= self.cfg.env_steps

    # -- the learner thread ---------------------------------------------------------------------------
    def run(self) -> None:
        """Commit, train and publish until the budget is reached or :attr:`stop` is set; then checkpoint."""
        try:
            while not self.stop.is_set() and not self.done():
                if self.producers_done.is_set() and self.inbox.empty():
                    break
                self._drain(block=not self._may_train())
                if self._may_train():
                    self.learner.step()
                    if self.learner.steps - self._published_at >= self.cfg.publish_every:
                        self.publish(self.learner.policy(), self.learner.steps)
                        self._published_at = self.learner.steps
        except BaseException as err:
            self.error = err
        finally:
            self.stop.set()
            if not self._committing:
                self.save()

    def save(self) -> None:
        with self._lock:
            ledger = self.ledger.state()
        self.setup.save(ledger=ledger, mode=self.cfg.mode)

    def _may_train(self) -> bool:
        cap = self.cfg.max_updates_per_step
        return self.learner.ready() and (cap == 0 or self.learner.steps < cap * self.setup.env_steps)

    def _drain(self, block: bool) -> None:
        try:
            report = self.inbox.get(timeout=0.05) if block else self.inbox.get_nowait()
        except queue.Empty:
            return
        while True:
            self._commit(report)
            try:
                report = self.inbox.get_nowait()
            except queue.Empty:
                return

    def _commit(self, report: EpisodeReport) -> None:
        with self._lock:
            self._pending[report.actor] -= len(report.transitions)
            if self.done() or self.stop.is_set() or not self.ledger.commit(report.actor, report.reset_index):
                return
        setup, learner = self.setup, self.learner
        self._committing = True
        for transition in report.transitions:
            learner.ingest(transition)
        row = {**report.row, "episode": setup.episodes, "env_steps": setup.env_steps,
               "learner_steps": learner.steps, **{k: float(v) for k, v in learner.last_info.items()},
               "actor": report.actor, "reset_index": report.reset_index, "policy_steps": report.row["learner_steps"],
               "time_s": time.monotonic() - self._started}
        steps = len(report.transitions)
        with self._lock:
            setup.env_steps += steps
            setup.episodes += 1
            self._actor_steps[report.actor] = self._actor_steps.get(report.actor, 0) + steps
        setup.log.append(row)
        self._committing = False
        if self.on_commit is not None:
            self.on_commit(row)
        if setup.episodes % self.cfg.checkpoint_every == 0:
            self.save()
