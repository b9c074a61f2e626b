"""The scripted supervisor intervenes like a person would, and checkpoints are atomic."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from hilserl_bench.data.learning_env import make_learning_env
from hilserl_bench.envs.experts import Progress, make_expert
from hilserl_bench.training.checkpoint import (
    CheckpointError,
    latest_checkpoint,
    load_checkpoint,
    restore_rng,
    rng_state,
    save_checkpoint,
)
from hilserl_bench.training.intervention_budget import BudgetConfig, InterventionBudget
from hilserl_bench.training.scripted_intervention import ScriptedIntervention, SupervisorConfig


def _supervised(config: SupervisorConfig):
    env = make_learning_env("ram_insertion", obs_mode="state")
    return ScriptedIntervention(env, make_expert(env.unwrapped), config, seed=0)


def test_no_intervention_during_warmup_then_disagreement_triggers():
    env = _supervised(SupervisorConfig(warmup_steps=5, disagreement_steps=2, takeover_steps=3, stall_steps=1000))
    env.reset(seed=0)
    flags = []
    for _ in range(12):
        # Drive straight up, away from the slot: the expert disagrees every step.
        _, _, term, trunc, info = env.step(np.array([0, 0, -1.0, 0, 0, 0], dtype=np.float32))
        flags.append(bool(info.get("is_intervention", False)))
        if term or trunc:
            break
    assert not any(flags[:5])
    assert any(flags[5:])
    first = flags.index(True)
    assert flags[first:first + 3] == [True, True, True], flags


def test_intervention_executes_and_logs_the_expert_action():
    env = _supervised(SupervisorConfig(warmup_steps=0, disagreement_steps=1, takeover_steps=2))
    env.reset(seed=1)
    _, _, _, _, info = env.step(np.zeros(6, dtype=np.float32))
    _, _, _, _, info = env.step(np.zeros(6, dtype=np.float32))
    assert info["is_intervention"]
    np.testing.assert_array_equal(info["intervene_action"], info["teleop_action"])
    assert np.abs(info["intervene_action"]).max() > 0.1, "the expert moves toward the slot"


def test_zero_budget_never_intervenes():
    env = _supervised(SupervisorConfig(warmup_steps=0, budget=BudgetConfig(ceiling=0.0, floor=0.0)))
    env.reset(seed=0)
    for _ in range(20):
        _, _, _, _, info = env.step(np.array([0, 0, -1.0, 0, 0, 0], dtype=np.float32))
        assert "intervene_action" not in info


def test_budget_follows_the_policys_success_in_probe_episodes():
    budget = InterventionBudget(BudgetConfig(floor=0.2, probe_every=3, window=2))
    assert budget.value() == 1.0, "full budget before the policy has shown anything"
    outcomes = [False, False, True, False, False, True, True, True, True]
    values = []
    for success in outcomes:
        budget.end_episode(success)
        values.append(budget.value())
    # Probes are episodes 2, 5, 8 (successes True, True, True); the others are corrected episodes.
    assert [budget.is_probe(e) for e in range(6)] == [False, False, True, False, False, True]
    assert values == [1.0, 1.0, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2]
    rebuilt = InterventionBudget(budget.config)
    rebuilt.restore([{"success": s} for s in outcomes])
    assert rebuilt.probe_successes == budget.probe_successes and rebuilt.episodes == 9
    failing = InterventionBudget(BudgetConfig(floor=0.2, probe_every=2, window=2))
    for success in (True, True, True, False, False, False):
        failing.end_episode(success)
    assert failing.value() == 1.0, "a regressing policy gets its full budget back"
    with pytest.raises(ValueError, match="probe_every"):
        BudgetConfig(probe_every=1).validate()


def test_probe_episodes_run_without_takeovers():
    env = _supervised(SupervisorConfig(warmup_steps=0, disagreement_steps=1, budget=BudgetConfig(probe_every=2)))
    counts = []
    for episode in range(2):
        env.reset(seed=episode)
        n, done = 0, False
        while not done:
            _, _, term, trunc, info = env.step(np.array([0, 0, -1.0, 0, 0, 0], dtype=np.float32))
            n += int(info.get("is_intervention", False))
            done = term or trunc
        counts.append(n)
    assert counts[0] > 0 and counts[1] == 0, counts


def test_a_wrong_gripper_command_is_corrected_before_it_executes():
    env = make_learning_env("usb_insertion", obs_mode="state")
    sup = ScriptedIntervention(env, make_expert(env.unwrapped), SupervisorConfig(
        warmup_steps=0, disagreement_threshold=10.0, stall_steps=1000), seed=0)
    sup.reset(seed=0)
    expert_twist = None
    for _ in range(3):  # the expert keeps the hand open while approaching the plug; the policy closes it
        action = np.zeros(7, np.float32)
        if expert_twist is not None:
            action[:6] = expert_twist
        action[6] = -1.0
        _, _, _, _, info = sup.step(action)
        assert info.get("is_intervention", False), "closing the hand far from the plug must be corrected"
        assert info["intervene_action"][6] == 0.0, "an idle open command is logged as stay"
        assert env.unwrapped.last_obs["state"]["gripper_pose"][0] > 0.5, "the hand stayed open"
        expert_twist = info["intervene_action"][:6]


def test_stall_trigger_reads_the_experts_per_phase_progress():
    class Staged:
        """Fake expert: reports a progress sequence and agrees with the policy (no disagreement)."""

        def __init__(self, readings):
            self.readings, self.i = readings, 0

        def reset(self, rng):
            self.i = 0

        def act(self, obs):
            return np.zeros(6, np.float32)

        def progress(self, obs):
            reading = self.readings[min(self.i, len(self.readings) - 1)]
            self.i += 1
            return reading

    # Moving away from the final target inside a new phase is progress; standing still is not.
    walking = [Progress(0, "reach", 0.10 - 0.002 * k) for k in range(10)] + \
        [Progress(1, "carry", 0.30 + 0.0 * k) for k in range(40)]
    env = make_learning_env("ram_insertion", obs_mode="state")
    sup = ScriptedIntervention(env, Staged(walking), SupervisorConfig(warmup_steps=0, stall_steps=5,
                                                                      disagreement_threshold=10.0), seed=0)
    sup.reset(seed=0)
    flags = [bool(sup.step(np.zeros(6, np.float32))[4].get("is_intervention", False)) for _ in range(20)]
    assert not any(flags[:15]), "steady gains and a phase change are progress"
    assert flags.index(True) == 15, "5 steps without progress in the carry phase fire the trigger"


def test_checkpoint_round_trip_and_pointer(tmp_path: Path):
    rng = np.random.default_rng(3)
    rng.random(5)
    arrays = {"params/w": np.arange(6.0).reshape(2, 3)}

    def writer(path: Path) -> None:
        np.savez(path, x=np.ones(3))

    save_checkpoint(tmp_path, 1, arrays, {"env_steps": 10, "rng": rng_state(rng)}, {"online": writer})
    save_checkpoint(tmp_path, 2, arrays, {"env_steps": 20, "rng": rng_state(rng)}, {"online": writer})
    save_checkpoint(tmp_path, 3, arrays, {"env_steps": 30, "rng": rng_state(rng)}, {"online": writer})
    path = latest_checkpoint(tmp_path)
    assert path.name == "ckpt_00000003"
    loaded, meta = load_checkpoint(path)
    np.testing.assert_array_equal(loaded["params/w"], arrays["params/w"])
    assert meta["env_steps"] == 30 and (path / "online.npz").exists()
    assert restore_rng(meta["rng"]).random() == rng.random()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("ckpt")) == [
        "ckpt_00000002", "ckpt_00000003"]


def test_checkpoint_killed_mid_write_keeps_the_previous_one(tmp_path: Path, monkeypatch):
    save_checkpoint(tmp_path, 1, {"a": np.zeros(2)}, {"env_steps": 1}, {})

    def crash(path: Path) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path, 2, {"a": np.ones(2)}, {"env_steps": 2}, {"online": crash})
    path = latest_checkpoint(tmp_path)
    assert path.name == "ckpt_00000001"
    assert load_checkpoint(path)[1]["env_steps"] == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ckpt")], "no temporary litter"


def test_corrupt_pointer_is_a_clear_error(tmp_path: Path):
    (tmp_path / "latest").write_text("{not json")
    with pytest.raises(CheckpointError, match="corrupt"):
        latest_checkpoint(tmp_path)
    (tmp_path / "latest").write_text(json.dumps({"checkpoint": "ckpt_00000009"}))
    with pytest.raises(CheckpointError, match="missing"):
        latest_checkpoint(tmp_path)
    assert not os.path.exists(tmp_path / "ckpt_00000009")
