"""The emulator answers the official client's requests the way the real Franka server does."""

from __future__ import annotations

import time

import numpy as np
import pytest
import requests

from hilserl_bench import geometry as geo
from hilserl_bench.envs import franka_model as fm
from hilserl_bench.envs.emulator import EmulatorConfig, EmulatorCore
from hilserl_bench.envs.emulator_app import create_app, serve_in_thread
from hilserl_bench.envs.tasks.ram_insertion import RamInsertion
from hilserl_bench.real.official import OFFICIAL_PARAMS, RAM_COMPLIANCE, RAM_PRECISION, official_euler_helper
from hilserl_bench.robot_types import ImpedanceParams


@pytest.fixture
def served():
    running = []

    def start(mode: str = "step"):
        core = EmulatorCore("ram_insertion", EmulatorConfig(time_model=mode))
        server = serve_in_thread(create_app(core))
        running.append((server, core))
        return server.url, core

    yield start
    for server, core in running:
        server.stop()
        core.close()


def _post(url: str, endpoint: str, body=None) -> requests.Response:
    return requests.post(url + endpoint, json=body, timeout=30)


@pytest.mark.parametrize("name", sorted(OFFICIAL_PARAMS))
def test_official_dicts_are_clamped_and_applied(served, name):
    url, core = served()
    sent = OFFICIAL_PARAMS[name]
    answer = _post(url, "update_param", sent)
    assert answer.status_code == 200 and answer.text == "Updated compliance parameters"
    expected = {k: min(float(v), 0.1) if "clip" in k else float(v) for k, v in sent.items()}
    assert core.params[0].to_dict() == {**ImpedanceParams().to_dict(), **expected}
    assert core.sim.arms[0].controller.params == core.params[0]
    clamped = sorted(k for k, v in sent.items() if "clip" in k and v > 0.1)
    assert sorted(filter(None, answer.headers.get("X-Clamped-Params", "").split(","))) == clamped


def test_precision_dict_clamps_rotational_clips_to_the_range(served):
    url, core = served()
    assert _post(url, "update_param", RAM_PRECISION).status_code == 200
    pos, neg = core.params[0].rotational_clip()
    np.testing.assert_array_equal(np.concatenate([pos, neg]), 0.1)
    assert core.params[0].rotational_stiffness == 250.0
    assert _post(url, "update_param", {"translational_stiffness": 7000, "rotational_damping": -3}).status_code == 200
    assert core.params[0].translational_stiffness == 6000.0 and core.params[0].rotational_damping == 0.0


def test_bad_update_param_names_the_key_and_applies_nothing(served):
    url, core = served()
    before = core.params[0]
    answer = _post(url, "update_param", {"translational_stiffness": 1000, "stiffnes": 1})
    assert answer.status_code == 400 and "stiffnes" in answer.text
    answer = _post(url, "update_param", {"rotational_clip_x": "wide"})
    assert answer.status_code == 400 and "rotational_clip_x" in answer.text
    assert _post(url, "update_param", [1, 2]).status_code == 400
    assert core.params[0] == before


def _stick_in_tcp(url: str) -> np.ndarray:
    tcp = np.array(_post(url, "getstate").json()["pose"])
    stick = np.array(_post(url, "sim/scene_state").json()["poses"]["ram_stick"])
    return geo.pose_compose(geo.pose_inverse(tcp), stick)


def test_jointreset_is_a_move_that_carries_the_held_stick(served):
    url, core = served()
    _post(url, "update_param", RAM_PRECISION)
    start = _post(url, "getstate").json()
    held = _stick_in_tcp(url)
    answer = _post(url, "jointreset")
    assert answer.status_code == 200 and answer.text == "Reset Joint"
    end = _post(url, "getstate").json()
    assert end["time"] - start["time"] >= 2.0, "a joint move lasts simulated seconds, not a teleport"
    np.testing.assert_allclose(end["q"], fm.HOME_QPOS, atol=5e-3)
    assert np.abs(end["dq"]).max() < 1e-2
    assert np.linalg.norm(np.subtract(end["pose"][:3], start["pose"][:3])) > 0.1
    now = _stick_in_tcp(url)
    assert np.linalg.norm(now[:3] - held[:3]) < 3e-3, "the stick must stay in the grasp"
    assert np.linalg.norm(geo.orientation_error(held[3:], now[3:])) < 0.05
    assert core.params[0].rotational_clip_x == 0.1 and core.sim.arms[0].controller.params == core.params[0]
    for _ in range(5):
        _post(url, "clearerr")
        _post(url, "pose", {"arr": end["pose"]})
    settled = _post(url, "getstate").json()
    assert np.linalg.norm(np.subtract(settled["pose"][:3], end["pose"][:3])) < 2e-3, "impedance control resumes"


def test_jointreset_blocks_in_wall_time(served):
    url, core = served("wall")
    started = time.monotonic()
    assert _post(url, "jointreset").status_code == 200
    assert time.monotonic() - started >= core.config.joint_move.min_duration_s


def test_ram_reset_pose_is_where_the_official_client_sends_the_arm():
    task = RamInsertion()
    official_six = geo.pose_to_6d(task.target_pose) + np.array([0.0, 0.0, 0.05, 0.0, 0.05, 0.0])
    sent = official_euler_helper(official_six[3:])
    ours = task.reset_pose
    np.testing.assert_allclose(ours[:3], official_six[:3])
    assert abs(abs(float(np.dot(sent, ours[3:]))) - 1.0) < 1e-9
    assert geo.quat_to_euler(ours[3:])[1] == pytest.approx(-0.05)
    assert geo.quat_to_euler(geo.euler_to_quat(official_six[3:]))[1] == pytest.approx(0.05), "the naive reading"
    rng = np.random.default_rng(0)
    for _ in range(5):
        pose = task.sample_reset_pose(rng)
        assert geo.quat_to_euler(pose[3:])[1] == pytest.approx(-0.05)


def test_ram_compliance_matches_the_official_dict():
    expected = ImpedanceParams(**{k: float(v) for k, v in RAM_COMPLIANCE.items()})
    assert RamInsertion().episode_params == expected
