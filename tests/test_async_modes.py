"""--mode async and --mode ray: every episode committed once, kills resumed, a missing cluster is a clear error."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hilserl_bench.data.recorder import record_episodes
from hilserl_bench.training import checkpoint as ckpt
from hilserl_bench.training.config import TrainConfig
from hilserl_bench.training.ray_cluster import RayUnavailableError, check_reachable
from hilserl_bench.training.train import TrainCmd, train
from hilserl_bench.training.transport import EpisodeLedger

TASK = "ram_insertion"


@pytest.fixture(scope="module")
def demos(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demos") / "ram"
    record_episodes(TASK, episodes=2, out_dir=out, seed=0, obs_mode="state")
    return out


def _cfg(out: Path, demos: Path, **kw) -> TrainConfig:
    base = dict(task=TASK, agent="rlpd", demos=demos, interventions="scripted", env_steps=200, start_training=40,
                batch_size=32, checkpoint_every=1, publish_every=5, out=out, seed=1)
    return TrainConfig(**{**base, **kw})


def _check_complete(run: Path, env_steps: int, demo_steps: int, exact: bool = True) -> pd.DataFrame:
    """Every committed episode once in metrics.csv and in the buffers; nothing else in them."""
    metrics = pd.read_csv(run / "metrics.csv")
    assert list(metrics["episode"]) == list(range(len(metrics))), "episode rows in commit order, none twice"
    assert metrics["reset_index"].is_unique, "no reset index committed twice"
    total = int(metrics["steps"].sum())
    assert list(metrics["env_steps"]) == list(np.cumsum(metrics["steps"]) - metrics["steps"])
    assert total == env_steps if exact else total >= env_steps
    latest = ckpt.latest_checkpoint(run)
    meta = ckpt.load_checkpoint(latest)[1]
    assert meta["env_steps"] == total and len(meta["metrics"]) == len(metrics)
    online = json.loads(str(np.load(latest / "online.npz")["meta"]))
    prior = json.loads(str(np.load(latest / "prior.npz")["meta"]))
    assert online["n_inserted"] == total, "the online buffer holds exactly the committed transitions"
    intervened = int(round((metrics["intervention_rate"] * metrics["steps"]).sum()))
    assert prior["n_inserted"] == demo_steps + intervened, "interventions routed to the demo buffer too, once"
    ledger = meta["ledger"]
    handed = set(metrics["reset_index"]) | set(ledger["replay"])
    assert handed == set(range(ledger["next_index"])), "every reset index committed or waiting to be replayed"
    assert not set(metrics["reset_index"]) & set(ledger["replay"])
    return metrics


def _demo_steps(demos: Path) -> int:
    from hilserl_bench.data.episode_format import load_dataset

    return sum(len(e.actions) for e in load_dataset(demos))


def test_ledger_hands_out_unfinished_episodes_first():
    ledger = EpisodeLedger()
    assert [ledger.assign(a) for a in (0, 1, 0)] == [0, 1, 2]
    assert ledger.commit(0, 0) and not ledger.commit(0, 1), "an index is committed only by its own actor"
    ledger.release(1)  # actor 1 died mid-episode
    assert ledger.state() == {"next_index": 3, "replay": [1, 2]}, "in-flight episodes count as to be replayed"
    assert ledger.assign(0) == 1 and ledger.assign(1) == 3
    resumed = EpisodeLedger.from_state(ledger.state(), episodes=1)
    assert [resumed.assign(0), resumed.assign(0), resumed.assign(0)] == [1, 2, 3]
    assert EpisodeLedger.from_state(None, episodes=4).assign(0) == 4, "a sync checkpoint committed 0..3"


def test_async_run_killed_mid_run_resumes(demos: Path, tmp_path: Path):
    """A learner-thread run killed (SIGKILL) after a checkpoint resumes by re-running: every episode once."""
    cfg = _cfg(tmp_path / "k", demos, mode="async", env_steps=260)
    script = ("import sys; from pathlib import Path; from hilserl_bench.training.train import train, TrainConfig; "
              f"train(TrainConfig(task={TASK!r}, agent='rlpd', demos=Path({str(demos)!r}), interventions='scripted', "
              "env_steps=260, start_training=40, batch_size=32, checkpoint_every=1, publish_every=5, "
              f"out=Path({str(cfg.out)!r}), seed=1, mode='async'), progress=False)")
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 240
    while time.time() < deadline and not (cfg.out / "ckpt_00000001").exists() and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    saved = ckpt.load_checkpoint(ckpt.latest_checkpoint(cfg.out))[1]
    assert saved["episodes"] >= 1 and saved["env_steps"] < 260, "killed before the end"
    result = train(cfg, progress=False)
    assert result.resumed_from == saved["episodes"] and result.env_steps == 260
    metrics = _check_complete(cfg.out, 260, _demo_steps(demos))
    assert set(metrics["actor"]) == {0} and result.learner_steps > metrics["learner_steps"].iloc[0] >= 0
    kept = ["episode", "reset_index", "steps", "return", "success", "learner_steps"]
    np.testing.assert_array_equal(metrics[kept].iloc[: saved["episodes"]].to_numpy(float),
                                  pd.DataFrame(saved["metrics"])[kept].to_numpy(float),
                                  err_msg="rows committed before the kill are kept as they were")


def test_mode_choice_and_its_checks(tmp_path: Path):
    from hilserl_bench.backend_options import BackendOptions

    real = BackendOptions(backend="real", robot_url="http://127.0.0.1:9/", emulator=True)
    assert TrainCmd(task=TASK, robot=real).config().mode == "async", "a real robot trains asynchronously"
    assert TrainCmd(task=TASK).config().mode == "sync", "simulation stays deterministic by default"
    assert TrainCmd(task=TASK, mode="ray", actors=2).config().mode == "ray"
    with pytest.raises(ValueError, match="--mode ray"):
        TrainConfig(task=TASK, actors=2, out=tmp_path / "x").validate()
    with pytest.raises(ValueError, match="--mode async"):
        TrainConfig(task=TASK, mode="ray", robot=real, out=tmp_path / "x").validate()


def test_unreachable_ray_cluster_is_a_clear_error(tmp_path: Path, monkeypatch):
    start = time.time()
    with pytest.raises(RayUnavailableError, match=r"no Ray cluster answers at 127\.0\.0\.1:9 .*ray start --head"):
        check_reachable("127.0.0.1:9")
    assert time.time() - start < 10
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(RayUnavailableError, match=r"pip install 'hilserl-bench\[ray\]'"):
        train(TrainConfig(task=TASK, mode="ray", actors=2, out=tmp_path / "r"), progress=False)
    assert not (tmp_path / "r").exists()


def test_ray_unreachable_address_fails_before_any_work(tmp_path: Path):
    pytest.importorskip("ray")
    from hilserl_bench.cli import main

    assert main(["train", "--task", TASK, "--mode", "ray", "--ray-address", "127.0.0.1:9",
                 "--out", str(tmp_path / "r")]) == 2


def test_ray_run_survives_a_killed_actor(demos: Path, tmp_path: Path, capfd):
    pytest.importorskip("ray")
    # No learner updates (start_training above the budget): commits then follow the actors in real time
    # instead of queueing behind the first update's compilation, so actor 1 is killed mid-run.
    cfg = _cfg(tmp_path / "ray", demos, mode="ray", actors=2, env_steps=600, start_training=10_000)
    killed: dict[str, int] = {}

    def kill_actor_1() -> None:
        deadline = time.time() + 1200  # Ray's start-up took 4 minutes on a 2-core machine shared by 8 sessions
        while time.time() < deadline:
            rows = pd.read_csv(cfg.out / "metrics.csv") if (cfg.out / "metrics.csv").exists() else None
            if rows is not None and "actor" in rows and (rows["actor"] == 1).any():
                pid = json.loads((cfg.out / "actors.json").read_text())["1"]["pid"]
                assert rows["steps"].sum() < 500, "actor 1 is killed while there is work left"
                os.kill(pid, signal.SIGKILL)
                killed["pid"] = pid
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_actor_1, daemon=True)
    killer.start()
    result = train(cfg, progress=False)
    killer.join()
    assert "pid" in killed
    actors = json.loads((cfg.out / "actors.json").read_text())
    assert actors["1"]["restarts"] == 1 and actors["1"]["pid"] != killed["pid"]
    assert "actor 1 died" in capfd.readouterr().err
    metrics = _check_complete(cfg.out, 600, _demo_steps(demos), exact=False)
    assert result.env_steps == int(metrics["steps"].sum())
    assert set(metrics["actor"]) == {0, 1}, "both actors' episodes land in the one metrics.csv"
