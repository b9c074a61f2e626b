"""``hilserl-bench render-readme``: one picture per task for the README, and the task table beside them.

Each picture is a :func:`hilserl_bench.pictures.composite` frame (a close view beside the
policy cameras) taken part-way through the expert's seeded episode, when the part is near
its target, so the picture shows what the task is about rather than the empty start.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import hilserl_bench as hb
from hilserl_bench.cli_checks import check_out_dir
from hilserl_bench.main_job import resolve_tasks
from hilserl_bench.policies import make_policy
from hilserl_bench.rendering import require_renderer
from hilserl_bench.rollout import run_episodes, write_png


@dataclass(frozen=True)
class RenderReadmeConfig:
    """Write one picture per task for the README: a close view beside the policy cameras, docs/images/<task_id>.png."""

    out: Path = Path("docs/images")
    """Folder for one <task_id>.png per task."""
    seed: int = 0
    """Reset seed of the pictured episode."""
    tasks: tuple[str, ...] = ()
    """Task ids to picture; empty pictures every registered task."""
    moment: float = 0.6
    """When to take the picture, as a fraction of the expert's episode (0: just after reset)."""


def _expert_moment(task: str, seed: int, moment: float) -> Any:
    """An env (with render mode) stepped by the expert to ``moment`` of its seeded episode."""
    import numpy as np

    from hilserl_bench.pictures import CloseUpView

    probe = hb.make(task, obs_mode="state")
    try:
        length = run_episodes(probe, make_policy("expert", probe), 1, seed)[0].steps
    finally:
        probe.close()
    env = CloseUpView(hb.make(task, obs_mode="state", render_mode="rgb_array"))
    obs, _ = env.reset(seed=seed)
    policy = make_policy("expert", env)
    policy.reset(np.random.default_rng(seed))
    for _ in range(int(moment * length)):
        obs, *_ = env.step(policy.act(obs))
    return env


def render_readme(config: RenderReadmeConfig, stream: TextIO | None = None) -> list[Path]:
    """Write each task's picture (close view + policy cameras, during an expert episode); returns the paths.

    Prints the README's task table (id, arms, action size, cameras, description,
    picture) so that it can be pasted and stays in step with the registry.
    """
    from hilserl_bench import registry

    stream = stream or sys.stdout
    if not 0.0 <= config.moment <= 1.0:
        raise ValueError(f"--moment must be in [0, 1], got {config.moment}")
    check_out_dir(config.out)
    task_ids = resolve_tasks(config.tasks)
    require_renderer()
    paths, lines = [], ["| task | arms | action dims | policy cameras | description | picture |",
                        "| --- | --- | --- | --- | --- | --- |"]
    for task in task_ids:
        env = _expert_moment(task, config.seed, config.moment)
        try:
            path = config.out / f"{task}.png"
            write_png(path, env.render())
        finally:
            env.close()
        paths.append(path)
        cls = registry.task_class(task)
        lines.append(f"| `{task}` | {len(cls.arms)} | {env.action_space.shape[0]} | {', '.join(cls.cameras)} "
                     f"| {cls.description} | ![{task}]({path.as_posix()}) |")
    print("\n".join(lines), file=stream)
    return paths
