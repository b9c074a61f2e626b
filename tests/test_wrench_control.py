"""The wrench-controlled arm against the official server's numbers, and the same arm over HTTP."""

import mujoco
import numpy as np
import pytest
import requests

import hilserl_bench
from hilserl_bench import geometry as geo
from hilserl_bench.devices.events import Twist
from hilserl_bench.envs.emulator import EmulatorConfig
from hilserl_bench.envs.emulator_app import serve_in_thread
from hilserl_bench.envs.emulator_wrench import WrenchEmulatorCore, app_for, emulator_for
from hilserl_bench.wrappers._arms import arm_slots
from hilserl_bench.wrappers.human_intervention import assemble_action

TASK = "object_flipping"


@pytest.fixture(scope="module")
def env():
    env = hilserl_bench.make(TASK, obs_mode="state")
    yield env
    env.close()


def chunked(backend, seconds: float, chunk: int = 5):
    """Step the cell in refresh chunks, yielding after each (time since episode start, controller)."""
    m, d = backend.model, backend.data
    arm = backend.arms[0]
    for _ in range(round(seconds / (chunk * m.opt.timestep))):
        arm.controller.refresh(d, chunk * m.opt.timestep)
        mujoco.mj_step(m, d, nstep=chunk)
        yield arm.controller


def place_tcp(backend, pose: np.ndarray) -> None:
    """Teleport the arm so the TCP sits at ``pose`` (IK), at rest, and recompute everything."""
    m, d = backend.model, backend.data
    arm = backend.arms[0]
    d.qpos[arm.qpos_addrs] = arm.solve_ik(pose, d.qpos[arm.qpos_addrs].copy())
    d.qvel[:] = 0.0
    mujoco.mj_forward(m, d)
    arm.controller.refresh(d, 0.01)
    mujoco.mj_forward(m, d)


def test_action_maps_through_the_task_wrench_scale_and_obs_has_joints(env):
    obs, _ = env.reset(seed=0)
    assert env.unwrapped.action_names == ("fx", "fz", "ty")
    assert obs["state"]["q"].shape == (7,) and obs["state"]["dq"].shape == (7,)
    env.step(np.array([0.5, -0.25, 1.0]))
    np.testing.assert_allclose(env.unwrapped.backend.arms[0].controller.commanded, [6.5, 0, -3.0, 0, 3.5, 0])


def test_per_component_clip_and_extra_clamps(env):
    env.reset(seed=0)
    backend = env.unwrapped.backend
    arm = backend.arms[0]
    arm.set_wrench(np.array([50.0, -50.0, -50.0, 10.0, 10.0, -10.0]))
    forces = [c.applied_wrench(backend.data) for c in chunked(backend, 0.09)]
    np.testing.assert_allclose(forces[-1], [20.0, -20.0, -1.0, 5.0, 1.5, -5.0], rtol=1e-3)
    arm.set_wrench(np.array([-50.0, 50.0, 50.0, -10.0, -10.0, 10.0]))
    forces = [c.applied_wrench(backend.data) for c in chunked(backend, 0.09)]
    np.testing.assert_allclose(forces[-1], [-20.0, 20.0, 20.0, -5.0, -5.0, 5.0], rtol=3e-3)


def test_torque_rate_filter_shapes_a_step(env):
    env.reset(seed=0)
    backend = env.unwrapped.backend
    backend.arms[0].set_wrench(np.array([20.0, 0, 0, 0, 0, 0]))
    forces = [c.applied_wrench(backend.data)[0] for c in chunked(backend, 0.006, chunk=1)]
    tau = 20.0 * 0.6 / 1000.0
    assert forces[1] == pytest.approx(20.0 * (1 - np.exp(-0.002 / tau)), rel=1e-6)
    assert forces[1] * 0.6 / 0.002 <= 1000.0 * 1.05, "the first tick's torque step exceeds 1 N m per ms at 0.6 m"


def test_wrench_dropped_after_the_command_timeout(env):
    env.reset(seed=0)
    backend = env.unwrapped.backend
    wrench = np.array([5.0, 0.0, 4.0, 0.0, -1.0, 0.0])
    backend.arms[0].set_wrench(wrench)
    start = backend.data.time
    ctrl = backend.model.actuator("wrench_ff_x").id
    ages = []
    for _ in chunked(backend, 0.2):
        ages.append((backend.data.time - start, backend.data.ctrl[ctrl]))
    held = [c for age, c in ages if age <= 0.1 + 1e-9]
    dropped = [c for age, c in ages if age > 0.1 + 1e-9]
    assert all(c == pytest.approx(5.0) for c in held) and all(c == 0.0 for c in dropped)
    env.step(np.zeros(3))
    assert backend.data.ctrl[ctrl] == 0.0


def test_box_pd_leaves_free_axes_free_and_clips_errors(env):
    env.reset(seed=0)
    backend = env.unwrapped.backend
    server = env.unwrapped.task.wrench_server
    centre, down = server.box_centre, np.array([1.0, 0.0, 0.0, 0.0])
    pose = np.concatenate([centre + [0.05, 0.0, 0.03], geo.quat_mul(geo.euler_to_quat([0.1, 0.1, 0.0]), down)])
    place_tcp(backend, pose)
    pd = backend.arms[0].controller.pd_wrench(backend.data)
    assert pd[0] == pytest.approx(-200.0 * 0.03, rel=1e-6)
    assert pd[2] == 0.0 and pd[4] == 0.0
    assert abs(pd[3]) == pytest.approx(50.0 * 0.06, rel=1e-6)
    small = np.concatenate([centre + [0.01, 0.0, 0.0], down])
    place_tcp(backend, small)
    assert backend.arms[0].controller.pd_wrench(backend.data)[0] == pytest.approx(-200.0 * 0.01, rel=2e-2)


def test_outside_the_box_only_the_pd_pulls_back(env):
    env.reset(seed=0)
    backend = env.unwrapped.backend
    arm = backend.arms[0]
    centre = env.unwrapped.task.wrench_server.box_centre
    place_tcp(backend, np.concatenate([centre + [0.0, 0.0, 0.15], [1.0, 0.0, 0.0, 0.0]]))
    arm.set_wrench(np.array([0.0, 0.0, 12.0, 0.0, 0.0, 0.0]))
    arm.controller.refresh(backend.data, 0.01)
    mujoco.mj_forward(backend.model, backend.data)
    assert arm.controller.outside and np.all(backend.data.ctrl[arm.controller._ff] == 0.0)
    assert arm.controller.pd_wrench(backend.data)[2] == pytest.approx(-200.0 * 0.03, rel=1e-6)
    z0 = arm.tcp_pose()[2]
    for _ in chunked(backend, 1.0):
        pass
    assert arm.tcp_pose()[2] < z0 - 0.05, "the box PD did not pull the arm back toward the box"


def test_device_twist_maps_onto_the_wrench_axes(env):
    slots = arm_slots(env)
    action = assemble_action([Twist(arm=0, values=(0.5, 0.9, -0.3, 0.8, 0.7, 0.6))], slots, 3)
    np.testing.assert_allclose(action.action, [0.5, -0.3, 0.7])


@pytest.fixture
def wrench_server():
    core = emulator_for(TASK, EmulatorConfig(time_model="step"))
    server = serve_in_thread(app_for(core))
    yield server, core
    server.stop()
    core.close()


def test_emulator_serves_the_wrench_variant(wrench_server):
    server, core = wrench_server
    assert isinstance(core, WrenchEmulatorCore)
    for route in ("pose", "update_param", "jointreset"):
        assert requests.post(server.url + route, json={"arr": [0] * 7}, timeout=5).status_code == 404
    assert requests.post(server.url + "wrench", json={"arr": [1, 2]}, timeout=5).status_code == 400
    assert requests.post(server.url + "wrench", json={"arr": [1, 0, 2, 0, 0, 0]}, timeout=5).text == "Wrench"
    assert requests.post(server.url + "reset", timeout=10).status_code == 200
    assert core.sim.arms[0].controller.mode == "wrench"


def test_sim_and_http_trajectories_agree(wrench_server):
    server, _ = wrench_server
    http = hilserl_bench.make(TASK, backend="real", obs_mode="state", robot_url=server.url, config={"emulator": True})
    sim = hilserl_bench.make(TASK, obs_mode="state")
    traces = []
    for env in (http, sim):
        obs, _ = env.reset(seed=3)
        rng = np.random.default_rng(3)
        poses = [obs["state"]["tcp_pose"]]
        for _ in range(15):
            obs, *_ = env.step(rng.uniform(-1, 1, 3))
            poses.append(np.concatenate([obs["state"]["tcp_pose"], obs["task"]["egg_in_pan"]]))
        traces.append(np.array(poses[1:], dtype=np.float64))
    diff = float(np.abs(traces[0] - traces[1]).max())
    print(f"max pose difference sim vs HTTP over 15 steps: {diff:.3g}")
    assert diff < 1e-6
    assert float(np.abs(traces[1][-1, :3] - traces[1][0, :3]).max()) > 0.01, "random wrenches did not move the arm"
    http.close()
    sim.close()


def test_hardware_reset_path_speaks_only_the_wrench_routes(wrench_server):
    from hilserl_bench.real import RealBackend, RobotConfig
    from hilserl_bench.robot_types import ImpedanceParams

    server, core = wrench_server
    task = hilserl_bench.task_class(TASK)()
    backend = RealBackend(task, RobotConfig(robot_urls={"arm": server.url}, reset_settle_s=0.0))
    backend.reset(task.reset_plan(np.random.default_rng(0)), ImpedanceParams(), ImpedanceParams(),
                  np.random.default_rng(0))
    assert core.requests.get("reset") == 1
    assert not any(core.requests.get(route) for route in ("pose", "update_param", "jointreset"))
    backend.arms[0].set_wrench(np.array([100.0, 0.0, -100.0, 0.0, 9.0, 0.0]))
    np.testing.assert_allclose(core.sim.arms[0].controller.commanded, [20.0, 0.0, -1.0, 0.0, 1.5, 0.0])
    with pytest.raises(ValueError, match="finite"):
        backend.arms[0].set_wrench(np.array([np.nan, 0, 0, 0, 0, 0]))
    backend.close()
