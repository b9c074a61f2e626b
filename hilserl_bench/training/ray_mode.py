"""``--mode ray``: ``--actors`` simulated actors and one learner, each a Ray actor, here or on a cluster.

The learner actor runs the same :class:`~hilserl_bench.training.learner_loop.LearnerLoop`
as async mode (on the driver's node, where the run folder is); each actor process runs
the same :class:`~hilserl_bench.training.roles.Actor` over its own env, asks the learner
for its next episode and sends the finished one back. Parameters go the other way:
every ``--publish-every`` learner steps the learner puts them in Ray's object store
once and pushes the reference to every actor, whose :class:`PolicySlot` swaps them in
between two env steps.

Faults: an actor whose process dies is restarted (``MAX_RESTARTS`` times each) and
its unfinished episode is replayed by the next actor that asks; the learner dying ends
the command with a one-line error, and re-running it resumes from the last checkpoint.
``<out>/actors.json`` names each actor's process and node.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from typing import Any

from tqdm import tqdm

from hilserl_bench.errors import UserFacingError
from hilserl_bench.training import checkpoint as ckpt
from hilserl_bench.training.config import TrainConfig
from hilserl_bench.training.ray_cluster import connect, require_ray
from hilserl_bench.training.transport import EpisodeLink, EpisodeReport, PolicySlot

MAX_RESTARTS = 3
"""Restarts of one actor before it is given up (the run goes on with the others)."""


class RayLearner:
    """Learner side, as a threaded Ray actor: ``run`` trains while the actors call ``assign`` and ``submit``."""

    def __init__(self, cfg: TrainConfig) -> None:
        from hilserl_bench.training.learner_loop import LearnerLoop
        from hilserl_bench.training.run_setup import prepare_run

        self.setup = prepare_run(cfg, progress=False)
        self.setup.env.close()
        self.workers: dict[int, Any] = {}
        self.loop = LearnerLoop(self.setup, self._publish)

    def assign(self, actor: int) -> Any:
        return self.loop.assign(actor)

    def submit(self, report: EpisodeReport) -> None:
        self.loop.submit(report)

    def release(self, actor: int) -> None:
        self.loop.release(actor)

    def rows_of(self, actor: int) -> list[dict[str, Any]]:
        return self.loop.rows_of(actor)

    def params(self) -> tuple[dict[str, Any], int]:
        return self.setup.agent.state_dict(), self.setup.learner.steps

    def attach(self, actor: int, worker: Any) -> None:
        self.workers[actor] = worker

    def _publish(self, policy: Any, learner_steps: int) -> None:
        import ray

        ref = ray.put(policy.state_dict())
        for worker in list(self.workers.values()):
            worker.set_params.remote(ref, learner_steps)

    def progress(self) -> tuple[int, int, float]:
        return self.setup.env_steps, self.setup.episodes, self.setup.log.recent_success()

    def producers_done(self) -> None:
        self.loop.producers_done.set()

    def stop(self) -> None:
        self.loop.stop_now()

    def run(self) -> dict[str, Any]:
        self.loop.run()
        self.setup.log.close()
        if self.loop.error is not None:
            raise self.loop.error
        s = self.setup
        return {"env_steps": s.env_steps, "episodes": s.episodes, "learner_steps": s.learner.steps,
                "resumed_from": s.resumed_from}


class RayActorWorker:
    """One simulated actor: its own env (interventions wrapped as in sync mode) and a copy of the policy."""

    def __init__(self, cfg: TrainConfig, actor: int, learner: Any, params: tuple[dict[str, Any], int]) -> None:
        import ray

        from hilserl_bench.data.learning_env import describe_stack
        from hilserl_bench.training.agent_factory import build_agent
        from hilserl_bench.training.roles import Actor
        from hilserl_bench.training.run_setup import build_env
        from hilserl_bench.training.scripted_intervention import ScriptedIntervention

        self.actor_id, self.learner = actor, learner
        env = build_env(cfg)
        obs, _ = env.reset(seed=cfg.seed)
        self.template = build_agent(cfg, obs, env.action_space.shape[0], describe_stack(env))
        self.slot = PolicySlot()
        self.set_params(*params)
        if isinstance(env, ScriptedIntervention):
            env.restore(0, ray.get(learner.rows_of.remote(actor)))
        self.actor = Actor(env, self.slot.get()[1], cfg.seed)

    def set_params(self, arrays: dict[str, Any], learner_steps: int) -> None:
        """Swap in published parameters (a threaded actor may run two pushes out of order: keep the newest)."""
        version, _, current = self.slot.get()
        if version and learner_steps < current:
            return
        handle = self.template.snapshot()
        handle.load_state_dict(arrays)
        self.slot.put(handle, learner_steps)

    def where(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "host": socket.gethostname()}

    def loop(self) -> int:
        """Play episodes until the learner hands out no more; returns how many."""
        import ray

        played = 0
        while (job := ray.get(self.learner.assign.remote(self.actor_id))) is not None:
            link = EpisodeLink(self.slot)
            stats = self.actor.run_episode(job.reset_index, job.key_offset, link, job.key_offset + job.max_steps)
            ray.get(self.learner.submit.remote(EpisodeReport(self.actor_id, job.reset_index, link.transitions,
                                                             stats.row())))
            played += 1
        self.actor.env.close()
        return played


def train_ray(cfg: TrainConfig, progress: bool = True) -> Any:
    """Run (or resume) ``cfg`` with Ray actors; returns a ``TrainResult``."""
    from hilserl_bench.training.run_setup import check_run_dir
    from hilserl_bench.training.train import TrainResult

    ray = require_ray()
    check_run_dir(cfg)
    started = connect(cfg.ray_address, cfg.actors)
    try:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
        gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
        learner = ray.remote(RayLearner).options(max_concurrency=4 + 2 * cfg.actors, num_cpus=1, num_gpus=gpus,
                                                 scheduling_strategy=here).remote(cfg)
        try:
            ray.get(learner.params.remote())  # set-up errors (bad demos, other settings) surface here
        except ray.exceptions.RayActorError as err:
            cause = [line for line in str(err).splitlines() if line.strip()][-1]
            raise UserFacingError(f"the Ray learner could not start: {cause}") from err
        return _drive(ray, cfg, learner, progress, TrainResult)
    finally:
        if started:
            ray.shutdown()


def _drive(ray: Any, cfg: TrainConfig, learner: Any, progress: bool, result_type: type) -> Any:
    """Start the actors and the learner's loop; restart dead actors until the learner is done."""
    worker_cls = ray.remote(RayActorWorker).options(max_concurrency=2, num_cpus=1)
    workers: dict[int, Any] = {}
    loops: dict[Any, int] = {}
    restarts = dict.fromkeys(range(cfg.actors), 0)
    where: dict[int, Any] = {}

    def spawn(*actors: int) -> None:
        """Start these actors' processes side by side (each builds an env and compiles the policy)."""
        params = learner.params.remote()
        for actor in actors:
            workers[actor] = worker_cls.remote(cfg, actor, learner, params)
        for actor in actors:
            ray.get(learner.attach.remote(actor, workers[actor]))
            where[actor] = {**ray.get(workers[actor].where.remote()), "restarts": restarts[actor]}
            loops[workers[actor].loop.remote()] = actor
        ckpt.write_json_atomic(cfg.out / "actors.json", {str(k): v for k, v in sorted(where.items())})

    from hilserl_bench.training.train import _raise_interrupt

    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    interrupted = False
    bar = tqdm(total=cfg.env_steps, disable=not progress, unit="step", file=sys.stderr,
               desc=f"{cfg.agent} {cfg.task} (ray, {cfg.actors} actors)")
    try:
        run_ref = learner.run.remote()
        try:
            spawn(*range(cfg.actors))
            _watch(ray, cfg, learner, run_ref, loops, restarts, spawn, bar, progress)
        except KeyboardInterrupt:
            interrupted = True
            learner.stop.remote()
        try:
            out = ray.get(run_ref)
        except ray.exceptions.RayActorError as err:
            raise UserFacingError(f"the Ray learner died ({type(err).__name__}); re-run the same command to resume "
                                  f"{cfg.out} from its last checkpoint") from err
    finally:
        signal.signal(signal.SIGTERM, previous)
        bar.close()
        for worker in workers.values():
            ray.kill(worker)
    return result_type(cfg.out, out["env_steps"], out["episodes"], out["learner_steps"], out["resumed_from"],
                       interrupted)


def _watch(ray: Any, cfg: TrainConfig, learner: Any, run_ref: Any, loops: dict[Any, int], restarts: dict[int, int],
           spawn: Any, bar: Any, progress: bool) -> None:
    """Until the learner's loop ends: restart actors that die, tell the learner when all have finished."""
    while True:
        ready, _ = ray.wait([run_ref, *loops], num_returns=1, timeout=1.0)
        if run_ref in ready:
            return
        for ref in ready:
            actor = loops.pop(ref)
            try:
                ray.get(ref)
            except ray.exceptions.RayActorError as err:
                _restart(ray, learner, actor, err, restarts, spawn)
        if not loops:
            learner.producers_done.remote()
        if progress:
            env_steps, _, success = ray.get(learner.progress.remote())
            bar.update(min(env_steps, cfg.env_steps) - bar.n)
            bar.set_postfix(success=f"{success:.2f}")


def _restart(ray: Any, learner: Any, actor: int, err: Exception, restarts: dict[int, int], spawn: Any) -> None:
    """Replay the dead actor's episode elsewhere and start a new process for it, ``MAX_RESTARTS`` times."""
    ray.get(learner.release.remote(actor))
    restarts[actor] += 1
    cause = str(err).splitlines()[0][:160]
    if restarts[actor] > MAX_RESTARTS:
        print(f"actor {actor} died {restarts[actor]} times ({cause}); going on without it", file=sys.stderr)
        return
    print(f"actor {actor} died ({cause}); restarting it ({restarts[actor]}/{MAX_RESTARTS}), its episode is "
          "replayed", file=sys.stderr)
    time.sleep(0.1)
    spawn(actor)
