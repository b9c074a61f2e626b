"""The one config of a training run, parsed by tyro for ``hilserl-bench train``."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import tyro

from hilserl_bench.backend_options import BackendOptions
from hilserl_bench.training.intervention_budget import BudgetConfig
from hilserl_bench.training.pixels import PixelOptions, RewardOptions
from hilserl_bench.training.scripted_intervention import SupervisorConfig


@dataclass(frozen=True)
class TrainConfig:
    """Train an agent on a task; re-running the same command resumes from the run's latest checkpoint."""

    task: str
    """Task id (see `hilserl-bench list`)."""
    agent: Literal["rlpd", "bc", "hgdagger"] = "rlpd"
    """RLPD (SAC, 50/50 demo/online sampling), BC on the demos, or HG-DAgger (BC trained on demos + interventions)."""
    preset: Literal["hilserl", "rlpd"] = "hilserl"
    """RLPD critic preset: `hilserl` (2 critics, min over both) or `rlpd` (10 critics, min over a random 2)."""
    obs_mode: Literal["state", "pixels", "noisy_state"] = "state"
    """`state`: proprioception + privileged task state (fast, sim only); `pixels`: the paper's cameras;
    `noisy_state`: state with a per-episode, camera-sized error on the task state (docs/suite.md)."""
    demos: Path | None = None
    """Directory of recorded episodes (`hilserl-bench record`); they seed the demo buffer."""
    interventions: Literal["none", "scripted", "human"] = "none"
    """`scripted`: the task's expert corrects the policy when triggers fire (see SupervisorConfig);
    `human`: a person corrects it with --device (docs/human_in_the_loop.md)."""
    device: Literal["spacemouse", "keyboard", "gamepad"] = "spacemouse"
    """Input device for human interventions."""
    hold_s: float | None = None
    """Human interventions: keep intervening this long after the last input (default: the task's; the paper
    uses 0.5 s for flipping)."""
    env_steps: int = 32_000
    """Environment steps to collect (the paper's RAM budget is 32k transitions)."""
    seed: int = 0
    """Seed of everything: resets, network init, sampling, the supervisor."""
    out: Path = Path("runs/run")
    """Run directory: config, checkpoints, metrics. Re-running with the same directory resumes."""
    robot: Annotated[BackendOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=BackendOptions)
    """Which robot runs the task (the loop never branches on it)."""
    batch_size: int = 256
    """Learner batch (half demo/intervention data, half online data for RLPD)."""
    utd: int = 1
    """Critic updates per env step (RLPD's update-to-data ratio)."""
    start_training: int = 100
    """Online transitions collected before the first update (HIL-SERL: 100)."""
    publish_every: int = 1
    """Learner steps between parameter pushes to the actor (HIL-SERL's async learner: 50)."""
    mode: Literal["sync", "async", "ray"] = "sync"
    """`sync`: actor and learner alternate in one thread (deterministic for a seed); `async`: the learner trains
    on its own thread while the actor keeps the control loop (the real-robot default of `hilserl-bench train`);
    `ray`: --actors simulated actors and one learner as Ray actors (docs/async_and_ray.md)."""
    actors: int = 1
    """--mode ray: simulated actors collecting in parallel (async and sync run one)."""
    ray_address: str | None = None
    """--mode ray: a running Ray cluster (`ray start --head` prints it, e.g. 10.0.0.5:6379); default: start
    Ray on this machine."""
    max_updates_per_step: float = 0.0
    """--mode async/ray: at most this many learner updates per collected env step (sync does --utd per step);
    0 lets the learner run as fast as it can, as HIL-SERL's does."""
    buffer_capacity: int = 200_000
    """Transitions each replay buffer holds."""
    bc_steps: int = 20_000
    """Gradient steps of BC training on the demos (and HG-DAgger's pretraining)."""
    checkpoint_every: int = 10
    """Episodes between checkpoints (one is also written at exit)."""
    log: Literal["csv", "tensorboard", "wandb"] = "csv"
    """Per-episode metrics always go to metrics.csv; optionally also to TensorBoard or W&B if installed."""
    supervisor: SupervisorConfig = field(default_factory=SupervisorConfig)
    """Trigger and budget settings of scripted interventions."""
    pixels: Annotated[PixelOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=PixelOptions)
    """Image size, backbone, weights and augmentation of --obs-mode pixels runs."""
    reward_model: Annotated[RewardOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=RewardOptions)
    """The simulator's success or a learned success classifier as the reward."""

    def validate(self) -> None:
        """Reject settings no run can use, naming the field."""
        checks = {
            "env_steps": self.env_steps >= 1, "batch_size": self.batch_size >= 2 and self.batch_size % 2 == 0,
            "utd": self.utd >= 1, "start_training": self.start_training >= 1, "publish_every": self.publish_every >= 1,
            "buffer_capacity": self.buffer_capacity >= 1000, "checkpoint_every": self.checkpoint_every >= 1,
            "bc_steps": self.bc_steps >= 0, "actors": 1 <= self.actors <= 31,
            "max_updates_per_step": self.max_updates_per_step >= 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"--{name.replace('_', '-')}={getattr(self, name)} is out of range")
        if self.agent in ("bc", "hgdagger") and self.demos is None:
            raise ValueError(f"--agent {self.agent} learns from demonstrations: pass --demos DIR "
                             "(record some with `hilserl-bench record --task T --episodes 20 --out DIR`)")
        if self.mode != "ray" and (self.actors != 1 or self.ray_address is not None):
            raise ValueError(f"--actors / --ray-address need --mode ray (this run uses --mode {self.mode})")
        if self.mode == "ray" and (self.robot.backend == "real" or self.interventions == "human"):
            raise ValueError("--mode ray runs simulated actors with scripted or no interventions; a real robot "
                             "or a person at a device trains with --mode async")
        self.supervisor.budget.validate()
        self.reward_model.validate(self.obs_mode)
        if self.agent == "hgdagger" and self.interventions == "none":
            raise ValueError("--agent hgdagger trains on interventions: pass --interventions scripted or human")

    def to_json(self) -> dict[str, Any]:
        """JSON-able form, stored in the run directory to detect a resume with other settings."""
        def convert(value: Any) -> Any:
            if isinstance(value, Path):
                return str(value)
            if dataclasses.is_dataclass(value):
                return {f.name: convert(getattr(value, f.name)) for f in dataclasses.fields(value)}
            return value

        return convert(self)

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_json`."""
        data = dict(payload)
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"run config has fields this version does not know ({', '.join(unknown)}); "
                             "it was written by another version of hilserl-bench")
        supervisor = dict(data.get("supervisor", {}))
        supervisor["budget"] = BudgetConfig(**supervisor.get("budget", {}))
        data["supervisor"] = SupervisorConfig(**supervisor)
        as_path = lambda k, v, name: Path(v) if k == name and v is not None else v  # noqa: E731
        data["pixels"] = PixelOptions(**{k: as_path(k, v, "weights") for k, v in data.get("pixels", {}).items()})
        data["reward_model"] = RewardOptions(**{k: as_path(k, v, "classifier")
                                                for k, v in data.get("reward_model", {}).items()})
        robot = dict(data.get("robot", {}))
        if robot.get("robot_config") is not None:
            robot["robot_config"] = Path(robot["robot_config"])
        data["robot"] = BackendOptions(**robot)
        for key in ("demos", "out"):
            if data.get(key) is not None:
                data[key] = Path(data[key])
        return cls(**data)

    @classmethod
    def load(cls, run_dir: Path) -> TrainConfig:
        """The config a run was started with."""
        path = Path(run_dir) / "config.json"
        if not path.exists():
            raise FileNotFoundError(f"{run_dir} is not a training run (no config.json); "
                                    "start one with `hilserl-bench train --task T --out DIR`")
        return cls.from_json(json.loads(path.read_text()))
