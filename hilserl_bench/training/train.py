"""``hilserl-bench train``: the synchronous training loop, identical for every backend.

The loop builds the learning env (``make_learning_env``), optionally wraps it in the
scripted supervisor, fills the demo buffer from recorded episodes, and alternates the
actor and learner roles (:mod:`hilserl_bench.training.roles`). Checkpoints are taken
at episode boundaries only, so a killed run resumes from a state in which every
buffered transition belongs to a finished episode: the interrupted episode is played
again from the same seeds, nothing is lost and nothing is stored twice.
"""

from __future__ import annotations

import dataclasses
import json
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import tyro
from tqdm import tqdm

from hilserl_bench.cli_checks import check_log_backend, check_out_dir, resolve_obs_mode
from hilserl_bench.data.episode_format import episode_files, load_dataset, read_metadata, serves_state_mode
from hilserl_bench.data.learning_env import describe_stack, make_learning_env
from hilserl_bench.errors import UserFacingError
from hilserl_bench.training import checkpoint as ckpt
from hilserl_bench.training.agent_factory import build_agent, make_buffers
from hilserl_bench.training.config import TrainConfig
from hilserl_bench.training.metrics_log import MetricsLog
from hilserl_bench.training.pixels import wrap_domain_randomisation, wrap_reward
from hilserl_bench.training.roles import Actor, Learner
from hilserl_bench.training.scripted_intervention import ScriptedIntervention

RESUMABLE_CHANGES = {"env_steps", "checkpoint_every", "log"}
"""Config fields a resumed run may change (extend the budget, checkpoint more often)."""


class RunMismatchError(UserFacingError):
    """The run directory belongs to a run with other settings."""


@dataclass
class TrainResult:
    """Where a finished (or interrupted) run stands."""

    run_dir: Path
    env_steps: int
    episodes: int
    learner_steps: int
    resumed_from: int | None
    interrupted: bool


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


def train(cfg: TrainConfig, progress: bool = True) -> TrainResult:
    """Run (or resume) training until ``cfg.env_steps`` transitions are collected."""
    cfg.validate()
    check_log_backend(cfg.log)
    latest = check_run_dir(cfg)
    env = build_env(cfg)
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
    log = MetricsLog(cfg.out, cfg.log, cfg.to_json())
    env_steps = episodes = 0
    resumed_from = None
    if latest is not None:
        arrays, meta = ckpt.load_checkpoint(latest)
        if meta.get("task") != cfg.task:
            raise RunMismatchError(f"checkpoint {latest} is for task {meta.get('task')!r}, not {cfg.task!r}")
        agent.load_state_dict(arrays)
        online, prior, sampler = make_buffers(cfg, stack, agent, latest)
        learner.online, learner.prior, learner.sampler = online, prior, sampler
        env_steps, episodes, learner.steps = meta["env_steps"], meta["episodes"], meta["learner_steps"]
        log.restore(meta["metrics"])
        resumed_from = episodes
        print(f"resuming {cfg.out} from its checkpoint after episode {episodes} (env step {env_steps} of "
              f"{cfg.env_steps}, learner step {learner.steps})", file=sys.stderr)
    elif cfg.agent in ("bc", "hgdagger"):
        with tqdm(total=cfg.bc_steps, disable=not progress, unit="step", desc=f"{cfg.agent} pretraining",
                  file=sys.stderr) as pre:
            agent.pretrain(prior, cfg.bc_steps, cfg.batch_size, cfg.seed, progress=pre.update)
    if isinstance(env, ScriptedIntervention):
        env.restore(env_steps, log.rows)
    actor = Actor(env, learner.policy(), cfg.seed)

    def save() -> None:
        ckpt.save_checkpoint(cfg.out, episodes, agent.state_dict(), {
            "task": cfg.task, "env_steps": env_steps, "episodes": episodes, "learner_steps": learner.steps,
            "metrics": log.rows, "saved_at": time.time(),
        }, {"online": online.save, "prior": prior.save})

    interrupted = False
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    bar = tqdm(total=cfg.env_steps, initial=min(env_steps, cfg.env_steps), disable=not progress, unit="step",
               desc=f"{cfg.agent} {cfg.task}", file=sys.stderr)
    try:
        while env_steps < cfg.env_steps:
            stats = actor.run_episode(episodes, env_steps, learner, cfg.publish_every, cfg.env_steps)
            env_steps += stats.steps
            episodes += 1
            log.append(stats.row())
            bar.update(stats.steps)
            bar.set_postfix(success=f"{log.recent_success():.2f}", interv=f"{log.recent_intervention_rate():.2f}")
            if episodes % cfg.checkpoint_every == 0:
                save()
        save()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
        signal.signal(signal.SIGTERM, previous)
        env.close()
        log.close()
    return TrainResult(cfg.out, env_steps, episodes, learner.steps, resumed_from, interrupted)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def read_metrics(run_dir: Path) -> pd.DataFrame:
    """metrics.csv of a run as a DataFrame."""
    return pd.read_csv(Path(run_dir) / "metrics.csv")


def summarize_metrics(df: pd.DataFrame, window: int = 20) -> dict[str, float]:
    """Success and intervention rate over the last ``window`` episodes (the paper's running average)."""
    tail = df.tail(window)
    total = int(df["env_steps"].iloc[-1] + df["steps"].iloc[-1]) if len(df) else 0
    return {"episodes": int(len(df)), "env_steps": total,
            "recent_success": float(tail["success"].mean()) if len(tail) else 0.0,
            "recent_intervention_rate": float(tail["intervention_rate"].mean()) if len(tail) else 0.0,
            "mean_steps": float(np.mean(tail["steps"])) if len(tail) else 0.0}


def format_result(result: TrainResult, cfg: TrainConfig) -> str:
    """What a person reads when ``train`` ends: where the run is, how far it got, how it did, what next."""
    summary = summarize_metrics(read_metrics(result.run_dir)) if (result.run_dir / "metrics.csv").exists() else None
    state = "interrupted; re-run the same command to resume" if result.interrupted else "done"
    lines = [f"{state}: {cfg.agent} on {cfg.task} ({cfg.obs_mode}) in {result.run_dir}",
             f"  {result.env_steps} env steps, {result.episodes} episodes, {result.learner_steps} learner steps"]
    if summary and summary["episodes"]:
        window = min(20, summary["episodes"])
        lines.append(f"  last {window} episodes: success {100 * summary['recent_success']:.0f}%, intervention rate "
                     f"{summary['recent_intervention_rate']:.2f}, {summary['mean_steps']:.1f} steps per episode")
    lines.append(f"  evaluate: hilserl-bench eval --run {result.run_dir}")
    return "\n".join(lines)


@dataclass(frozen=True)
class TrainCmd(TrainConfig):
    """Train an agent on a task; re-running the same command resumes from the run's latest checkpoint."""

    obs_mode: Literal["state", "pixels", "noisy_state"] | None = None
    """`state`: proprioception + privileged task state (fast, sim and serve-sim only); `pixels`: the paper's
    cameras; `noisy_state`: state with a camera-sized per-episode error (docs/suite.md). Default: state with
    --backend sim, pixels with --backend real."""
    out: Annotated[Path, tyro.conf.arg(aliases=("--run",))] = Path("runs/run")
    """Run directory: config, checkpoints, metrics (`--run` is the same flag, as on eval). Re-running with the
    same directory resumes."""

    def config(self) -> TrainConfig:
        """The run's config, with the backend's default observation mode filled in."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(TrainConfig)}
        values["obs_mode"] = resolve_obs_mode(self.obs_mode, self.robot, self.task)
        return TrainConfig(**values)

    def run(self) -> int:
        cfg = self.config()
        result = train(cfg)
        print(format_result(result, cfg))
        return 130 if result.interrupted else 0
