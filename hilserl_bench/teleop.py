"""``hilserl-bench teleop`` and ``record --device``: a person drives a task; demos and labels are saved.

Both commands run the training stack with :class:`~hilserl_bench.wrappers.human_intervention.HumanIntervention`
directly over the raw env and a policy that outputs zeros, so the robot moves only while
the person does, and every step is stored exactly as training stores it (TCP-frame
``intervene_action`` on active steps, zero actions on idle ones). An episode ends on
success (the task's, or the person's key), failure, a reset request, or the time
limit. Demos keep only successful episodes unless asked; in labelling mode the
success / failure keys label frames (:mod:`hilserl_bench.labels`) instead of ending
the episode, and Escape ends it. A device that disconnects mid-episode stops the
run; the episode so far is saved under ``<out>/incomplete/`` (outside the dataset).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import tyro

from hilserl_bench.backend_options import BackendOptions
from hilserl_bench.data.recorder import EpisodeBuilder
from hilserl_bench.devices import DeviceDisconnectedError, DeviceName, make_device
from hilserl_bench.labels import FrameLabels
from hilserl_bench.live_view import ViewStatus, make_live_view
from hilserl_bench.wrappers.human_intervention import HumanIntervention, HumanInterventionConfig

HINT = ("keys: w/s a/d r/f move, i/k j/l u/o rotate, c/v close/open, space toggle, Enter success, "
        "Backspace failure, Esc reset")


@dataclass
class EpisodeOutcome:
    """How one hand-driven episode went."""

    steps: int
    success: bool
    """The task reported success or the person marked it (demo mode)."""
    ended_by: str
    """``success``, ``failure``, ``reset``, ``time_limit`` or ``window_closed``."""
    intervened_steps: int


class Session:
    """Raw env, intervention wrapper, learning stack, device and view; ``close()`` releases all of them."""

    def __init__(self, task: str, device: str, obs_mode: str, robot: BackendOptions,
                 intervention: HumanInterventionConfig | None = None, view: bool = False, device_config: Any = None,
                 input_device: Any = None) -> None:
        import hilserl_bench
        from hilserl_bench.data.learning_env import wrap_learning_stack

        self.raw = hilserl_bench.make(task, obs_mode=obs_mode, **robot.make_kwargs())
        intervention = intervention or HumanInterventionConfig()
        try:
            self.device = input_device or make_device(device, len(self.raw.task.arms), device_config,
                                                      episode_keys=intervention.episode_keys)
            self.device.connect()
            self.human = HumanIntervention(self.raw, self.device, intervention)
            self.env = wrap_learning_stack(self.human)
            self.view = make_live_view(self.raw, view)
        except BaseException:
            self.close()
            raise
        self.builder: EpisodeBuilder | None = None
        self.labels: FrameLabels | None = None

    def play(self, seed: int, episode: int, label: bool = False, auto_success: bool = False) -> EpisodeOutcome:
        """One episode; ``self.builder`` / ``self.labels`` hold its data even if the device fails midway."""
        obs, _ = self.env.reset(seed=seed)
        self.builder, self.labels = EpisodeBuilder(obs), FrameLabels(auto_success)
        zero = np.zeros(self.env.action_space.shape, dtype=np.float32)
        status = ViewStatus(episode=episode, note="labelling" if label else "")
        intervened, ended_by, human_success = 0, "time_limit", False
        while True:
            obs, reward, terminated, truncated, info = self.env.step(zero)
            self.builder.add(zero, obs, float(reward), bool(terminated), bool(truncated), info)
            self.labels.add_step(info)
            intervened += bool(info.get("is_intervention", False))
            status.step, status.intervening = status.step + 1, self.human.intervening
            status.success = status.success or bool(info.get("succeed", False))
            self.view.update(status)
            if info.get("human_reset", False):
                ended_by = "reset"
            elif not label and info.get("human_failure", False):
                ended_by = "failure"
            elif not label and info.get("human_success", False):
                ended_by, human_success = "success", True
            elif terminated:
                ended_by = "success"
            elif not self.view.running:
                ended_by = "window_closed"
            elif not truncated:
                continue
            break
        success = (self.builder.success or human_success) and ended_by not in ("reset", "failure")
        return EpisodeOutcome(len(self.builder.steps["actions"]), success, ended_by, intervened)

    def close(self) -> None:
        for part in ("view", "env", "device"):
            thing = getattr(self, part, None)
            if thing is not None:
                thing.close()
        if getattr(self, "env", None) is None:
            self.raw.close()


def _obs_mode(obs_mode: str, robot: BackendOptions) -> str:
    if obs_mode == "auto":
        obs_mode = "state" if robot.backend == "sim" else "pixels"
    if obs_mode == "pixels" and robot.backend == "sim":
        from hilserl_bench.rendering import require_renderer

        require_renderer()
    return obs_mode


@dataclass(frozen=True)
class TeleopCmd:
    """Drive a task by hand with a SpaceMouse, the terminal keyboard or a gamepad (nothing is saved)."""

    task: str
    """Task id (see `hilserl-bench list`)."""
    device: DeviceName = "spacemouse"
    """Input device; with a SpaceMouse or gamepad the terminal also takes the episode keys (Enter, Esc, ...)."""
    episodes: int = 5
    """Episodes to play; episode i uses seed + i."""
    seed: int = 0
    """Seed of the first episode."""
    obs_mode: Literal["auto", "state", "pixels"] = "auto"
    """Observation mode (auto: state in the simulator, pixels on a real cell)."""
    hold_s: float | None = None
    """Keep intervening this long after the last input (default: the task's, 0.5 s for object flipping)."""
    view: bool = False
    """Open a window: MuJoCo's viewer (sim) or the cameras (real); needs a display."""
    robot: Annotated[BackendOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=BackendOptions)
    """Which robot runs the task (`--backend real --robot-url URL` for hardware or the emulator)."""

    def run(self) -> int:
        """Play the episodes, printing one line each; return the exit code."""
        session = Session(self.task, self.device, _obs_mode(self.obs_mode, self.robot), self.robot,
                          HumanInterventionConfig(hold_s=self.hold_s), self.view)
        try:
            print(f"teleop {self.task} with {session.device.name}; {HINT}; Ctrl-C quits", flush=True)
            for i in range(self.episodes):
                out = session.play(self.seed + i, i)
                print(f"episode {i}: {out.ended_by}, success={out.success}, {out.steps} steps, "
                      f"{out.intervened_steps} moved by hand", flush=True)
                if out.ended_by == "window_closed":
                    break
        finally:
            session.close()
        return 0


@dataclass(frozen=True)
class RecordDeviceCmd:
    """Record teleoperated demos (or success/failure-labelled episodes) with a SpaceMouse, keyboard or gamepad."""

    task: str
    """Task id (see `hilserl-bench list`)."""
    device: DeviceName = "spacemouse"
    """Input device; with a SpaceMouse or gamepad the terminal also takes the episode keys."""
    episodes: int = 20
    """Episodes to keep."""
    out: Path | None = None
    """Output directory (default demos/<task>_<obs_mode>, labels/<task>_<obs_mode> with --label)."""
    seed: int = 0
    """Seed of the first attempt; attempt i uses seed + i."""
    obs_mode: Literal["auto", "state", "pixels"] = "pixels"
    """Observation mode to store (pixels: cameras + proprioception, the paper's)."""
    keep: Literal["success", "all"] = "success"
    """Keep only successful episodes (the paper's rule for demos) or all of them (labelling keeps all)."""
    label: bool = False
    """Labelling mode: Enter / Backspace label the frame on screen as success / failure; Esc ends the episode."""
    auto_success: bool = False
    """Labelling mode: also label frames where the task reports success (simulator)."""
    hold_s: float | None = None
    """Keep intervening this long after the last input (default: the task's)."""
    view: bool = False
    """Open a window: MuJoCo's viewer (sim) or the cameras (real); needs a display."""
    robot: Annotated[BackendOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=BackendOptions)
    """Which robot runs the task (`--backend real --robot-url URL` for hardware or the emulator)."""

    def run(self) -> int:
        """Record until ``episodes`` are kept (Ctrl-C stops early, keeping what was saved)."""
        paths = record_with_device(self)
        print(f"wrote {len(paths)} episodes to {self.out_dir()}")
        return 0

    def out_dir(self) -> Path:
        """Where episodes go."""
        default = Path("labels" if self.label else "demos") / f"{self.task}_{_obs_mode(self.obs_mode, self.robot)}"
        return self.out if self.out is not None else default


def record_with_device(cmd: RecordDeviceCmd, input_device: Any = None, realtime: bool = True) -> list[Path]:
    """Play episodes until ``cmd.episodes`` are kept; one ``episode_NNNNNN.npz`` each (see the module docstring)."""
    from hilserl_bench.data.episode_format import save_episode
    from hilserl_bench.data.learning_env import describe_stack
    from hilserl_bench.data.recorder import next_episode_index
    from hilserl_bench.labels import with_labels

    out, keep = cmd.out_dir(), "all" if cmd.label else cmd.keep
    session = Session(cmd.task, cmd.device, _obs_mode(cmd.obs_mode, cmd.robot), cmd.robot,
                      HumanInterventionConfig(hold_s=cmd.hold_s, realtime=realtime), cmd.view,
                      input_device=input_device)
    written: list[Path] = []
    try:
        stack = describe_stack(session.env)
        index = next_episode_index(out, stack)
        base = {"task_id": cmd.task, "stack": stack, "source": "human", "device": session.device.name}
        print(f"record {cmd.task} with {session.device.name} into {out}; {HINT}", flush=True)
        attempt = 0
        while len(written) < cmd.episodes:
            seed = cmd.seed + attempt
            try:
                outcome = session.play(seed, attempt, cmd.label, cmd.auto_success)
            except DeviceDisconnectedError as exc:
                if session.builder is not None and session.builder.steps["actions"]:
                    episode = session.builder.build({**base, "seed": seed, "incomplete": True})
                    kept = save_episode(out / "incomplete" / f"episode_{index:06d}.npz", episode)
                    raise DeviceDisconnectedError(f"{exc}; the {len(written)} finished episodes are in {out}, "
                                                  f"the interrupted one in {kept}") from exc
                raise
            attempt += 1
            print(f"attempt {attempt}: {outcome.ended_by}, success={outcome.success}, {outcome.steps} steps",
                  flush=True)
            discard = (outcome.ended_by == "reset" and not cmd.label) or (keep == "success" and not outcome.success)
            if not discard:
                meta = {**base, "seed": seed, "ended_by": outcome.ended_by, "success": outcome.success}
                if cmd.label:
                    meta["labels"] = session.labels.counts()
                episode = session.builder.build(meta)
                if cmd.label:
                    episode = with_labels(episode, session.labels.array())
                written.append(save_episode(out / f"episode_{index:06d}.npz", episode))
                index += 1
            if outcome.ended_by == "window_closed":
                break
    except KeyboardInterrupt:
        print(f"stopped; {len(written)} episodes kept", flush=True)
    finally:
        session.close()
    return written
