"""Episodes under a disturbance: the seeded loop, its per-episode records, and the summary beside the undisturbed one.

Every figure comes from :func:`hilserl_bench.rollout.run_episode` (the loop rollout and eval
share), with the env wrapped in :class:`~hilserl_bench.envs.disturbed_env.DisturbedEnv`
outermost, so success and cycle time mean what they mean everywhere else. Episode ``i`` uses
seed ``seed + i`` for the env, the policy and the disturbance: the undisturbed run with the same
seeds starts from the same states, and the two differ only by the disturbance.

A disturbance drawn for after the episode's end never acts (``applied = False``); the summary's
``applied_rate`` says how often it did and ``success_rate_when_applied`` isolates those episodes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from hilserl_bench.backend_options import BackendOptions
from hilserl_bench.disturbances import KIND_ALL, KIND_LIST, SIM_ONLY, describe_kinds, resolve_kinds
from hilserl_bench.errors import UserFacingError
from hilserl_bench.rollout import EpisodeResult, Progress, run_episode, summarize, write_video

if TYPE_CHECKING:
    import gymnasium as gym

    from hilserl_bench.policies import Policy

UNDISTURBED = "none"
"""The kind name of the undisturbed reference rows."""


def check_sim_only(robot: BackendOptions | None) -> None:
    """Refuse ``--disturb`` on a real robot or a serve-sim client, with one line."""
    if robot is not None and robot.backend != "sim":
        raise UserFacingError(SIM_ONLY)


def kinds_for(task_id: str, disturb: str, with_reference: bool = True) -> list[str]:
    """The kinds ``--disturb`` asks for (``all``: the undisturbed reference first, then every kind)."""
    kinds = resolve_kinds(task_id, disturb)
    return [UNDISTURBED, *kinds] if disturb == KIND_ALL and with_reference else kinds


def print_kinds_if_listing(task_id: str, disturb: str) -> bool:
    """``--disturb list``: print the task's kinds and return True (the command then exits 0)."""
    if disturb != KIND_LIST:
        return False
    print(describe_kinds(task_id) or f"{task_id} defines no disturbances")
    return True


def run_disturbed(env: gym.Env, policy: Policy, kind: str, episodes: int, seed: int,
                  video_path: str | Path | None = None,
                  progress: Progress | None = None) -> tuple[list[EpisodeResult], list[dict[str, Any]]]:
    """Seeded episodes under ``kind`` (``none``: undisturbed); the results and one record per episode.

    The record holds the episode's outcome and its drawn disturbance: the step it first acted
    during (``disturbance_step``, empty when it never did), its body and vector (N or mm).
    """
    from hilserl_bench.envs.disturbed_env import DisturbedEnv

    wrapped = env if kind == UNDISTURBED else DisturbedEnv(env, kind)
    results, records = [], []
    try:
        for i in range(episodes):
            frames: list | None = [] if (video_path is not None and i == 0) else None
            result = run_episode(wrapped, policy, seed + i, frames)
            if frames:
                write_video(video_path, frames, fps=1.0 / float(env.unwrapped.control_dt))
            results.append(result)
            records.append(_record(wrapped, kind, i, seed + i, result))
            if progress is not None:
                progress.update(1)
    finally:
        if wrapped is not env:
            wrapped.restore()  # the next kind (or the caller) gets the nominal cell back
    return results, records


def _record(env: Any, kind: str, index: int, seed: int, result: EpisodeResult) -> dict[str, Any]:
    record: dict[str, Any] = {"kind": kind, "episode": index, "seed": seed, "success": result.success,
                              "steps": result.steps, "cycle_time_s": result.cycle_time_s, "return": result.return_}
    event = getattr(env, "event", None)
    applied = getattr(env, "applied_step", None)
    record["applied"] = applied is not None
    record["disturbance_step"] = "" if applied is None else applied
    if event is not None:
        info = event.describe()
        record.update({"onset_step": info["onset_step"], "active_steps": info["steps"], "body": info["body"],
                       "vector": " ".join(f"{v:g}" for v in info["vector"]), "magnitude": info["magnitude"],
                       "light_scale": info["light_scale"]})
    return record


def summarize_disturbed(kind: str, results: list[EpisodeResult], records: list[dict[str, Any]]) -> dict[str, Any]:
    """Rollout's summary plus ``disturbance``, ``applied_rate`` and ``success_rate_when_applied``."""
    summary = {"disturbance": kind, **summarize(results)}
    applied = [r for r in records if r.get("applied")]
    summary["applied_rate"] = len(applied) / len(records) if records else 0.0
    summary["success_rate_when_applied"] = (sum(r["success"] for r in applied) / len(applied)) if applied else None
    return summary


def evaluate_disturbed(run_dir: Path, kind: str, episodes: int = 20, seed: int = 10_000,
                       deterministic: bool = True, progress: bool = False,
                       records: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A trained run's evaluation under one disturbance kind (``none``: undisturbed).

    The same keys as :func:`hilserl_bench.training.evaluate.evaluate_run` plus ``disturbance``,
    ``applied_rate`` and ``success_rate_when_applied``; per-episode records are appended to
    ``records`` when given. This is the function the suite calls.
    """
    from hilserl_bench.training.evaluate import evaluate_run

    return evaluate_run(Path(run_dir), episodes, seed, deterministic=deterministic, progress=progress,
                        disturb=kind, records=records)


def expert_disturbed(task_id: str, kind: str, episodes: int = 20, seed: int = 0, noise: float = 0.0,
                     records: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The task's scripted expert (state observations) under one kind (``none``: undisturbed).

    The same keys as ``rollout --json`` plus the disturbance fields; the suite's expert rows call this.
    """
    import hilserl_bench as hb
    from hilserl_bench.policies import make_policy

    env = hb.make(task_id, obs_mode="state")
    try:
        results, recs = run_disturbed(env, make_policy("expert", env, noise=noise), kind, episodes, seed)
    finally:
        env.close()
    if records is not None:
        records.extend(recs)
    return {"task": task_id, "policy": "expert", "obs_mode": "state", "seed": seed, "noise": noise,
            **summarize_disturbed(kind, results, recs)}


def format_table(rows: list[dict[str, Any]]) -> str:
    """Kinds as rows: success, success when applied, cycle time, steps, applied rate; '-' for missing."""
    from hilserl_bench.cli_checks import format_value

    cols = ("disturbance", "success_rate", "success_rate_when_applied", "mean_cycle_time_s", "mean_steps",
            "applied_rate", "episodes")
    cells = [[format_value(row.get(c)) for c in cols] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)
