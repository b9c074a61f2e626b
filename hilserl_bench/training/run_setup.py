"""Everything a training run holds before its first episode, shared by the sync, async and Ray modes.

:func:`prepare_run` checks the run folder against the config, builds the env, the
agent, the buffers and the metrics log, loads the demos and, when the folder holds a
checkpoint, restores all of it. The modes differ only in how the actor and the learner
then exchange transitions and parameters, so none of them repeats this.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from hilserl_bench.cli_checks import check_out_dir
from hilserl_bench.data.episode_format import episode_files, load_dataset, read_metadata, serves_state_mode
from hilserl_bench.data.learning_env import describe_stack, make_learning_env
from hilserl_bench.errors import UserFacingError
from hilserl_bench.training import checkpoint as ckpt
from hilserl_bench.training.agent_factory import AgentHandle, build_agent, make_buffers
from hilserl_bench.training.config import TrainConfig
from hilserl_bench.training.metrics_log import MetricsLog
from hilserl_bench.training.pixels import wrap_domain_randomisation, wrap_reward
from hilserl_bench.training.roles import Learner
from hilserl_bench.training.scripted_intervention import ScriptedIntervention

RESUMABLE_CHANGES = {"env_steps", "checkpoint_every", "log", "mode", "actors", "ray_address", "max_updates_per_step"}
"""Config fields a resumed run may change (extend the budget, checkpoint more often, move to other workers)."""


class RunMismatchError(UserFacingError):
    """The run directory belongs to a run with other settings."""


def check_run_dir(cfg: TrainConfig) -> Path | None:
    """Refuse a run folder that holds a checkpoint of other settings; writes nothing.

    Returns the checkpoint a resume starts from, or ``None`` for a fresh run. A folder whose
    run never reached a checkpoint (a failed or early-killed start) never blocks a new
    configuration: there is nothing in it to resume.
    """
    check_out_dir(cfg.out)
    latest = ckpt.latest_checkpoint(cfg.out) if cfg.out.is_dir() else None
    path = cfg.out / "config.json"
    if latest is None or not path.exists():
        return None
    saved = json.loads(path.read_text())
    current = cfg.to_json()
    changed = sorted(k for k in set(saved) | set(current)
                     if saved.get(k) != current.get(k) and k not in RESUMABLE_CHANGES)
    if changed:
        diff = ", ".join(f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in changed)
        raise RunMismatchError(f"{cfg.out} holds a checkpointed run with other settings ({diff}); re-run with "
                               "the original settings to resume it, or give another --out")
    return latest


def check_demos(cfg: TrainConfig, stack: dict[str, Any]) -> None:
    """One line naming what differs between ``--demos`` and this run, and the command that fixes it.

    Only the first episode's metadata is read here; :func:`load_dataset` then checks every file.
    """
    if cfg.demos is None:
        return
    record = f"`hilserl-bench record --task {cfg.task} --obs-mode {stack['obs_mode']} --out DIR`"
    if not cfg.demos.is_dir():
        raise UserFacingError(f"--demos {cfg.demos} is not a folder of recorded episodes; record some with {record}")
    files = episode_files(cfg.demos)
    if not files:
        raise UserFacingError(f"--demos {cfg.demos} holds no episode files (*.npz); record some with {record}")
    meta = read_metadata(files[0])
    saved = meta.get("stack", {})
    if saved.get("task_id") != cfg.task:
        raise UserFacingError(f"--demos {cfg.demos} holds {saved.get('task_id')!r} episodes, not {cfg.task!r}; "
                              f"record {cfg.task} demos with {record}")
    mode = saved.get("obs_mode") or ("pixels" if saved.get("cameras") else "state")
    if mode == "pixels" and stack["obs_mode"] == "state" and serves_state_mode(meta):
        return
    if mode != stack["obs_mode"]:
        raise UserFacingError(f"--demos {cfg.demos} were recorded with --obs-mode {mode} but this run uses --obs-mode "
                              f"{stack['obs_mode']}: train with --obs-mode {mode}, or record new demos with {record}")


def _start_run_dir(cfg: TrainConfig) -> None:
    cfg.out.mkdir(parents=True, exist_ok=True)
    ckpt.write_json_atomic(cfg.out / "config.json", cfg.to_json())
    if ckpt.latest_checkpoint(cfg.out) is None:
        (cfg.out / "metrics.csv").unlink(missing_ok=True)


def build_env(cfg: TrainConfig) -> Any:
    """The learning env, with the scripted supervisor outermost or a person's device innermost when asked."""
    if cfg.interventions == "human":
        import hilserl_bench
        from hilserl_bench.wrappers.human_intervention import HumanInterventionConfig, human_intervention_env

        raw = hilserl_bench.make(cfg.task, obs_mode=cfg.obs_mode, **cfg.robot.make_kwargs(),
                                 **cfg.pixels.make_kwargs(cfg.obs_mode))
        return wrap_reward(human_intervention_env(raw, cfg.device, HumanInterventionConfig(hold_s=cfg.hold_s)),
                           cfg.reward_model)
    env = make_learning_env(cfg.task, obs_mode=cfg.obs_mode, **cfg.robot.make_kwargs(),
                            **cfg.pixels.make_kwargs(cfg.obs_mode))
    env = wrap_reward(wrap_domain_randomisation(env, cfg.pixels), cfg.reward_model)
    if cfg.interventions == "scripted":
        from hilserl_bench.envs.experts import make_expert

        env = ScriptedIntervention(env, make_expert(env.unwrapped), cfg.supervisor, seed=cfg.seed)
    return env


@dataclass
class RunSetup:
    """A run ready for its next episode: env, agent, buffers (inside ``learner``), log and counters."""

    cfg: TrainConfig
    env: Any
    stack: dict[str, Any]
    agent: AgentHandle
    learner: Learner
    log: MetricsLog
    env_steps: int = 0
    episodes: int = 0
    resumed_from: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    """The checkpoint's meta.json on a resume (empty for a fresh run)."""

    def save(self, **extra: Any) -> Path:
        """Checkpoint the agent, both buffers, counters and metrics rows (``extra`` goes into meta.json)."""
        learner = self.learner
        return ckpt.save_checkpoint(self.cfg.out, self.episodes, self.agent.state_dict(), {
            "task": self.cfg.task, "env_steps": self.env_steps, "episodes": self.episodes,
            "learner_steps": learner.steps, "metrics": self.log.rows, "saved_at": time.time(), **extra,
        }, {"online": learner.online.save, "prior": learner.prior.save})

    def close(self) -> None:
        self.env.close()
        self.log.close()


def prepare_run(cfg: TrainConfig, progress: bool = True, env: Any = None) -> RunSetup:
    """Check, build and (on a resume) restore a run; see the module docstring. ``env``: use this env."""
    latest = check_run_dir(cfg)
    env = build_env(cfg) if env is None else env
    try:
        stack = describe_stack(env)
        check_demos(cfg, stack)
        demos = load_dataset(cfg.demos, expect=stack) if cfg.demos is not None else []
        obs_example, _ = env.reset(seed=cfg.seed)
    except BaseException:
        env.close()
        raise
    _start_run_dir(cfg)
    agent = build_agent(cfg, obs_example, env.action_space.shape[0], stack)
    online, prior, sampler = make_buffers(cfg, stack, agent)
    for episode in demos:
        prior.insert_episode(episode)
    learner = Learner(agent, online, prior, sampler, cfg.batch_size, cfg.utd, cfg.start_training, cfg.seed)
    setup = RunSetup(cfg, env, stack, agent, learner, MetricsLog(cfg.out, cfg.log, cfg.to_json()))
    if latest is not None:
        arrays, meta = ckpt.load_checkpoint(latest)
        if meta.get("task") != cfg.task:
            raise RunMismatchError(f"checkpoint {latest} is for task {meta.get('task')!r}, not {cfg.task!r}")
        agent.load_state_dict(arrays)
        learner.online, learner.prior, learner.sampler = make_buffers(cfg, stack, agent, latest)
        setup.env_steps, setup.episodes, learner.steps = meta["env_steps"], meta["episodes"], meta["learner_steps"]
        setup.log.restore(meta["metrics"])
        setup.resumed_from, setup.meta = setup.episodes, meta
        print(f"resuming {cfg.out} from its checkpoint after episode {setup.episodes} (env step {setup.env_steps} "
              f"of {cfg.env_steps}, learner step {learner.steps})", file=sys.stderr)
    elif cfg.agent in ("bc", "hgdagger"):
        with tqdm(total=cfg.bc_steps, disable=not progress, unit="step", desc=f"{cfg.agent} pretraining",
                  file=sys.stderr) as pre:
            agent.pretrain(prior, cfg.bc_steps, cfg.batch_size, cfg.seed, progress=pre.update)
    return setup
