"""The benchmark suite: per-task spec data, one tiny end-to-end run (and its resume), the report, noisy_state."""

from __future__ import annotations

import html.parser
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hilserl_bench as hb
from hilserl_bench import registry
from hilserl_bench.benchmark_spec import TaskBenchmark, benchmark_of
from hilserl_bench.cli import main
from hilserl_bench.suite.config import SuiteConfig
from hilserl_bench.suite.suite import run_suite
from hilserl_bench.wrappers.noisy_task_state import NoisyTaskState

TASK = "ram_insertion"


def test_every_registered_task_has_benchmark_data_consistent_with_its_config() -> None:
    for task in hb.tasks():
        spec = benchmark_of(task)
        config = registry.task_class(task).default_config()
        assert isinstance(spec, TaskBenchmark), task
        assert config.max_steps <= spec.quick_env_steps <= spec.paper_env_steps, task
        assert spec.num_demos == (30 if task == "jenga_whipping" else 20), task
        assert 0 <= spec.paper_bc_success <= spec.paper_success <= 1, task
        assert 0 < spec.position_noise_m <= 0.01 and 0 < spec.rotation_noise_rad <= np.radians(3), task
        if spec.paper_cycle_time_s is not None:
            assert spec.paper_cycle_time_s < config.max_steps / config.control_hz, task
        # discount and episode length live only in TaskConfig: the spec must not shadow them
        assert not {"discount", "max_steps"} & set(TaskBenchmark.__dataclass_fields__), task


@pytest.fixture(scope="module")
def tiny_suite(tmp_path_factory: pytest.TempPathFactory) -> tuple[SuiteConfig, dict, Path]:
    out = tmp_path_factory.mktemp("suite")
    cfg = SuiteConfig(tasks=(TASK,), variants=("rlpd_interv", "bc"), obs_modes=("state",), env_steps=100,
                      bc_steps=20, num_demos=2, eval_episodes=2, jobs=1, out=out,
                      disturb_episodes=1)
    return cfg, run_suite(cfg), out


def test_tiny_suite_writes_csvs_plot_video_and_report(tiny_suite: tuple[SuiteConfig, dict, Path]) -> None:
    _, result, out = tiny_suite
    runs = pd.read_csv(out / "runs.csv")
    assert sorted(runs["variant"]) == ["bc", "rlpd_interv"] and set(runs["eval_episodes"]) == {2}
    table = pd.read_csv(out / "table.csv").iloc[0]
    assert table["task"] == TASK and table["paper_success"] == 1.0 and table["paper_bc_success"] == 0.29
    assert table["max_steps"] == registry.task_class(TASK).default_config().max_steps
    assert table["success_mean"] == runs.set_index("variant").loc["rlpd_interv", "eval_success"]
    curves = pd.read_csv(out / "curves.csv")
    assert set(curves["variant"]) == {"rlpd_interv"} and curves["episodes"].sum() >= 1
    assert (out / "plots" / f"{TASK}.png").read_bytes()[:4] == b"\x89PNG"
    assert 0 < (out / "videos" / f"{TASK}.mp4").stat().st_size < 600_000
    assert not result["failures"]


def test_tiny_suite_evaluates_every_run_under_each_disturbance(tiny_suite: tuple[SuiteConfig, dict, Path]) -> None:
    from hilserl_bench.robustness_plot import state_kinds

    _, result, out = tiny_suite
    disturbed = pd.read_csv(out / "disturbed.csv")
    kinds = state_kinds(TASK)
    assert len(kinds) > 1 and kinds[0] == "none"
    for variant in ("bc", "rlpd_interv"):
        rows = disturbed[disturbed["variant"] == variant].set_index("disturbance")
        assert list(rows.index) == kinds and set(rows.loc[kinds[1:], "episodes"]) == {1}
        assert rows.loc[kinds[1:], "applied_rate"].eq(1.0).all()
    runs = pd.read_csv(out / "runs.csv").set_index("variant")
    undisturbed = disturbed[disturbed["disturbance"] == "none"].set_index("variant")["success_rate"]
    assert undisturbed.to_dict() == runs["eval_success"].to_dict()
    assert (out / "plots" / f"{TASK}_disturbed.png").read_bytes()[:4] == b"\x89PNG"
    assert f"plots/{TASK}_disturbed.png" in (out / "report.html").read_text()
    assert not result["disturbed"].empty


class _Refs(html.parser.HTMLParser):
    """Collects src/href references and checks that every opened tag is closed in order."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.refs += [v for k, v in attrs if k in ("src", "href") and v]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


def test_report_is_well_formed_and_references_existing_files(tiny_suite: tuple[SuiteConfig, dict, Path]) -> None:
    _, _, out = tiny_suite
    text = (out / "report.html").read_text()
    parser = _Refs()
    parser.feed(text)
    assert not parser.stack, f"unclosed tags {parser.stack}"
    assert text.startswith("<!DOCTYPE html>") and "Table 1" in text
    assert {f"plots/{TASK}.png", f"videos/{TASK}.mp4"} <= set(parser.refs)
    for ref in parser.refs:
        assert (out / ref).is_file(), ref


def test_rerun_resumes_without_repeating_work(tiny_suite: tuple[SuiteConfig, dict, Path]) -> None:
    cfg, first, out = tiny_suite
    files = [p for p in (out / "runs").rglob("*") if p.is_file()] + list((out / "demos").rglob("*.npz"))
    before = {p: p.stat().st_mtime_ns for p in files}
    video = (out / "videos" / f"{TASK}.mp4").stat().st_mtime_ns
    second = run_suite(cfg)
    assert set(second["runs"]["status"]) == {"cached"}
    assert {p: p.stat().st_mtime_ns for p in files} == before, "a finished run, eval or demo was redone"
    assert (out / "videos" / f"{TASK}.mp4").stat().st_mtime_ns == video
    pd.testing.assert_frame_equal(first["table"], second["table"])


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_report_renders_in_headless_chromium(tiny_suite: tuple[SuiteConfig, dict, Path], tmp_path: Path) -> None:
    _, _, out = tiny_suite
    shot = tmp_path / "report.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=1200,1600", (out / "report.html").resolve().as_uri()],
                   capture_output=True, timeout=120, check=False)
    import imageio.v2 as imageio

    image = imageio.imread(shot)
    assert image.shape[:2] == (1600, 1200) and image.std() > 5, "blank screenshot"


def test_pixels_without_a_gpu_is_refused_in_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from hilserl_bench.suite.runner import gpu_present

    if gpu_present():
        pytest.skip("a GPU is present")
    assert main(["suite", "--tasks", TASK, "--obs-modes", "pixels", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "GPU" in err and not any(tmp_path.iterdir())


def _true_task_state(env: NoisyTaskState) -> dict[str, np.ndarray]:
    raw = env.unwrapped
    return raw.task.task_state(raw.last_scene, raw._states)


def test_noisy_state_offsets_task_state_by_a_fixed_per_episode_error() -> None:
    env = NoisyTaskState(hb.make(TASK, obs_mode="state"))
    spec = benchmark_of(TASK)
    try:
        errors = []
        for seed in (3, 4, 3):
            obs, _ = env.reset(seed=seed)
            first = {k: v.copy() for k, v in env.error.items()}
            for _ in range(3):
                true = _true_task_state(env)
                for key, value in obs["task"].items():
                    np.testing.assert_allclose(value - np.asarray(true[key], np.float32), first[key], atol=1e-6)
                obs, *_ = env.step(env.action_space.sample() * 0.2)
            assert all(np.array_equal(env.error[k], first[k]) for k in first), "error changed within an episode"
            errors.append(first)
        assert all(np.array_equal(errors[0][k], errors[2][k]) for k in errors[0]), "same seed, other error"
        assert not np.array_equal(errors[0]["ram_to_seat"], errors[1]["ram_to_seat"])
        draws = [env._draw(np.random.default_rng(i)) for i in range(1500)]
        pos = np.concatenate([d["ram_to_seat"] for d in draws] + [d["tcp_to_target"] for d in draws])
        rot = np.concatenate([d["ram_rotation"] for d in draws])
        assert abs(pos.std() / spec.position_noise_m - 1) < 0.05 and abs(pos.mean()) < 0.1 * spec.position_noise_m
        assert abs(rot.std() / spec.rotation_noise_rad - 1) < 0.05
    finally:
        env.close()


def test_noisy_state_is_an_obs_mode_of_the_learning_stack() -> None:
    from hilserl_bench.data.learning_env import describe_stack, make_learning_env

    env = make_learning_env(TASK, obs_mode="noisy_state")
    try:
        assert describe_stack(env)["obs_mode"] == "noisy_state"
        assert "NoisyTaskState" in describe_stack(env)["wrappers"]
    finally:
        env.close()


def test_main_job_writes_its_table_beside_the_paper_and_a_report(tmp_path: Path) -> None:
    out = tmp_path / "results"
    assert main(["run", "--out", str(out), "--tasks", TASK, "--policies", "expert", "--episodes", "1",
                 "--no-baselines"]) == 0
    row = pd.read_csv(out / "table.csv").iloc[0]
    assert row["task"] == TASK and row["expert_success"] == 1.0 and row["paper_bc_success"] == 0.29
    parser = _Refs()
    parser.feed((out / "report.html").read_text())
    assert not parser.stack and parser.refs == [f"{TASK}.mp4"] and (out / f"{TASK}.mp4").is_file()


def test_rlpd_trains_wrench_control_actions() -> None:
    """Flipping and Jenga act with 3 wrench dims: RLPD is plain SAC over them (no gripper critic)."""
    import jax

    from hilserl_bench.baselines import preset
    from hilserl_bench.baselines.rlpd import RLPDAgent

    rng = np.random.default_rng(0)
    obs = {"state": rng.normal(size=(2, 4, 5)).astype(np.float32)}  # (utd, batch, dim)
    agent = RLPDAgent.create(jax.random.PRNGKey(0), {"state": obs["state"][0, :1]}, 3,
                             preset("hilserl", hidden_dims=(8, 8)))
    assert agent.gripper is None and list(agent.twist_dims) == [0, 1, 2] and agent.sac.actor_def.action_dim == 3
    actions = rng.uniform(-1, 1, (2, 4, 3)).astype(np.float32)
    batch = {"observations": obs, "next_observations": obs, "actions": actions,
             "rewards": np.ones((2, 4), np.float32), "masks": np.ones((2, 4), np.float32),
             "grasp_penalty": np.zeros((2, 4), np.float32)}
    agent, info = agent.update(batch)
    assert all(np.isfinite(float(v)) for v in info.values())
    assert agent.eval_actions({"state": obs["state"][0]}).shape == (4, 3)
