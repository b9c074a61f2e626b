"""Seeded episode loop, its summary statistics, and atomic writing of videos and files.

Every number the CLI and the main job report comes from :func:`run_episodes` so that
"success rate" and "cycle time" mean the same thing everywhere: an episode succeeds
if ``info["succeed"]`` is true at any step, and its cycle time is the simulated time
(steps x ``control_dt``) until the first such step, matching the paper's cycle time.
Episode ``i`` resets the env with ``seed + i`` and the policy with a generator seeded
the same way, so any single episode can be replayed alone.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    import gymnasium as gym

    from hilserl_bench.policies import Policy


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()
"""mkstemp creates files 0600; written results get the usual umask-derived mode instead."""


class Progress(Protocol):
    """What :func:`run_episodes` needs from a progress bar (``tqdm`` fits)."""

    def update(self, n: int = 1) -> Any:
        """Advance by ``n`` episodes."""


@dataclass(frozen=True)
class EpisodeResult:
    """Outcome of one episode."""

    success: bool
    """``info["succeed"]`` was true at some step."""
    steps: int
    """Env steps taken until termination or truncation."""
    cycle_time_s: float | None
    """Simulated seconds until the first successful step; ``None`` if never successful."""
    return_: float
    """Sum of rewards."""
    max_penetration: float | None
    """Deepest tight-fit interpenetration (m) over every physics step of the episode (the max of
    ``info["penetration"]``, itself a max over the step's physics steps); ``None`` when not measured."""


def control_dt(env: gym.Env) -> float:
    """Seconds per env step (the paper's 10 Hz unless a task overrides it)."""
    return float(getattr(env.unwrapped, "control_dt", 0.1))


def run_episode(env: gym.Env, policy: Policy, seed: int, frames: list[np.ndarray] | None = None) -> EpisodeResult:
    """One seeded episode; appends ``env.render()`` frames to ``frames`` when given."""
    obs, _ = env.reset(seed=seed)
    policy.reset(np.random.default_rng(seed))
    if frames is not None:
        frames.append(np.asarray(env.render()))
    steps, total, first_success, deepest = 0, 0.0, None, None
    while True:
        obs, reward, terminated, truncated, info = env.step(policy.act(obs))
        steps += 1
        total += float(reward)
        if first_success is None and bool(info.get("succeed", False)):
            first_success = steps
        penetration = float(info.get("penetration", np.nan))
        if np.isfinite(penetration):
            deepest = max(deepest or 0.0, penetration)
        if frames is not None:
            frames.append(np.asarray(env.render()))
        if terminated or truncated:
            break
    cycle = None if first_success is None else first_success * control_dt(env)
    return EpisodeResult(first_success is not None, steps, cycle, total, deepest)


def run_episodes(env: gym.Env, policy: Policy, episodes: int, seed: int, video_path: str | Path | None = None,
                 progress: Progress | None = None) -> list[EpisodeResult]:
    """Run ``episodes`` seeded episodes; the first one is recorded to ``video_path`` if given.

    Recording needs ``env`` made with ``render_mode="rgb_array"``.
    """
    results = []
    for i in range(episodes):
        frames: list[np.ndarray] | None = [] if (video_path is not None and i == 0) else None
        results.append(run_episode(env, policy, seed + i, frames))
        if frames:
            write_video(video_path, frames, fps=1.0 / control_dt(env))
        if progress is not None:
            progress.update(1)
    return results


def summarize(results: list[EpisodeResult]) -> dict[str, Any]:
    """Success rate, mean steps, mean cycle time over successes, and worst penetration (mm)."""
    n = len(results)
    cycles = [r.cycle_time_s for r in results if r.cycle_time_s is not None]
    summary: dict[str, Any] = {
        "episodes": n,
        "successes": sum(r.success for r in results),
        "success_rate": sum(r.success for r in results) / n if n else 0.0,
        "mean_steps": float(np.mean([r.steps for r in results])) if n else 0.0,
        "mean_cycle_time_s": float(np.mean(cycles)) if cycles else None,
        "mean_return": float(np.mean([r.return_ for r in results])) if n else 0.0,
    }
    depths = [r.max_penetration for r in results if r.max_penetration is not None]
    if depths:
        summary["max_penetration_mm"] = 1000.0 * max(depths)
    return summary


@contextlib.contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it over ``path`` only if the block succeeds.

    Readers never see a half-written CSV, video or picture, and an interrupted run
    leaves the previous file in place. The suffix is kept so writers that pick a
    format from the extension (imageio) still work.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_video(path: str | Path, frames: list[np.ndarray], fps: float) -> None:
    """Write RGB frames to an H.264 mp4 atomically (imageio + its bundled ffmpeg)."""
    import imageio.v2 as imageio

    # H.264 (yuv420p) needs even sizes: crop a stray odd row/column rather than let imageio rescale.
    with atomic_output(path) as tmp, imageio.get_writer(tmp, fps=fps, codec="libx264", macro_block_size=1,
                                                        quality=7) as writer:
        for frame in frames:
            h, w = frame.shape[0] // 2 * 2, frame.shape[1] // 2 * 2
            writer.append_data(np.ascontiguousarray(frame[:h, :w], dtype=np.uint8))


def write_png(path: str | Path, image: np.ndarray) -> None:
    """Write one RGB picture atomically."""
    import imageio.v2 as imageio

    with atomic_output(path) as tmp:
        imageio.imwrite(tmp, np.ascontiguousarray(image, dtype=np.uint8))
