"""Training end to end: learning improves success, runs resume exactly, bad input is refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hilserl_bench.data.recorder import record_episodes
from hilserl_bench.training import checkpoint as ckpt
from hilserl_bench.training.config import TrainConfig
from hilserl_bench.training.evaluate import evaluate_run
from hilserl_bench.training.train import RunMismatchError, train


@pytest.fixture(scope="module")
def ram_demos(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demos") / "ram"
    record_episodes("ram_insertion", episodes=10, out_dir=out, seed=0, obs_mode="state")
    return out


def test_bc_learns_from_demos(ram_demos: Path, tmp_path: Path):
    """BC on 10 expert demos goes from 0 successes (an untrained policy) to most episodes."""
    untrained = TrainConfig(task="ram_insertion", agent="bc", demos=ram_demos, env_steps=1, bc_steps=0,
                            out=tmp_path / "bc0", seed=0)
    train(untrained, progress=False)
    before = evaluate_run(untrained.out, episodes=5)["success_rate"]
    trained = TrainConfig(task="ram_insertion", agent="bc", demos=ram_demos, env_steps=1, bc_steps=1500,
                          out=tmp_path / "bc", seed=0)
    train(trained, progress=False)
    after = evaluate_run(trained.out, episodes=5)["success_rate"]
    assert before == 0.0
    assert after >= 0.6, after


def _small_rlpd(out: Path, demos: Path) -> TrainConfig:
    return TrainConfig(task="ram_insertion", agent="rlpd", demos=demos, interventions="scripted", env_steps=240,
                       start_training=60, checkpoint_every=1, out=out, seed=3)


def test_kill_and_resume_reproduces_an_uninterrupted_run(ram_demos: Path, tmp_path: Path):
    reference = _small_rlpd(tmp_path / "reference", ram_demos)
    train(reference, progress=False)
    killed = _small_rlpd(tmp_path / "killed", ram_demos)
    script = (f"from pathlib import Path; from hilserl_bench.training.train import train, TrainConfig; "
              f"train(TrainConfig(task='ram_insertion', agent='rlpd', demos=Path({str(ram_demos)!r}), "
              f"interventions='scripted', env_steps=240, start_training=60, checkpoint_every=1, "
              f"out=Path({str(killed.out)!r}), seed=3), progress=False)")
    proc = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.time() + 240
    while time.time() < deadline and not (killed.out / "ckpt_00000001").exists():
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (killed.out / "latest").exists(), "the run was killed before its first checkpoint"
    partial = len(pd.read_csv(killed.out / "metrics.csv"))
    result = train(killed, progress=False)
    assert result.resumed_from is not None and result.resumed_from >= 1
    assert partial < result.episodes
    ref_metrics = pd.read_csv(reference.out / "metrics.csv").drop(columns=["wall_time_s"])
    res_metrics = pd.read_csv(killed.out / "metrics.csv").drop(columns=["wall_time_s"])
    pd.testing.assert_frame_equal(ref_metrics, res_metrics)
    ref_arrays, ref_meta = ckpt.load_checkpoint(ckpt.latest_checkpoint(reference.out))
    res_arrays, res_meta = ckpt.load_checkpoint(ckpt.latest_checkpoint(killed.out))
    assert ref_meta["env_steps"] == res_meta["env_steps"] == 240
    for key in ref_arrays:
        np.testing.assert_array_equal(ref_arrays[key], res_arrays[key], err_msg=key)
    ref_online = np.load(ckpt.latest_checkpoint(reference.out) / "online.npz")
    res_online = np.load(ckpt.latest_checkpoint(killed.out) / "online.npz")
    for key in ref_online.files:
        np.testing.assert_array_equal(ref_online[key], res_online[key], err_msg=key)


def test_resume_with_other_settings_is_refused(ram_demos: Path, tmp_path: Path):
    cfg = TrainConfig(task="ram_insertion", agent="bc", demos=ram_demos, env_steps=1, bc_steps=1, out=tmp_path / "r")
    train(cfg, progress=False)
    with pytest.raises(RunMismatchError, match="seed"):
        train(TrainConfig(task="ram_insertion", agent="bc", demos=ram_demos, env_steps=1, bc_steps=1,
                          out=tmp_path / "r", seed=9), progress=False)


def test_demos_of_another_task_are_refused(ram_demos: Path, tmp_path: Path):
    from hilserl_bench.errors import UserFacingError

    with pytest.raises(UserFacingError, match="usb_insertion"):
        train(TrainConfig(task="usb_insertion", agent="bc", demos=ram_demos, env_steps=1, bc_steps=1,
                          out=tmp_path / "u"), progress=False)
    assert not (tmp_path / "u").exists(), "nothing written for a refused run"


def test_bc_without_demos_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ValueError, match="--demos"):
        train(TrainConfig(task="ram_insertion", agent="bc", out=tmp_path / "x"), progress=False)


def test_human_interventions_without_a_device_fail_clearly(tmp_path: Path):
    """No terminal (pytest's stdin) means no keyboard: a clear error, not a hang."""
    from hilserl_bench.devices import DeviceNotFoundError

    cfg = TrainConfig(task="ram_insertion", interventions="human", device="keyboard", env_steps=10,
                      out=tmp_path / "h")
    with pytest.raises(DeviceNotFoundError, match="terminal|tty|TTY"):
        train(cfg, progress=False)
