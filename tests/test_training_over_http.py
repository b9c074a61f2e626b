"""Training through the real backend: a robot server dying mid-run loses nothing, and the run resumes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from hilserl_bench.backend_options import BackendOptions
from hilserl_bench.data.recorder import record_episodes
from hilserl_bench.envs.emulator import EmulatorConfig, EmulatorCore
from hilserl_bench.envs.emulator_app import create_app, serve_in_thread
from hilserl_bench.real import RobotConnectionError
from hilserl_bench.training import checkpoint as ckpt
from hilserl_bench.training.config import TrainConfig
from hilserl_bench.training.train import train

TASK = "ram_insertion"


def _serve(port: int = 0):
    core = EmulatorCore(TASK, EmulatorConfig(time_model="step"))
    return serve_in_thread(create_app(core), port=port), core


def test_server_dies_mid_training_and_the_run_resumes(tmp_path: Path):
    demos = tmp_path / "demos"
    record_episodes(TASK, episodes=3, out_dir=demos, seed=0, obs_mode="state")
    server, core = _serve()
    port = int(server.url.rstrip("/").rsplit(":", 1)[1])
    cfg = TrainConfig(task=TASK, agent="rlpd", demos=demos, interventions="scripted", env_steps=300,
                      start_training=50, checkpoint_every=1, out=tmp_path / "run", seed=1,
                      robot=BackendOptions(backend="real", robot_url=server.url, emulator=True))

    def kill_after_first_checkpoint() -> None:
        deadline = time.time() + 120
        while time.time() < deadline and not (cfg.out / "ckpt_00000001").exists():
            time.sleep(0.02)
        server.kill()

    killer = threading.Thread(target=kill_after_first_checkpoint, daemon=True)
    killer.start()
    with pytest.raises(RobotConnectionError):
        train(cfg, progress=False)
    killer.join()
    core.close()
    saved = ckpt.load_checkpoint(ckpt.latest_checkpoint(cfg.out))[1]
    assert saved["episodes"] >= 1 and saved["env_steps"] < 300

    server, core = _serve(port)
    try:
        result = train(cfg, progress=False)
    finally:
        server.stop()
        core.close()
    assert result.resumed_from == saved["episodes"]
    assert result.env_steps == 300
    metrics = pd.read_csv(cfg.out / "metrics.csv")
    assert list(metrics["episode"]) == list(range(len(metrics))), "no episode lost or logged twice"
    assert int(metrics["env_steps"].iloc[-1] + metrics["steps"].iloc[-1]) == 300
