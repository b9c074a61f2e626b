"""The ``hilserl-bench`` CLI: listing, rollouts, benchmarks, the main job, README sync.

Most tests run the CLI in-process against a tiny fake task (a point driven to the
origin) so they take milliseconds; one test calls the installed script on a real task.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import types
from pathlib import Path

import gymnasium as gym
import imageio.v2 as imageio
import numpy as np
import pandas as pd
import pytest

import hilserl_bench
from hilserl_bench import registry
from hilserl_bench.cli import main
from hilserl_bench.task import Task, TaskConfig

ROOT = Path(__file__).resolve().parents[1]
FAKE = "fake_reach"


def _real_tasks_registered() -> bool:
    try:
        return "ram_insertion" in registry.tasks()
    except ImportError:
        return False


REAL_TASKS = _real_tasks_registered()
ROLLOUT_KEYS = {"task", "policy", "episodes", "success_rate", "mean_steps", "mean_cycle_time_s"}


class FakeTask(Task):
    task_id = FAKE
    description = "Drive a point to the origin (test double)."
    cameras = ("wrist_1",)

    @classmethod
    def default_config(cls) -> TaskConfig:
        return TaskConfig(max_steps=15)


class FakeBackend:
    model = None

    def raw_physics_seconds(self, n_env_steps: int) -> float:
        return 1e-5 * n_env_steps

    def camera_frames(self, cameras: tuple[str, ...]) -> dict[str, np.ndarray]:
        return {c: np.zeros((16, 16, 3), np.uint8) for c in cameras}


class FakeEnv(gym.Env):
    control_dt = 0.1
    emitted: list[float] = []
    """Every ``info["penetration"]`` any instance reported (tests clear it first)."""

    def __init__(self, render_mode: str | None = None) -> None:
        self.render_mode, self.task, self.backend = render_mode, FakeTask(), FakeBackend()
        self.action_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float64)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.x, self.t = self.np_random.uniform(-1, 1, 2), 0
        return self.x.copy(), {"succeed": False}

    def step(self, action: np.ndarray):
        self.x, self.t = self.x + 0.2 * np.clip(action, -1, 1), self.t + 1
        success = bool(np.linalg.norm(self.x) < 0.1)
        penetration = 0.001 * abs(float(np.sin(7.0 * self.x[0] + self.t)))
        FakeEnv.emitted.append(penetration)
        info = {"succeed": success, "penetration": penetration}
        return self.x.copy(), float(success), success, self.t >= 15 and not success, info

    def render(self) -> np.ndarray:
        return np.full((32, 48, 3), 100, np.uint8)


class FakeExpert:
    def reset(self, rng: np.random.Generator) -> None:
        pass

    def act(self, obs: np.ndarray) -> np.ndarray:
        return np.clip(-obs / 0.2, -1, 1).astype(np.float32)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> str:
    """Register the fake task, route make() and make_expert() for it, leave real tasks alone."""
    if not REAL_TASKS:
        monkeypatch.setattr(registry, "_loaded", True)
    monkeypatch.setitem(registry._TASKS, FAKE, FakeTask)
    real_make = hilserl_bench.make
    monkeypatch.setattr(hilserl_bench, "make", lambda task_id, **kw: FakeEnv(kw.get("render_mode"))
                        if task_id == FAKE else real_make(task_id, **kw))
    try:
        from hilserl_bench.envs import experts
        real_expert = experts.make_expert
    except ImportError:
        experts = types.ModuleType("hilserl_bench.envs.experts")
        monkeypatch.setitem(sys.modules, "hilserl_bench.envs.experts", experts)
        real_expert = None
    monkeypatch.setattr(experts, "make_expert", lambda env, noise=0.0: FakeExpert()
                        if isinstance(env.unwrapped, FakeEnv) else real_expert(env, noise=noise), raising=False)
    return FAKE


def test_list_shows_registered_ids(fake: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert fake in out and FakeTask.description in out
    if REAL_TASKS:
        assert "ram_insertion" in out


def test_unknown_task_exits_2_with_valid_ids(fake: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rollout", "--task", "no_such_task", "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "no_such_task" in err and fake in err
    assert main(["bench", "env", "--task", "no_such_task"]) == 2


def test_rollout_json_reports_success_and_cycle_time(fake: str, capsys: pytest.CaptureFixture[str]) -> None:
    FakeEnv.emitted.clear()
    assert main(["rollout", "--task", fake, "--policy", "expert", "--episodes", "3", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report.keys() >= ROLLOUT_KEYS
    assert report["episodes"] == 3 and report["success_rate"] == 1.0
    assert 0 < report["mean_cycle_time_s"] == pytest.approx(0.1 * report["mean_steps"])
    assert len(FakeEnv.emitted) > 3 and FakeEnv.emitted[-1] < max(FakeEnv.emitted)
    assert report["max_penetration_mm"] == pytest.approx(1000.0 * max(FakeEnv.emitted), rel=1e-12)


def test_random_rollout_and_video(fake: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video = tmp_path / "v.mp4"
    assert main(["rollout", "--task", fake, "--policy", "random", "--episodes", "2", "--video", str(video)]) == 0
    assert "success_rate" in capsys.readouterr().out
    frames = imageio.mimread(video)
    assert len(frames) >= 2 and frames[0].shape == (32, 48, 3)


def test_bench_env_json(fake: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "env", "--task", fake, "--steps", "20", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("env_steps_per_s", "env_steps_per_s_pixels", "raw_physics_steps_per_s", "overhead_ratio",
                "render_fps"):
        assert result[key] > 0, key


def test_run_writes_csvs_and_videos(fake: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results"
    assert main(["run", "--out", str(out), "--episodes", "2", "--tasks", fake, "--no-baselines"]) == 0
    assert "expert" in capsys.readouterr().out
    rollouts = pd.read_csv(out / "rollouts.csv")
    assert len(rollouts) == 4 and set(rollouts["policy"]) == {"expert", "random"}
    summary = pd.read_csv(out / "summary.csv").set_index("policy")
    assert summary.loc["expert", "success_rate"] == 1.0
    assert (out / f"{fake}.mp4").stat().st_size > 0
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "temporary files left behind"


def test_render_readme_writes_pngs(fake: str, tmp_path: Path) -> None:
    assert main(["render-readme", "--out", str(tmp_path), "--tasks", fake]) == 0
    assert imageio.imread(tmp_path / f"{fake}.png").shape == (32, 48, 3)


@pytest.mark.skipif(not REAL_TASKS, reason="real tasks not registered yet")
def test_real_rollout_through_installed_script() -> None:
    script = Path(sys.executable).with_name("hilserl-bench")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "hilserl_bench.cli"]
    args = ["rollout", "--task", "ram_insertion", "--policy", "expert", "--episodes", "2", "--obs-mode", "state",
            "--json"]
    out = subprocess.run(cmd + args, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report.keys() >= ROLLOUT_KEYS and report["task"] == "ram_insertion"
    bad = subprocess.run(cmd + ["rollout", "--task", "ram_insertoin"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "ram_insertion" in bad.stderr and "Traceback" not in bad.stderr


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(bash scripts/install\.sh.*)$", quick_start, flags=re.MULTILINE)
    assert len(commands) == 2, commands
    test_command = next(c for c in commands if "--test" in c)
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines
