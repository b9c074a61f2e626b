"""``hilserl-bench``: list tasks, roll out policies, benchmark speed, run the main job.

Each subcommand is a frozen dataclass parsed by tyro, so ``--help`` shows every
option with its docstring. ``bench`` is a group (``bench env`` now, more later);
tyro collapses a one-member group, so its arguments are parsed in a second stage.
Mistakes a user can make (an unknown task id, no headless OpenGL, a corrupt demo
file, a checkpoint of another task) end with a one-line message on stderr and a
non-zero exit code instead of a traceback; ``HILSERL_DEBUG=1`` shows the traceback.
Commands defined elsewhere are frozen dataclasses with a ``run() -> int`` method.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import tyro
from tqdm import tqdm

from hilserl_bench.backend_options import BackendOptions
from hilserl_bench.cli_checks import (
    DEFAULT_EPISODES,
    check_positive,
    check_video_path,
    print_report,
    resolve_obs_mode,
    round_floats,
)
from hilserl_bench.cli_parse import PROG, parse_command
from hilserl_bench.cli_parse import print_error as _error
from hilserl_bench.errors import UserFacingError
from hilserl_bench.main_job import RunConfig, run_main_job
from hilserl_bench.policies import PolicyName
from hilserl_bench.readme_pictures import RenderReadmeConfig, render_readme
from hilserl_bench.rendering import RendererUnavailable, require_renderer


@dataclass(frozen=True)
class ListCmd:
    """Print every registered task id with its one-line description."""


@dataclass(frozen=True)
class RolloutCmd:
    """Roll out the scripted expert or the random policy on one task; report success and cycle time."""

    task: str
    """Task id (see `hilserl-bench list`)."""
    policy: PolicyName = "expert"
    """Which policy acts."""
    episodes: int = DEFAULT_EPISODES
    """Number of episodes; episode i uses seed + i."""
    seed: int = 0
    """Seed of the first episode."""
    obs_mode: Literal["state", "pixels"] | None = None
    """Observation mode; pixels renders every policy camera each step (slower, needs OpenGL).
    Default: state with --backend sim, pixels with --backend real."""
    noise: float = 0.0
    """Action-noise scale for the scripted expert."""
    video: Path | None = None
    """Record the first episode to this .mp4 file (a close view beside the policy cameras; sim only)."""
    json: bool = False
    """Print one JSON object instead of a table (the same keys as `eval --json`)."""
    robot: Annotated[BackendOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=BackendOptions)
    """Which robot runs the task (`--backend real --robot-url URL` for hardware or the emulator)."""
    disturb: str | None = None
    """Roll out under a disturbance kind of the task (simulator only): a kind name, `all` (every kind beside
    the undisturbed run) or `list` (print the kinds); see docs/robustness.md."""


@dataclass(frozen=True)
class BenchCmd:
    """Speed benchmarks: `bench env --task T [--backend real]` (env, physics, rendering, HTTP) and `bench learner`."""


@dataclass(frozen=True)
class BenchEnvCmd:
    """Env steps/s in state and pixel mode against raw MuJoCo physics, and camera render fps."""

    task: str
    """Task id (see `hilserl-bench list`)."""
    steps: int = 200
    """Env steps to time in each mode."""
    seed: int = 0
    """Reset seed and random-action seed."""
    pixels: bool = True
    """Also time pixel observations and rendering (needs OpenGL)."""
    backend: Literal["sim", "real"] = "sim"
    """`real`: time the HTTP backend against a loopback emulator of the robot server (added latency per step)."""
    robot_url: str | None = None
    """With --backend real: time this already running robot server (e.g. `serve-sim --deterministic`) instead
    of a loopback emulator started for the benchmark."""
    json: bool = False
    """Print one JSON object instead of a table."""


def _commands() -> dict[str, Any]:
    from hilserl_bench.baselines.bench_learner import BenchLearnerCmd
    from hilserl_bench.data.recorder import RecordCmd
    from hilserl_bench.real.commands import CalibrateCmd, ServeSimCmd
    from hilserl_bench.teleop import TeleopCmd
    from hilserl_bench.training.evaluate import EvalCmd
    from hilserl_bench.training.train import TrainCmd

    commands = {
        "list": ListCmd, "rollout": RolloutCmd, "record": RecordCmd, "train": TrainCmd, "eval": EvalCmd,
        "bench": BenchCmd, "run": RunConfig, "render-readme": RenderReadmeConfig,
        "serve-sim": ServeSimCmd, "calibrate": CalibrateCmd, "teleop": TeleopCmd,
    }
    from hilserl_bench.data.lerobot_export import ExportCmd

    commands["export"] = ExportCmd
    from hilserl_bench.ikea_chain import IkeaChainCmd

    commands["ikea-chain"] = IkeaChainCmd
    from hilserl_bench.regression_cli import RegressCmd

    commands["regress"] = RegressCmd
    from hilserl_bench.suite.suite import SuiteCmd

    commands["suite"] = SuiteCmd
    from hilserl_bench.reward_classifier_cli import GROUPS

    commands.update({name: _group_stub(name, doc) for name, (_, doc) in GROUPS.items()})
    return commands, {"env": BenchEnvCmd, "learner": BenchLearnerCmd}


def _group_stub(name: str, doc: str) -> type:
    """A help-only entry for a command group parsed in a second stage (like ``bench``)."""
    from dataclasses import make_dataclass

    stub = make_dataclass(f"{name.title()}Group", [], frozen=True)
    stub.__doc__ = doc
    return stub


DESCRIPTION = "MuJoCo replicas of the HIL-SERL tasks behind one env interface for sim and real Franka arms."


def _list() -> int:
    import hilserl_bench as hb
    from hilserl_bench import registry

    ids = list(hb.tasks())
    width = max((len(i) for i in ids), default=0)
    for task in ids:
        print(f"{task:<{width}}  {registry.task_class(task).description}")
    return 0


def _rollout(cmd: RolloutCmd) -> int:
    import hilserl_bench as hb
    from hilserl_bench import registry
    from hilserl_bench.policies import make_policy
    from hilserl_bench.rollout import run_episodes, summarize

    registry.task_class(cmd.task)
    check_positive(cmd.episodes, "--episodes")
    if cmd.disturb is not None:
        from hilserl_bench.robustness_cli import rollout_disturbed

        return rollout_disturbed(cmd)
    obs_mode = resolve_obs_mode(cmd.obs_mode, cmd.robot, cmd.task)
    if cmd.video is not None:
        check_video_path(cmd.video)
    if obs_mode == "pixels" or cmd.video is not None:
        require_renderer()
    env = hb.make(cmd.task, obs_mode=obs_mode, render_mode="rgb_array" if cmd.video is not None else None,
                  **cmd.robot.make_kwargs())
    if cmd.video is not None and cmd.robot.backend == "sim":
        from hilserl_bench.pictures import CloseUpView

        env = CloseUpView(env)
    try:
        policy = make_policy(cmd.policy, env, noise=cmd.noise)
        with tqdm(total=cmd.episodes, unit="ep", desc=f"{cmd.policy} {cmd.task}", disable=cmd.json,
                  file=sys.stderr) as bar:
            results = run_episodes(env, policy, cmd.episodes, cmd.seed, video_path=cmd.video, progress=bar)
    finally:
        env.close()
    report = {"task": cmd.task, "policy": cmd.policy, "obs_mode": obs_mode, "seed": cmd.seed,
              "noise": cmd.noise, **summarize(results)}
    if cmd.json:
        print(json.dumps(round_floats(report)))
        return 0
    print_report(report)
    if cmd.video is not None:
        print(f"video: {cmd.video}")
    return 0


def _bench_env(cmd: BenchEnvCmd) -> int:
    from hilserl_bench import registry
    from hilserl_bench.bench_env import bench_env, format_bench

    registry.task_class(cmd.task)
    check_positive(cmd.steps, "--steps")
    if cmd.backend == "real":
        from hilserl_bench.real.commands import BenchEnvHttpCmd

        return BenchEnvHttpCmd(task=cmd.task, steps=cmd.steps, seed=cmd.seed, pixels=False, json=cmd.json,
                               robot_url=cmd.robot_url).run()
    if cmd.robot_url is not None:
        raise UserFacingError("--robot-url applies with --backend real only")
    result = bench_env(cmd.task, steps=cmd.steps, seed=cmd.seed, pixels=cmd.pixels)
    print(json.dumps(round_floats(result.to_dict())) if cmd.json else format_bench(result))
    return 0


def _dispatch(cmd: Any) -> int:
    if isinstance(cmd, ListCmd):
        return _list()
    if isinstance(cmd, RolloutCmd):
        return _rollout(cmd)
    if isinstance(cmd, BenchEnvCmd):
        return _bench_env(cmd)
    if isinstance(cmd, RunConfig):
        run_main_job(cmd)
        return 0
    if isinstance(cmd, RenderReadmeConfig):
        render_readme(cmd)
        return 0
    run = getattr(cmd, "run", None)
    if run is None:
        raise TypeError(f"unhandled command {cmd!r}")
    return int(run() or 0)


def _robot_hint(exc: Exception, cmd: Any) -> str:
    from hilserl_bench.real.client import RobotConnectionError

    if isinstance(exc, RobotConnectionError):
        task = getattr(cmd, "task", None) or "T"
        return ("; is the robot server running? Check --robot-url, or dry-run against the emulator: "
                f"`hilserl-bench serve-sim --task {task}`")
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hilserl-bench`` script; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["--version"], ["-V"]):
        from hilserl_bench import __version__

        print(f"{PROG} {__version__}")
        return 0
    commands, bench_commands = _commands()
    try:
        if args[:1] == ["bench"]:
            cmd = parse_command(bench_commands, args[1:], f"{PROG} bench", BenchCmd.__doc__)
        elif args[:1] and args[0] in ("classifier", "weights"):
            from hilserl_bench.reward_classifier_cli import GROUPS

            group, doc = GROUPS[args[0]]
            cmd = parse_command(group, args[1:], f"{PROG} {args[0]}", doc)
        else:
            cmd = parse_command(commands, args, PROG, DESCRIPTION)
    except SystemExit as exc:
        return int(exc.code or 0)
    from hilserl_bench.real.cameras import CameraError
    from hilserl_bench.real.client import RobotError
    from hilserl_bench.registry import UnknownTaskError

    try:
        return _dispatch(cmd)
    except UnknownTaskError as exc:
        _error(exc)
        return 2
    except RendererUnavailable as exc:
        _error(exc)
        return 1
    except (RobotError, CameraError) as exc:
        if os.environ.get("HILSERL_DEBUG"):
            raise
        _error(f"{exc}{_robot_hint(exc, cmd)}")
        return 2
    except (ValueError, FileNotFoundError, FileExistsError, NotADirectoryError, UserFacingError) as exc:
        if os.environ.get("HILSERL_DEBUG"):
            raise
        _error(exc if isinstance(exc, UserFacingError) else f"{type(exc).__name__}: {exc}")
        return 2
    except KeyboardInterrupt:
        _error("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
