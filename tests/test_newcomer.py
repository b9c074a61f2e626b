"""What a newcomer trips over (issue 17): failed runs that block their fix, silent resumes, run-folder modes,
real-robot mistakes, flags that disagree between commands, gymnasium ids, close-up pictures.

Each test reproduces one reported friction through the CLI or the public functions.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tyro

from hilserl_bench.backend_options import BackendOptions
from hilserl_bench.cli import main
from hilserl_bench.cli_checks import DEFAULT_EPISODES, resolve_obs_mode
from hilserl_bench.data.recorder import record_episodes
from hilserl_bench.errors import UserFacingError
from hilserl_bench.training.config import TrainConfig
from hilserl_bench.training.train import train

TASK = "ram_insertion"


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demos") / "ram_state"
    record_episodes(TASK, episodes=2, out_dir=out, seed=0, obs_mode="state")
    return out


@pytest.fixture(scope="module")
def bc_run(tmp_path_factory: pytest.TempPathFactory, demos: Path) -> Path:
    run = tmp_path_factory.mktemp("runs") / "bc"
    train(TrainConfig(task=TASK, agent="bc", demos=demos, env_steps=1, bc_steps=2, out=run), progress=False)
    return run


def _bc(out: Path, demos: Path | None, **kw) -> TrainConfig:
    return TrainConfig(task=kw.pop("task", TASK), agent="bc", demos=demos, env_steps=1, bc_steps=2, out=out, **kw)


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    lines = [line for line in err if line.startswith("hilserl-bench: error:")]
    assert len(lines) == 1 and "Traceback" not in "\n".join(err), err
    return lines[0]


# -- 1. validate everything before writing anything ------------------------------------------------------------
def test_a_failed_train_writes_nothing_and_never_blocks_its_fix(demos: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    empty = tmp_path / "empty"
    empty.mkdir()
    for bad in (_bc(out, tmp_path / "missing"), _bc(out, empty), _bc(out, demos, task="usb_insertion")):
        with pytest.raises(UserFacingError):
            train(bad, progress=False)
        assert not out.exists(), f"{bad.demos}: the refused run wrote {list(out.iterdir())}"
    out.mkdir()
    (out / "config.json").write_text(json.dumps({**_bc(out, demos).to_json(), "seed": 7}))
    result = train(_bc(out, demos), progress=False)
    assert result.episodes >= 1 and json.loads((out / "config.json").read_text())["seed"] == 0


def test_obs_mode_mismatch_names_the_flag_and_the_fix_in_one_line(demos: Path, tmp_path: Path) -> None:
    from hilserl_bench.rendering import RendererUnavailable, require_renderer

    try:
        require_renderer()
    except RendererUnavailable:
        pytest.skip("pixels need headless OpenGL")
    with pytest.raises(UserFacingError) as err:
        train(_bc(tmp_path / "p", demos, obs_mode="pixels"), progress=False)
    message = str(err.value)
    assert "--obs-mode state" in message and "hilserl-bench record" in message and "\n" not in message
    assert len(message) < 300 and "state_layout" not in message


def test_resuming_says_from_which_episode_and_env_step(demos: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r"
    first = train(_bc(out, demos), progress=False)
    capsys.readouterr()
    cfg = TrainConfig(**{**_bc(out, demos).__dict__, "env_steps": first.env_steps + 1})
    train(cfg, progress=False)
    err = capsys.readouterr().err
    assert f"after episode {first.episodes} (env step {first.env_steps} of" in err and "resuming" in err


def test_train_ends_with_a_readable_summary(demos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--task", TASK, "--agent", "bc", "--demos", str(demos), "--env-steps", "1",
                 "--bc-steps", "2", "--out", str(tmp_path / "t")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("done: bc on ram_insertion (state)") and "success" in out and "{" not in out
    assert f"hilserl-bench eval --run {tmp_path / 't'}" in out


# -- 10. run folders follow the umask -----------------------------------------------------------------------------
def test_run_folder_files_follow_the_umask(bc_run: Path) -> None:
    mask = os.umask(0)
    os.umask(mask)
    files = [bc_run / "config.json", bc_run / "latest", bc_run / "metrics.csv"]
    ckpt = next(p for p in bc_run.glob("ckpt_*"))
    files += list(ckpt.iterdir())
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask, path
    assert stat.S_IMODE(ckpt.stat().st_mode) == 0o777 & ~mask


# -- 3. real-backend mistakes: one line, exit 2, the fix ---------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_robot_server_says_to_start_serve_sim(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    assert main(["rollout", "--task", TASK, "--backend", "real", "--robot-url", url, "--emulator",
                 "--episodes", "1", "--json"]) == 2
    line = _one_line_error(capsys)
    assert "unreachable" in line and f"serve-sim --task {TASK}" in line and "--robot-url" in line
    assert "HTTPConnectionPool" not in line


def test_state_on_a_real_robot_names_the_cli_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rollout", "--task", TASK, "--backend", "real", "--robot-url", "http://127.0.0.1:1",
                 "--obs-mode", "state"]) == 2
    line = _one_line_error(capsys)
    assert "--obs-mode pixels" in line and "--emulator" in line and "obs_mode=" not in line


def test_pixels_without_cameras_point_to_the_robot_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["record", "--task", TASK, "--backend", "real", "--robot-url", "http://127.0.0.1:1"]) == 2
    line = _one_line_error(capsys)
    assert "--robot-config" in line and "docs/real_robot.md" in line and "wrist_1" in line


def test_log_tensorboard_without_the_package_fails_before_writing(demos: Path, tmp_path: Path, monkeypatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("tensorboardX", "torch") else real(name, *a))
    out = tmp_path / "tb"
    assert main(["train", "--task", TASK, "--agent", "bc", "--demos", str(demos), "--log", "tensorboard",
                 "--out", str(out)]) == 2
    assert "pip install tensorboardX" in _one_line_error(capsys) and not out.exists()


# -- 4. one obs-mode default -----------------------------------------------------------------------------------
def test_record_train_rollout_share_one_obs_mode_default() -> None:
    from hilserl_bench.cli import RolloutCmd
    from hilserl_bench.data.recorder import RecordCmd
    from hilserl_bench.training.train import TrainCmd

    for cmd in (RolloutCmd, RecordCmd, TrainCmd):
        assert cmd.__dataclass_fields__["obs_mode"].default is None, cmd
    assert resolve_obs_mode(None, BackendOptions(), TASK) == "state"
    assert resolve_obs_mode(None, BackendOptions(backend="real", robot_url="http://x", emulator=True), TASK) \
        == "pixels"
    assert TrainCmd(task=TASK).config().obs_mode == "state"
    gitignore = (Path(__file__).resolve().parents[1] / ".gitignore").read_text().split()
    assert "demos/" in gitignore


# -- 8. flags agree between commands --------------------------------------------------------------------------
def test_flags_agree_across_commands() -> None:
    from hilserl_bench.cli import BenchEnvCmd, RolloutCmd
    from hilserl_bench.data.recorder import RecordCmd
    from hilserl_bench.main_job import RunConfig
    from hilserl_bench.real.commands import CalibrateCmd
    from hilserl_bench.training.evaluate import EvalCmd
    from hilserl_bench.training.train import TrainCmd

    assert tyro.cli(CalibrateCmd, args=["--task", TASK, "--robot-config", "c.json"]).robot_config == Path("c.json")
    assert tyro.cli(BenchEnvCmd, args=["--task", TASK, "--backend", "real", "--robot-url", "http://h:1"]).robot_url
    ev = tyro.cli(EvalCmd, args=["--out", "runs/x", "--seed", "5"])
    assert ev.run_dir == Path("runs/x") and ev.seed == 5
    assert tyro.cli(TrainCmd, args=["--task", TASK, "--run", "runs/y"]).out == Path("runs/y")
    for cmd in (RolloutCmd, RecordCmd, EvalCmd, RunConfig):
        assert cmd.__dataclass_fields__["episodes"].default == DEFAULT_EPISODES, cmd


def test_eval_and_rollout_json_share_keys_and_round_floats(bc_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--run", str(bc_run), "--episodes", "2", "--json"]) == 0
    evaluation = json.loads(capsys.readouterr().out)
    assert main(["rollout", "--task", TASK, "--episodes", "2", "--json"]) == 0
    rollout = json.loads(capsys.readouterr().out)
    shared = {"episodes", "successes", "success_rate", "mean_steps", "mean_cycle_time_s", "mean_return"}
    assert shared <= evaluation.keys() and shared <= rollout.keys()
    for report in (evaluation, rollout):
        for key, value in report.items():
            if isinstance(value, float):
                assert value == round(value, 6), (key, value)


def test_eval_prints_a_dash_for_missing_values(bc_run: Path, monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--run", str(bc_run), "--episodes", "1", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "None" not in out and "seed" in out


# -- 9. output and parse errors -----------------------------------------------------------------------------------
def test_typo_flag_and_unknown_command_print_one_line_with_the_close_match(capsys) -> None:
    assert main(["rollout", "--task", TASK, "--episdoes", "3"]) == 2
    line = _one_line_error(capsys)
    assert "--episdoes" in line and "did you mean --episodes" in line
    assert main(["rolout", "--task", TASK]) == 2
    assert "hilserl-bench rollout" in _one_line_error(capsys)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    import hilserl_bench

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"hilserl-bench {hilserl_bench.__version__}"


@pytest.mark.parametrize("video", ["folder", "clip"])
def test_video_path_is_checked_before_anything_runs(video: str, tmp_path: Path, capsys) -> None:
    target = tmp_path / video
    if video == "folder":
        target.mkdir()
    assert main(["rollout", "--task", TASK, "--episodes", "1", "--video", str(target)]) == 2
    assert ".mp4" in _one_line_error(capsys) and not list(tmp_path.glob("*clip*"))


@pytest.mark.parametrize("command", [["train", "--task", TASK], ["run", "--tasks", TASK], ["record", "--task", TASK]])
def test_out_pointing_at_a_file_is_one_line(command: list[str], tmp_path: Path, capsys) -> None:
    target = tmp_path / "a_file"
    target.write_text("x")
    assert main([*command, "--out", str(target)]) == 2
    assert "is not a folder" in _one_line_error(capsys)


def test_corrupt_npz_never_suggests_allow_pickle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demos = tmp_path / "d"
    demos.mkdir()
    (demos / "episode_000000.npz").write_bytes(b"not an archive at all")
    assert main(["train", "--task", TASK, "--agent", "bc", "--demos", str(demos), "--out", str(tmp_path / "r")]) == 2
    line = _one_line_error(capsys)
    assert "episode_000000.npz" in line and "pickle" not in line.lower()


# -- 11. gymnasium ids ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", [
    "import gymnasium as gym; e = gym.make('hilserl_bench:hilserl_bench/RamInsertion-v0', obs_mode='state')",
    "import gymnasium as gym, hilserl_bench; e = gym.make('hilserl_bench/RamInsertion-v0', obs_mode='state')",
])
def test_gym_make_works_with_the_documented_ids(code: str) -> None:
    done = subprocess.run([sys.executable, "-c", f"{code}; e.reset(seed=0); e.close(); print('ok')"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


# -- 6. pictures show the task ------------------------------------------------------------------------------------
def test_close_up_frames_put_a_close_view_beside_every_policy_camera() -> None:
    import hilserl_bench
    from hilserl_bench.pictures import CloseUpView, PictureConfig
    from hilserl_bench.rendering import RendererUnavailable, require_renderer

    try:
        require_renderer()
    except RendererUnavailable:
        pytest.skip("needs headless OpenGL")
    config = PictureConfig()
    env = CloseUpView(hilserl_bench.make("usb_insertion", obs_mode="state", render_mode="rgb_array"), config)
    try:
        env.reset(seed=0)
        frame = env.render()
        overview = env.unwrapped.render()
    finally:
        env.close()
    cams = len(env.unwrapped.task.cameras)
    assert frame.shape == (config.height, config.close_width + cams * config.height + 4 * cams, 3)
    assert frame.shape[0] > overview.shape[0]
    close = frame[:, : config.close_width]
    assert close.std() > 10 and not np.array_equal(frame[:, config.close_width + 4:][:, :config.height],
                                                   frame[:, -config.height:])


# -- issue 8 §9: one simulated demo set serves both observation modes ----------------------------------------------
def test_pixel_demos_carry_the_state_mode_columns(demos: Path, tmp_path: Path) -> None:
    import json as _json

    from hilserl_bench.data.episode_format import episode_files, load_dataset, load_episode
    from hilserl_bench.data.learning_env import describe_stack, make_learning_env
    from hilserl_bench.rendering import RendererUnavailable, require_renderer

    try:
        require_renderer()
    except RendererUnavailable:
        pytest.skip("pixels need headless OpenGL")
    pixels = tmp_path / "px"
    record_episodes(TASK, episodes=1, out_dir=pixels, seed=0, obs_mode="pixels")
    env = make_learning_env(TASK, obs_mode="state")
    state_stack = describe_stack(env)
    env.close()
    as_state = load_dataset(pixels, expect=state_stack)[0]
    recorded_state = load_episode(episode_files(demos)[0])
    assert not as_state.images and as_state.state.shape == recorded_state.state.shape
    np.testing.assert_allclose(as_state.state, recorded_state.state, atol=1e-5)
    as_pixels = load_episode(episode_files(pixels)[0])
    assert set(as_pixels.images) == {"wrist_1", "wrist_2"}
    result = train(_bc(tmp_path / "run", pixels), progress=False)
    assert result.episodes >= 1
    old = tmp_path / "v1"
    old.mkdir()
    arrays = {k: v for k, v in recorded_state.arrays().items()}
    meta = {**recorded_state.metadata, "format_version": 1}
    np.savez(old / "episode_000000.npz", metadata=np.array(_json.dumps(meta)), **arrays)
    assert load_dataset(old, expect=state_stack)[0].length == recorded_state.length, "version 1 files stay readable"
