"""``rollout --disturb KIND`` and ``eval --disturb KIND``: the commands' disturbed variants.

Both refuse a real robot (and a serve-sim client) before anything starts, list the task's
kinds on ``--disturb list``, name the valid kinds on an unknown one, and with ``--disturb all``
run the undisturbed reference and every kind over the same seeds and print them as one table
(``--json``: one object per kind, each with the keys of the undisturbed ``--json`` output
plus ``disturbance``, ``applied_rate`` and ``success_rate_when_applied``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from hilserl_bench.cli_checks import check_video_path, print_report, resolve_obs_mode, round_floats
from hilserl_bench.robustness import (
    check_sim_only,
    evaluate_disturbed,
    format_table,
    kinds_for,
    print_kinds_if_listing,
    run_disturbed,
    summarize_disturbed,
)


def _print(reports: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        out = reports[0] if len(reports) == 1 else reports
        print(json.dumps(round_floats(out)))
    elif len(reports) == 1:
        print_report(reports[0])
    else:
        print(format_table(reports))


def _video_for(video: Path | None, kind: str, several: bool) -> Path | None:
    """One video per kind with ``all`` (``out_push_ee.mp4``), the given path otherwise."""
    if video is None or not several:
        return video
    return video.with_name(f"{video.stem}_{kind}{video.suffix}")


def rollout_disturbed(cmd: Any) -> int:
    """``hilserl-bench rollout --task T --policy P --disturb KIND`` (cmd: a ``RolloutCmd``)."""
    from tqdm import tqdm

    import hilserl_bench as hb
    from hilserl_bench.policies import make_policy

    check_sim_only(cmd.robot)
    if print_kinds_if_listing(cmd.task, cmd.disturb):
        return 0
    kinds = kinds_for(cmd.task, cmd.disturb)
    obs_mode = resolve_obs_mode(cmd.obs_mode, cmd.robot, cmd.task)
    if cmd.video is not None:
        check_video_path(cmd.video)
    env = hb.make(cmd.task, obs_mode=obs_mode, render_mode="rgb_array" if cmd.video is not None else None)
    if cmd.video is not None:
        from hilserl_bench.pictures import CloseUpView

        env = CloseUpView(env)
    reports = []
    try:
        policy = make_policy(cmd.policy, env, noise=cmd.noise)
        with tqdm(total=cmd.episodes * len(kinds), unit="ep", desc=f"{cmd.policy} {cmd.task}", disable=cmd.json,
                  file=sys.stderr) as bar:
            for kind in kinds:
                results, records = run_disturbed(env, policy, kind, cmd.episodes, cmd.seed,
                                                 video_path=_video_for(cmd.video, kind, len(kinds) > 1),
                                                 progress=bar)
                reports.append({"task": cmd.task, "policy": cmd.policy, "obs_mode": obs_mode, "seed": cmd.seed,
                                "noise": cmd.noise, **summarize_disturbed(kind, results, records)})
    finally:
        env.close()
    _print(reports, cmd.json)
    return 0


def eval_disturbed(cmd: Any) -> int:
    """``hilserl-bench eval --run RUN --disturb KIND`` (cmd: an ``EvalCmd``)."""
    from hilserl_bench.errors import UserFacingError
    from hilserl_bench.training.config import TrainConfig

    check_sim_only(cmd.robot)
    if not Path(cmd.run_dir).is_dir():
        raise UserFacingError(f"--run {cmd.run_dir} is not a folder; give the --out folder of a training run")
    trained = TrainConfig.load(cmd.run_dir)
    if print_kinds_if_listing(trained.task, cmd.disturb):
        return 0
    reports = [evaluate_disturbed(cmd.run_dir, kind, cmd.episodes, cmd.seed, deterministic=not cmd.stochastic,
                                  progress=not cmd.json)
               for kind in kinds_for(trained.task, cmd.disturb)]
    _print(reports, cmd.json)
    return 0
