"""The real backend end to end against the in-process MuJoCo emulator, plus fault injection."""

import json
import logging
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import requests
from flask import Flask, Response
from gymnasium.utils.env_checker import check_env

import hilserl_bench
from hilserl_bench import geometry as geo
from hilserl_bench.envs.emulator import EmulatorConfig, EmulatorCore
from hilserl_bench.envs.emulator_app import create_app, serve_in_thread
from hilserl_bench.envs.experts import make_expert
from hilserl_bench.envs.tasks.ram_insertion import RamInsertion
from hilserl_bench.real import (
    CameraError,
    RobotClient,
    RobotCommandError,
    RobotConnectionError,
    RobotEStopError,
    RobotProtocolError,
    RobotTimeoutError,
    load_config,
    make_real_env,
)
from hilserl_bench.real.cameras import ThreadedCamera, crop_and_resize
from hilserl_bench.real.commands import BenchEnvHttpCmd, CalibrateCmd, ServeSimCmd

TASK = "ram_insertion"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "robot_config.example.json"
DOWN = np.array([0.0, 0.0, -1.0, 0.0, 0.0, 0.0])


@pytest.fixture
def emulator():
    running = []

    def start(mode: str = "step"):
        core = EmulatorCore(TASK, EmulatorConfig(time_model=mode))
        server = serve_in_thread(create_app(core))
        running.append((server, core))
        return server, core

    yield start
    for server, core in running:
        server.stop()
        core.close()


@pytest.fixture
def fake_server():
    running = []

    def start(app: Flask) -> str:
        running.append(serve_in_thread(app))
        return running[-1].url

    yield start
    for server in running:
        server.stop()


def real_env(url: str, obs_mode: str = "state", **config):
    return hilserl_bench.make(TASK, backend="real", obs_mode=obs_mode, robot_url=url,
                              config={"emulator": True, **config})


def trace(env, seed: int, steps: int) -> np.ndarray:
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    poses = [obs["state"]["tcp_pose"]]
    for _ in range(steps):
        obs, _, term, trunc, _ = env.step(rng.uniform(-1, 1, env.action_space.shape))
        poses.append(obs["state"]["tcp_pose"])
        if term or trunc:
            break
    return np.array(poses, dtype=np.float64)


def success_rate(env, seeds) -> float:
    expert, wins = make_expert(env, noise=0.05), 0
    for seed in seeds:
        obs, _ = env.reset(seed=seed)
        expert.reset(np.random.default_rng(seed))
        for _ in range(env.unwrapped.task.config.max_steps):
            obs, _, term, trunc, info = env.step(expert.act(obs))
            if term or trunc:
                break
        wins += info["succeed"]
    return wins / len(seeds)


@pytest.mark.parametrize("obs_mode", ["state", "pixels"])
def test_env_checker_over_http(emulator, obs_mode):
    server, _ = emulator()
    env = real_env(server.url, obs_mode)
    check_env(env, skip_render_check=True)
    assert env.observation_space == hilserl_bench.make(TASK, obs_mode=obs_mode).observation_space
    env.close()


def test_seeded_determinism_and_agreement_with_sim(emulator):
    server, _ = emulator()
    http, sim = real_env(server.url), hilserl_bench.make(TASK, obs_mode="state")
    a, b, c = trace(http, 3, 40), trace(http, 3, 40), trace(sim, 3, 40)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[0], trace(http, 4, 0)[0])
    diff = float(np.abs(a[:, :3] - c[:, :3]).max())
    print(f"max TCP position difference sim vs HTTP over {len(a)} steps: {diff:.3g} m")
    assert a.shape == c.shape and diff < 1e-6
    http.close()


def test_expert_success_over_http_matches_sim(emulator):
    server, _ = emulator()
    seeds = range(4)
    sim_rate = success_rate(hilserl_bench.make(TASK, obs_mode="state"), seeds)
    http_rate = success_rate(real_env(server.url), seeds)
    print(f"expert success: sim {sim_rate:.2f}, HTTP {http_rate:.2f}")
    assert abs(sim_rate - http_rate) <= 0.05 and http_rate >= 0.75


def test_server_not_running_fails_fast():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = real_env(f"http://127.0.0.1:{port}/", timeout_s=0.5)
    start = time.monotonic()
    with pytest.raises(RobotConnectionError, match=f"127.0.0.1:{port}/getstate is unreachable"):
        env.reset(seed=0)
    assert time.monotonic() - start < 1.5


def test_server_killed_mid_episode_raises_and_keeps_data(emulator):
    server, _ = emulator()
    env = real_env(server.url, timeout_s=0.5)
    kept = [env.reset(seed=0)[0]] + [env.step(np.zeros(6))[0] for _ in range(3)]
    server.kill()
    start = time.monotonic()
    with pytest.raises(RobotConnectionError):
        env.step(np.zeros(6))
    assert time.monotonic() - start < 1.5
    assert len(kept) == 4 and all(np.all(np.isfinite(o["state"]["tcp_pose"])) for o in kept)
    env.close()


def test_malformed_answers_name_the_problem(fake_server):
    good = {"pose": [0.5, 0, 0.1, 1, 0, 0, 0], "vel": [0] * 6, "force": [0] * 3, "torque": [0] * 3, "q": [0] * 7,
            "dq": [0] * 7, "jacobian": [[0] * 7] * 6, "gripper_pos": 1.0}
    answer = {}
    app = Flask("bad")
    app.add_url_rule("/getstate", "getstate", lambda: Response(answer["value"], mimetype="application/json"),
                     methods=["POST"])
    url = fake_server(app)
    client = RobotClient(url, timeout_s=1.0)
    cases = [("Moved", "non-JSON"), ([1, 2], "expected a JSON object"),
             ({k: v for k, v in good.items() if k != "vel"}, r"lacks field\(s\) \['vel'\]"),
             ({**good, "pose": [0.0] * 6}, r"'pose' has shape \(6,\), expected \(7,\)"),
             ({**good, "gripper_pos": "open"}, "'gripper_pos' is not numeric"),
             (json.dumps({**good, "force": [0.0, 1.0, 0.0]}).replace("1.0", "1e999"), "'force' holds non-finite")]
    for body, message in cases:
        answer["value"] = body if isinstance(body, str) else json.dumps(body)
        with pytest.raises(RobotProtocolError, match=message):
            client.read_state()
    answer["value"] = json.dumps({k: v for k, v in good.items() if k != "q"})
    with pytest.raises(RobotProtocolError, match="'q'"):
        real_env(url).reset(seed=0)


def test_slow_server_times_out_and_retries_only_reads(fake_server):
    calls = {"getstate": 0, "pose": 0}
    app = Flask("slow")

    def slow(name):
        calls[name] += 1
        time.sleep(0.6)
        return "late"

    app.add_url_rule("/getstate", "getstate", lambda: slow("getstate"), methods=["POST"])
    app.add_url_rule("/pose", "pose", lambda: slow("pose"), methods=["POST"])
    client = RobotClient(fake_server(app), timeout_s=0.15, read_retries=1)
    start = time.monotonic()
    with pytest.raises(RobotTimeoutError, match="did not answer within 0.15 s"):
        client.read_state()
    with pytest.raises(RobotTimeoutError):
        client.set_pose(np.array([0.5, 0, 0.1, 1, 0, 0, 0]))
    assert time.monotonic() - start < 1.0
    assert calls == {"getstate": 2, "pose": 1}


def test_injected_error_is_cleared_by_clearerr(emulator):
    server, core = emulator()
    env = real_env(server.url)
    env.reset(seed=0)
    requests.post(server.url + "sim/inject_error", json={"kind": "cartesian_reflex"}, timeout=2)
    raw = RobotClient(server.url)
    state, flags = raw.read_state()
    assert flags.error == "cartesian_reflex"
    raw.set_pose(state.pose + np.array([0, 0, -0.01, 0, 0, 0, 0]))
    held, _ = raw.read_state()
    assert abs(held.pose[2] - state.pose[2]) < 5e-4, "a controller in error ignores /pose"
    obs, *_ = env.step(DOWN)
    assert env.unwrapped.backend.arms[0].flags.error is None
    assert obs["state"]["tcp_pose"][2] < held.pose[2] - 1e-3
    assert core.requests["clearerr"] >= 1


def test_estop_ends_episode_and_holds_arm(emulator):
    server, _ = emulator()
    env = real_env(server.url)
    env.reset(seed=0)
    env.step(np.zeros(6))
    requests.post(server.url + "sim/estop", json={"engaged": True}, timeout=2)
    obs, _, terminated, truncated, info = env.step(DOWN)
    assert terminated and not truncated and info["estop"]
    raw, held = RobotClient(server.url), obs["state"]["tcp_pose"]
    for _ in range(3):
        raw.set_pose(held - np.array([0, 0, 0.02, 0, 0, 0, 0]))
    assert np.abs(raw.read_state()[0].pose[:3] - held[:3]).max() < 5e-4
    with pytest.raises(RobotEStopError):
        env.step(np.zeros(6))
    with pytest.raises(RobotEStopError, match="release it"):
        env.reset(seed=1)
    requests.post(server.url + "sim/estop", json={"engaged": False}, timeout=2)
    assert env.reset(seed=1)[1]["estop"] is False


def test_pacing_keeps_rate_and_reports_overruns(emulator):
    server, _ = emulator()
    env = real_env(server.url, pace=True)
    env.reset(seed=0)
    start = time.monotonic()
    infos = [env.step(np.zeros(6))[-1] for _ in range(3)]
    assert 0.25 < time.monotonic() - start < 0.45 and all(i["overrun_s"] == 0.0 for i in infos)
    time.sleep(0.25)
    assert env.step(np.zeros(6))[-1]["overrun_s"] > 0.1
    start = time.monotonic()
    assert env.step(np.zeros(6))[-1]["overrun_s"] == 0.0
    assert 0.05 < time.monotonic() - start < 0.2, "after an overrun the schedule restarts instead of bursting"


def test_safety_checks_before_sending(emulator):
    server, core = emulator()
    env = real_env(server.url)
    env.reset(seed=0)
    arm, target = env.unwrapped.backend.arms[0], core.sim.arms[0].controller
    measured = arm.get_state().pose
    np.testing.assert_array_equal(arm.reference, measured)
    sent = core.requests.get("pose", 0)
    with pytest.raises(ValueError, match="refusing"):
        arm.set_pose(np.where(np.arange(7) == 0, np.nan, measured))
    assert core.requests.get("pose", 0) == sent
    arm.set_pose(measured + np.array([0.04, 0, 0, 0, 0, 0, 0]))
    assert arm.box.contains(target.target) and target.target[0] <= arm.box.high[0] + 1e-9
    arm.config = arm.config.replace(max_step_translation=0.002, max_step_rotation=0.01)
    arm.reference = measured.copy()
    arm.set_pose(measured - np.array([0, 0, 0.008, 0, 0, 0, 0]))
    assert np.linalg.norm(target.target[:3] - measured[:3]) == pytest.approx(0.002)
    arm.reference = measured.copy()
    arm.set_pose(np.concatenate([measured[:3], geo.quat_mul(geo.euler_to_quat([0, 0, 0.1]), measured[3:])]))
    assert np.linalg.norm(geo.orientation_error(measured[3:], target.target[3:])) == pytest.approx(0.01)


def test_hardware_reset_path(emulator, caplog):
    server, core = emulator("wall")
    env = hilserl_bench.make(TASK, backend="real", obs_mode="state", robot_url=server.url,
                             config={"reset_move_s": 0.5, "reset_settle_s": 0.3, "jointreset_every": 2})
    backend, task = env.unwrapped.backend, env.unwrapped.task
    plan = task.reset_plan(np.random.default_rng(5))
    with caplog.at_level(logging.INFO, logger="hilserl_bench.real.backend"):
        backend.reset(plan, task.reset_params, task.episode_params, np.random.default_rng(5))
    assert "left to the person" in caplog.text and backend.scene_state() is None
    assert core.requests["update_param"] == 2 and core.requests["pose"] == 10 and "jointreset" not in core.requests
    assert core.params[0] == task.episode_params and core.sim.arms[0].gripper_closed
    assert np.linalg.norm(backend.arms[0].get_state().pose[:3] - plan.tcp_pose[:3]) < 5e-3
    backend.reset(plan, task.reset_params, task.episode_params, np.random.default_rng(5))
    assert core.requests["jointreset"] == 1
    env.close()


def test_update_param_clamps_like_the_parameter_server(emulator):
    server, core = emulator()
    client = RobotClient(server.url)
    client.update_params({"translational_stiffness": 7000.0, "rotational_clip_x": 0.02})
    assert core.params[0].translational_stiffness == 6000.0 and core.params[0].rotational_clip_x == 0.02
    with pytest.raises(RobotCommandError, match="HTTP 400.*unknown parameter.*stiffnes"):
        client.update_params({"stiffnes": 1.0})


def test_config_file_and_calibrate(emulator, tmp_path, capsys):
    example = load_config(EXAMPLE)
    assert example.cameras["wrist_1"].serial and example.tasks[TASK].crops["wrist_1"] == [150, 450, 150, 450]
    with pytest.raises(ValueError, match="unknown key.*timeot_s"):
        load_config({"timeot_s": 1.0})
    server, core = emulator()
    path = tmp_path / "robot.json"
    assert CalibrateCmd(task=TASK, robot_url=server.url, config=path).run() == 0
    written = np.array(json.loads(path.read_text())["tasks"][TASK]["target_pose"])
    np.testing.assert_allclose(written, core.sim.arms[0].tcp_pose(), atol=1e-6)
    env, sim_task = hilserl_bench.make(TASK, backend="real", config=path), RamInsertion()
    shift = written[:3] - sim_task.target_pose[:3]
    np.testing.assert_allclose(env.unwrapped.task.target_pose[:3], written[:3])
    np.testing.assert_allclose(env.unwrapped.task.safety_box.low[:3], sim_task.safety_box.low[:3] + shift)
    np.testing.assert_allclose(env.unwrapped.task.reset_pose[:3], sim_task.reset_pose[:3] + shift, atol=1e-6)
    assert ServeSimCmd(task=TASK, host="0.0.0.0").run() == 2
    assert "--allow-remote" in capsys.readouterr().err


def test_cameras_fail_clearly_within_bounded_time():
    release = threading.Event()

    class Source:
        def __init__(self, frames: int, fail: bool = False, gate: threading.Event = release):
            self.left, self.fail, self.gate = frames, fail, gate

        def read(self):
            if self.left == 0:
                if self.fail:
                    raise OSError("USB device gone")
                self.gate.wait(5)
            self.left -= 1
            return np.full((40, 60, 3), 200, np.uint8)

        def close(self):
            pass

    cam = ThreadedCamera("wrist_1", lambda: Source(3), crop=(0, 32, 0, 32), size=16, stall_s=0.2).start()
    assert cam.read().shape == (16, 16, 3)
    time.sleep(0.3)
    with pytest.raises(CameraError, match="'wrist_1' stalled"):
        cam.read()
    release.set()
    cam.close()
    dead = ThreadedCamera("wrist_2", lambda: Source(1, fail=True), None, 16, stall_s=1.0).start()
    time.sleep(0.05)
    with pytest.raises(CameraError, match="'wrist_2' disconnected: USB device gone"):
        dead.read()
    start, never = time.monotonic(), threading.Event()
    with pytest.raises(CameraError, match="no frame within 0.2 s"):
        ThreadedCamera("side", lambda: Source(0, gate=never), None, 16, start_s=0.2).start()
    assert time.monotonic() - start < 1.5
    never.set()
    frame = np.zeros((4, 8, 3), np.uint8)
    frame[:, 4:] = 100
    np.testing.assert_array_equal(crop_and_resize(frame, None, 2)[:, :, 0], [[0, 100], [0, 100]])


def test_dual_arm_routes_actions_and_prefixes_keys(emulator):
    (left, _), (right, _) = emulator(), emulator()

    class DualRam(RamInsertion):
        arms = ("left", "right")

    env = make_real_env(DualRam(), "state", robot_url={"left": left.url, "right": right.url},
                        config={"emulator": True})
    assert env.action_space.shape == (12,)
    obs, _ = env.reset(seed=0)
    x0 = obs["state"]["left/tcp_pose"][0], obs["state"]["right/tcp_pose"][0]
    for _ in range(2):
        obs, *_ = env.step(np.r_[1.0, 0, 0, 0, 0, 0, -1.0, 0, 0, 0, 0, 0])
    assert obs["state"]["left/tcp_pose"][0] > x0[0] + 2e-3 and obs["state"]["right/tcp_pose"][0] < x0[1] - 2e-3
    env.close()


def test_bench_env_http_command(capsys):
    assert BenchEnvHttpCmd(task=TASK, steps=10, json=True).run() == 0
    result = json.loads(capsys.readouterr().out)
    assert result["http_steps_per_s"] > 0 and "added_latency_ms" in result


def test_six_value_poses_and_the_official_pitch_flip():
    """Official configs write Euler poses and convert them with pitch negated; the flag reproduces that."""
    from hilserl_bench.real.config import TaskCalibration, calibrated_task

    six = [0.5, 0.0, 0.05, np.pi, 0.1, 0.0]
    standard = calibrated_task(RamInsertion(), TaskCalibration(target_pose=tuple(six))).target_pose
    flipped = calibrated_task(RamInsertion(), TaskCalibration(target_pose=tuple(six),
                                                              official_euler_pitch_flip=True)).target_pose
    np.testing.assert_allclose(geo.quat_to_euler(standard[3:])[1], 0.1, atol=1e-9)
    np.testing.assert_allclose(geo.quat_to_euler(flipped[3:])[1], -0.1, atol=1e-9)
    np.testing.assert_allclose(standard[:3], flipped[:3])


def test_info_keys_match_the_sim_backend(emulator):
    """Nothing above the backend changes: reset and step info carry the same keys through HTTP."""
    server, _ = emulator()
    env = real_env(server.url)
    sim = hilserl_bench.make(TASK, obs_mode="state")
    for e in (env, sim):
        e.reset(seed=0)
    real_step = env.step(np.zeros(6))[4]
    sim_step = sim.step(np.zeros(6))[4]
    assert set(real_step) == set(sim_step), set(real_step) ^ set(sim_step)
    assert real_step["estop"] is False and sim_step["overrun_s"] == 0.0
    env.close()
    sim.close()
