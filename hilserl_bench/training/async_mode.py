"""``--mode async``: the actor keeps the control loop on this thread while the learner trains on another.

This is HIL-SERL's split (the robot's 10 Hz loop never waits for a gradient step) in one
process: the actor plays episodes with whatever parameters the learner last published
(every ``--publish-every`` learner steps, HIL-SERL uses 50) and hands each finished
episode to the :class:`~hilserl_bench.training.learner_loop.LearnerLoop` thread. The
actor stays on the main thread, where devices read the terminal and signals arrive;
interventions are wrapped around its env exactly as in the synchronous mode.

Faults: an error on the actor side (a robot server that went away) stops the learner,
which checkpoints the committed episodes, and is raised; an error on the learner thread
stops the actor at its next step and is raised. Either way re-running the command
resumes from the checkpoint (docs/async_and_ray.md).
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

from tqdm import tqdm

from hilserl_bench.training.learner_loop import LearnerLoop
from hilserl_bench.training.roles import Actor
from hilserl_bench.training.run_setup import RunSetup
from hilserl_bench.training.scripted_intervention import ScriptedIntervention
from hilserl_bench.training.transport import EpisodeAborted, EpisodeLink, EpisodeReport, PolicySlot


def train_async(setup: RunSetup, progress: bool = True) -> Any:
    """Run (or resume) ``setup``'s run with a learner thread; returns a ``TrainResult``."""
    from hilserl_bench.training.train import TrainResult, _raise_interrupt

    cfg, learner = setup.cfg, setup.learner
    bar = tqdm(total=cfg.env_steps, initial=min(setup.env_steps, cfg.env_steps), disable=not progress, unit="step",
               desc=f"{cfg.agent} {cfg.task} (async)", file=sys.stderr)

    def on_commit(row: dict[str, Any]) -> None:
        bar.update(int(row["steps"]))
        bar.set_postfix(success=f"{setup.log.recent_success():.2f}",
                        interv=f"{setup.log.recent_intervention_rate():.2f}")

    slot = PolicySlot(learner.policy(), learner.steps)
    loop = LearnerLoop(setup, slot.put, on_commit)
    if isinstance(setup.env, ScriptedIntervention):
        setup.env.restore(setup.env_steps, loop.rows_of(0))
    actor = Actor(setup.env, slot.get()[1], cfg.seed)
    thread = threading.Thread(target=loop.run, name="hilserl-learner", daemon=True)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    interrupted = False
    thread.start()
    try:
        while (job := loop.assign(0)) is not None:
            link = EpisodeLink(slot, loop.stop)
            stats = actor.run_episode(job.reset_index, job.key_offset, link, job.key_offset + job.max_steps)
            loop.submit(EpisodeReport(0, job.reset_index, link.transitions, stats.row()))
    except EpisodeAborted:
        pass
    except KeyboardInterrupt:
        interrupted = True
    except BaseException:
        loop.stop.set()
        raise
    finally:
        if interrupted:
            loop.stop.set()
        loop.producers_done.set()
        _join(thread, loop)
        bar.close()
        signal.signal(signal.SIGTERM, previous)
        setup.close()
    if loop.error is not None:
        raise loop.error
    return TrainResult(cfg.out, setup.env_steps, setup.episodes, learner.steps, setup.resumed_from, interrupted)


def _join(thread: threading.Thread, loop: LearnerLoop) -> None:
    """Wait for the learner's final checkpoint; a second Ctrl-C while waiting stops it sooner."""
    while thread.is_alive():
        try:
            thread.join(timeout=0.5)
        except KeyboardInterrupt:
            loop.stop.set()
