"""Record demo episodes (scripted expert for now) through the training stack into episode files.

The scripted experts act in the raw env's base frame on raw observations, but demos must be
stored as the policy would act: TCP-frame actions next to the training stack's observations.
So the expert reads the raw observation from a transparent tap under the stack, its action is
converted to the TCP frame at the current pose (``RelativeFrame.to_tcp``, i.e.
:func:`~hilserl_bench.wrappers.base_to_tcp_twist`), and the learning env is stepped with that;
``RelativeFrame`` maps it back, so the raw env executes the expert's own action (up to float32
rounding). Stored actions may leave [-1, 1] slightly on an axis: the frame change keeps norms,
not per-axis bounds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import gymnasium as gym
import numpy as np
import tyro

from hilserl_bench.backend_options import BackendOptions
from hilserl_bench.cli_checks import DEFAULT_EPISODES, check_out_dir, check_positive, resolve_obs_mode
from hilserl_bench.data.episode_format import (
    STEP_KEYS,
    Episode,
    episode_files,
    read_metadata,
    save_episode,
    stack_mismatches,
)
from hilserl_bench.data.gripper_labels import gripper_open, stay_when_idle
from hilserl_bench.data.learning_env import describe_stack, wrap_learning_stack, wrapper_chain
from hilserl_bench.wrappers import RelativeFrame
from hilserl_bench.wrappers._arms import arm_slots


class RecordError(RuntimeError):
    """Recording cannot proceed (output directory conflict, too few successes); says what to change."""


class EpisodeBuilder:
    """Accumulates one episode from the learning env's outputs; :meth:`build` makes an :class:`Episode`.

    The stored action is ``info["intervene_action"]`` when present (already in the policy frame
    when it comes through ``RelativeFrame``), else the action passed to ``step``.
    """

    def __init__(self, first_obs: Mapping[str, Any]) -> None:
        self.states = [np.asarray(first_obs["state"], dtype=np.float32)]
        self.images = {cam: [np.asarray(f, dtype=np.uint8)] for cam, f in first_obs.get("images", {}).items()}
        self.steps: dict[str, list[Any]] = {k: [] for k in STEP_KEYS}

    def add(self, action: np.ndarray, obs: Mapping[str, Any], reward: float, terminated: bool, truncated: bool,
            info: Mapping[str, Any]) -> None:
        """Append the step that produced ``obs``."""
        executed = info.get("intervene_action", action)
        self.steps["actions"].append(np.asarray(executed, dtype=np.float32))
        self.steps["rewards"].append(float(reward))
        self.steps["terminated"].append(bool(terminated))
        self.steps["truncated"].append(bool(truncated))
        self.steps["intervened"].append(bool(info.get("is_intervention", False) or "intervene_action" in info))
        self.steps["succeed"].append(bool(info.get("succeed", False)))
        self.steps["grasp_penalty"].append(float(info.get("grasp_penalty", 0.0)))
        self.states.append(np.asarray(obs["state"], dtype=np.float32))
        for cam, frames in self.images.items():
            frames.append(np.asarray(obs["images"][cam], dtype=np.uint8))

    @property
    def success(self) -> bool:
        """``info["succeed"]`` held at some step."""
        return any(self.steps["succeed"])

    def build(self, metadata: Mapping[str, Any]) -> Episode:
        """The episode so far, with ``success`` and ``created`` added to ``metadata``."""
        meta = {"success": self.success, "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                **metadata}
        arrays = {k: np.asarray(self.steps[k], dtype=dtype) for k, dtype in STEP_KEYS.items()}
        return Episode(state=np.stack(self.states), images={c: np.stack(f) for c, f in self.images.items()},
                       metadata=meta, **arrays)


class _RawTap(gym.Wrapper):
    """Transparent: remembers the raw observation and the base-frame action the raw env executed."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.last_obs: dict[str, Any] = {}
        self.last_action: np.ndarray | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self.last_obs, info = self.env.reset(seed=seed, options=options)
        return self.last_obs, info

    def step(self, action: np.ndarray):
        self.last_action = np.array(action, copy=True)
        self.last_obs, *rest = self.env.step(action)
        return (self.last_obs, *rest)


def _state_stack(task_id: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The state-mode training stack's description (built once, no physics stepped)."""
    from hilserl_bench.data.learning_env import make_learning_env

    env = make_learning_env(task_id, obs_mode="state", **overrides)
    try:
        return describe_stack(env)
    finally:
        env.close()


class ExpertDriver:
    """The training stack of ``task_id`` driven by its scripted expert (see the module docstring)."""

    def __init__(self, task_id: str, obs_mode: str = "state", noise: float = 0.0, backend: str = "sim",
                 **overrides: Any) -> None:
        import hilserl_bench
        from hilserl_bench.envs.experts import make_expert

        noisy = obs_mode == "noisy_state"  # the error sits above the tap: the expert reads the true state
        self.raw = hilserl_bench.make(task_id, backend=backend, obs_mode="state" if noisy else obs_mode, **overrides)
        self.tap = _RawTap(self.raw)
        self.env = wrap_learning_stack(self.tap, noisy_state=noisy)
        self.frame = next(w for w in wrapper_chain(self.env) if isinstance(w, RelativeFrame))
        self.expert = make_expert(self.raw, noise=noise)
        self.last_expert_action: np.ndarray | None = None
        self.state_stack = _state_stack(task_id, overrides) if obs_mode == "pixels" and backend == "sim" else None
        """Simulated pixels demos also carry the state-mode columns, so one demo set serves both modes."""

    def task_columns(self) -> np.ndarray:
        """The state-mode stack's task columns (scaled) for the current frame; needs :attr:`state_stack`."""
        raw = self.raw.unwrapped
        values = raw.task.task_state(raw.last_scene, raw._states)
        units = self.state_stack["state_units"]
        parts = [np.asarray(values[key[len("task/"):]], dtype=np.float64).reshape(-1) / np.asarray(units[a:b])
                 for key, a, b in self.state_stack["state_layout"] if key.startswith("task/")]
        return np.concatenate(parts).astype(np.float32)

    def reset(self, seed: int) -> dict[str, Any]:
        """Reset env and expert with ``seed`` (the expert's noise RNG too)."""
        obs, _ = self.env.reset(seed=seed)
        self.expert.reset(np.random.default_rng(seed))
        return obs

    def step(self) -> tuple[np.ndarray, dict[str, Any], float, bool, bool, dict[str, Any]]:
        """One expert step: ``(tcp_action, obs, reward, terminated, truncated, info)``."""
        self.last_expert_action = self.expert.act(self.tap.last_obs)
        action = self.frame.to_tcp(self.last_expert_action)
        if self.raw.task.learned_gripper:
            slots = arm_slots(self.env)
            is_open = gripper_open(self.tap.last_obs["state"], [arm.prefix for arm in slots])
            action = stay_when_idle(action, [arm.gripper for arm in slots], is_open)
        obs, reward, terminated, truncated, info = self.env.step(action)
        return action, obs, float(reward), bool(terminated), bool(truncated), info

    def close(self) -> None:
        self.env.close()


def next_episode_index(out_dir: Path, stack: Mapping[str, Any]) -> int:
    """First free episode number; refuses a directory holding episodes of another task or stack."""
    files = episode_files(out_dir) if out_dir.is_dir() else []
    for path in files:
        problems = stack_mismatches(read_metadata(path).get("stack", {}), stack)
        if problems:
            raise RecordError(f"{out_dir} already holds episodes that do not fit this recording ({path.name}: "
                              f"{'; '.join(problems)}); choose another --out directory")
    numbers = [int(p.stem.split("_")[-1]) for p in files if p.stem.split("_")[-1].isdigit()]
    return max(numbers, default=-1) + 1


def record_episodes(task_id: str, policy: str = "expert", episodes: int = 10, out_dir: str | Path = "demos",
                    seed: int = 0, obs_mode: str = "state", noise: float = 0.0,
                    keep: Literal["success", "all"] = "success", max_attempts: int | None = None,
                    progress: Any = None, **overrides: Any) -> list[Path]:
    """Roll the expert with seeds ``seed, seed+1, ...`` until ``episodes`` are kept; write one file each.

    Files are ``episode_NNNNNN.npz``, appended after any compatible episodes already in
    ``out_dir`` (seeds already recorded there are skipped, so a rerun adds new episodes).
    ``keep="success"`` drops failed episodes; needing more than ``max_attempts`` episodes
    (default ``5 * episodes + 10``) raises :class:`RecordError`. ``progress.update(1)`` is
    called per kept episode; ``overrides`` go to ``hilserl_bench.make``.
    """
    if policy != "expert":
        raise ValueError(f"policy={policy!r} cannot record yet; choose 'expert'")
    if keep not in ("success", "all"):
        raise ValueError(f"keep={keep!r}; choose 'success' or 'all'")
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    out_dir = Path(out_dir)
    max_attempts = 5 * episodes + 10 if max_attempts is None else max_attempts
    driver = ExpertDriver(task_id, obs_mode=obs_mode, noise=noise, **overrides)
    try:
        stack = describe_stack(driver.env)
        index = next_episode_index(out_dir, stack)
        taken = {read_metadata(p).get("seed") for p in episode_files(out_dir)} if index else set()
        written: list[Path] = []
        for attempt in range(max_attempts):
            if len(written) == episodes:
                break
            ep_seed = seed + attempt
            if ep_seed in taken:
                continue
            builder = EpisodeBuilder(driver.reset(ep_seed))
            columns = [driver.task_columns()] if driver.state_stack else []
            done = False
            while not done:
                action, obs, reward, terminated, truncated, info = driver.step()
                builder.add(action, obs, reward, terminated, truncated, info)
                if driver.state_stack:
                    columns.append(driver.task_columns())
                done = terminated or truncated
            if keep == "success" and not builder.success:
                continue
            meta = {"task_id": task_id, "stack": stack, "seed": ep_seed, "source": "expert", "noise": noise}
            if driver.state_stack:
                meta["state_stack"] = driver.state_stack
            episode = builder.build(meta)
            episode.task_state = np.stack(columns) if columns else None
            written.append(save_episode(out_dir / f"episode_{index:06d}.npz", episode))
            index += 1
            if progress is not None:
                progress.update(1)
    finally:
        driver.close()
    if len(written) < episodes:
        raise RecordError(f"only {len(written)} of {episodes} {task_id} episodes succeeded in {max_attempts} "
                          f"attempts (seeds {seed}..{seed + max_attempts - 1}); lower the noise or raise max_attempts")
    return written


@dataclass(frozen=True)
class RecordCmd:
    """Record demo episodes with the scripted expert into one .npz file per episode."""

    task: str
    """Task id (see `hilserl-bench list`)."""
    policy: Literal["expert"] = "expert"
    """Who acts when no --device is given: the scripted expert."""
    device: Literal["spacemouse", "keyboard", "gamepad"] | None = None
    """Teleoperate with this device instead of the expert (a person drives; see docs/human_in_the_loop.md)."""
    label: bool = False
    """With --device: label frames as success (Enter) / failure (Backspace) for reward-classifier data."""
    episodes: int = DEFAULT_EPISODES
    """Episodes to keep."""
    out: Path | None = None
    """Output directory (default demos/<task>_<obs_mode>); compatible existing episodes are kept and appended to."""
    seed: int = 0
    """Seed of the first attempt; attempt i uses seed + i."""
    obs_mode: Literal["state", "pixels", "noisy_state"] | None = None
    """Observation mode to store: state (privileged object state, sim and serve-sim only), noisy_state (the same
    with a per-episode camera-sized error, docs/suite.md) or pixels (cameras +
    proprio, the paper's; needs OpenGL). Default: state with --backend sim, pixels with --backend real, the
    same as train, so their defaults agree."""
    noise: float = 0.0
    """Std of Gaussian noise on the expert's actions (more varied demos)."""
    keep: Literal["success", "all"] = "success"
    """Keep only successful episodes (the paper's rule) or all of them."""
    robot: Annotated[BackendOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=BackendOptions)
    """Which robot runs the task (`--backend real --robot-url URL` for hardware or the emulator)."""

    def run(self) -> int:
        """Record with a progress bar; print where the files went; return the exit code."""
        import sys

        from tqdm import tqdm

        from hilserl_bench.registry import task_class

        task_class(self.task)
        check_positive(self.episodes, "--episodes")
        obs_mode = resolve_obs_mode(self.obs_mode, self.robot, self.task)
        out = self.out if self.out is not None else Path("demos") / f"{self.task}_{obs_mode}"
        check_out_dir(out)
        if self.device is not None:
            from hilserl_bench.teleop import RecordDeviceCmd

            return RecordDeviceCmd(task=self.task, device=self.device, episodes=self.episodes, out=out,
                                   seed=self.seed, obs_mode=obs_mode, keep=self.keep, label=self.label,
                                   robot=self.robot).run()
        if self.label:
            raise ValueError("--label needs a person with --device; the expert's episodes are labelled by success")
        if obs_mode == "pixels":
            from hilserl_bench.rendering import require_renderer

            require_renderer()
        with tqdm(total=self.episodes, desc=f"record {self.task}", unit="ep", file=sys.stderr) as bar:
            paths = record_episodes(self.task, self.policy, self.episodes, out, self.seed, obs_mode, self.noise,
                                    self.keep, progress=bar, **self.robot.make_kwargs())
        print(f"wrote {len(paths)} {obs_mode} episodes to {out}; train on them with "
              f"`hilserl-bench train --task {self.task} --demos {out}`")
        return 0
