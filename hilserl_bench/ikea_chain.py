"""``hilserl-bench ikea-chain``: the whole IKEA shelf, three stage policies chained in one cell.

Stage k's reset starts from the parts exactly where stage k-1's last step left them: the earlier
panels' poses are read from the simulator at the end of the previous stage and handed to the next
stage's task (:meth:`IkeaShelfStage.carry_over`); the reset then puts the new panel in the hands,
re-poses the arms and lets everything settle with the grippers off the earlier panels, which is
what opening the grippers and fetching the next panel does on the real cell. A stage that failed
leaves its panel wherever it got to (half on its dowels, tilted), and the next stage has to live
with it. Each stage's physics runs in its own copy of the one shared cell model (the three tasks
build identical scenes); only the parts' poses cross between them.

Whole-assembly success = the top panel stage's success, which also requires both side joints done.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

STAGES = ("side_panel_1", "side_panel_2", "top_panel")


def _stage_policies(policies: tuple[str, ...]) -> list[tuple[Any, Any]]:
    """(env, policy) per stage: the scripted expert, or a trained run's agent (one run dir per stage)."""
    import hilserl_bench as hb
    from hilserl_bench.envs.experts import make_expert

    if policies == ("expert",):
        envs = [hb.make(stage, obs_mode="state") for stage in STAGES]
        return [(env, make_expert(env)) for env in envs]
    if len(policies) != len(STAGES):
        raise ValueError(f"--policies takes 'expert' or {len(STAGES)} run directories ({', '.join(STAGES)} "
                         f"in that order), got {len(policies)}")
    from hilserl_bench.data.learning_env import make_learning_env
    from hilserl_bench.training.config import TrainConfig
    from hilserl_bench.training.evaluate import load_policy

    out = []
    for stage, run in zip(STAGES, policies, strict=True):
        cfg = TrainConfig.load(Path(run))
        if cfg.task != stage:
            raise ValueError(f"run {run} trained task {cfg.task!r}; the {stage} slot needs a {stage} run")
        env = make_learning_env(cfg.task, obs_mode=cfg.obs_mode)
        out.append((env, _AgentPolicy(load_policy(Path(run), env))))
    return out


class _AgentPolicy:
    """A trained agent acting deterministically, behind the policy interface."""

    def __init__(self, agent: Any) -> None:
        self.agent = agent

    def reset(self, rng: np.random.Generator) -> None:
        del rng

    def act(self, obs: Any) -> np.ndarray:
        return np.asarray(self.agent.eval_act(obs))


def run_chain(policies: tuple[str, ...] = ("expert",), trials: int = 10, seed: int = 20_000) -> dict[str, Any]:
    """Stage-by-stage successes over ``trials`` chained assemblies (trial i uses seed + i at every stage)."""
    if trials < 1:
        raise ValueError(f"--trials {trials} must be >= 1")
    pairs = _stage_policies(tuple(policies))
    wins = {stage: 0 for stage in STAGES}
    rows = []
    try:
        for i in range(trials):
            carried: dict[str, np.ndarray] = {}
            row = {}
            for stage, (env, policy) in zip(STAGES, pairs, strict=True):
                raw = env.unwrapped
                raw.task.carry_over({k: carried[k] for k in raw.task.earlier})
                obs, _ = env.reset(seed=seed + i)
                policy.reset(np.random.default_rng(seed + i))
                info: dict[str, Any] = {"succeed": False}
                for _ in range(raw.task.config.max_steps):
                    obs, _, term, trunc, info = env.step(policy.act(obs))
                    if term or trunc:
                        break
                scene = raw.backend.scene_state()
                carried.update({k: scene.poses[k].copy() for k in (*raw.task.earlier, raw.task.part)})
                row[stage] = bool(info["succeed"])
                wins[stage] += row[stage]
            rows.append(row)
    finally:
        for env, _ in pairs:
            env.close()
    return {"policies": list(policies), "trials": trials, "stage_successes": wins,
            "whole_assembly_successes": wins[STAGES[-1]], "per_trial": rows}


@dataclass(frozen=True)
class IkeaChainCmd:
    """Chain side panel 1, side panel 2 and the top panel in one cell; report stage-by-stage success."""

    policies: tuple[str, ...] = ("expert",)
    """`expert`, or three training run directories (side_panel_1, side_panel_2, top_panel runs, in order)."""
    trials: int = 10
    """Chained assemblies (the paper reports 10)."""
    seed: int = 20_000
    """Seed of the first trial."""
    json: bool = False
    """Print one JSON object."""

    def run(self) -> int:
        result = run_chain(self.policies, self.trials, self.seed)
        if self.json:
            print(json.dumps(result))
            return 0
        for stage in STAGES:
            print(f"{stage:14s} {result['stage_successes'][stage]}/{self.trials}")
        print(f"{'whole assembly':14s} {result['whole_assembly_successes']}/{self.trials}")
        return 0
