"""The scripted supervisor intervenes like a person would, and checkpoints are atomic."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from hilserl_bench.data.learning_env import make_learning_env
from hilserl_bench.envs.experts import make_expert
from hilserl_bench.training.checkpoint import (
    CheckpointError,
    latest_checkpoint,
    load_checkpoint,
    restore_rng,
    rng_state,
    save_checkpoint,
)
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
    env = _supervised(SupervisorConfig(warmup_steps=0, budget=0.0, final_budget=0.0))
    env.reset(seed=0)
    for _ in range(20):
        _, _, _, _, info = env.step(np.array([0, 0, -1.0, 0, 0, 0], dtype=np.float32))
        assert "intervene_action" not in info


def test_budget_decays_linearly():
    env = _supervised(SupervisorConfig(budget=1.0, final_budget=0.2, budget_decay_steps=100))
    env.env_steps = 50
    assert env.budget() == pytest.approx(0.6)
    env.env_steps = 500
    assert env.budget() == pytest.approx(0.2)


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
