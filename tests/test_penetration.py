"""Per-physics-step penetration: the sensor history must equal a step-by-step reading of the contact array."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

import hilserl_bench
from hilserl_bench.envs.experts import make_expert
from hilserl_bench.envs.penetration import PenetrationMeter, add_penetration_sensors, deepest_in_contacts
from hilserl_bench.envs.sim_backend import SimConfig

TASKS = hilserl_bench.tasks()


def _reference_step(backend, record: list[float]):
    """A wait_for_next_step that steps one physics step at a time and reads the contact array after each."""

    def step() -> dict[str, float]:
        deepest = 0.0
        for i, n in enumerate(backend._chunks):
            for arm in backend.arms:
                arm.controller.refresh(backend.data, n * backend.config.physics_dt, new_period=i == 0)
            for _ in range(n):
                mujoco.mj_step(backend.model, backend.data)
                deepest = max(deepest, deepest_in_contacts(backend.data, backend._fit_a, backend._fit_b))
        record.append(deepest)
        return {"overrun_s": 0.0}

    return step


@pytest.mark.parametrize("task_id", TASKS)
def test_sensor_history_equals_step_by_step_contacts(task_id):
    """Same actions in two envs: the measured one must report exactly the reference's per-step maximum."""
    measured = hilserl_bench.make(task_id, obs_mode="state")
    reference = hilserl_bench.make(task_id, obs_mode="state", sim_config=SimConfig(track_penetration=False))
    record: list[float] = []
    reference.unwrapped.backend.wait_for_next_step = _reference_step(reference.unwrapped.backend, record)
    obs, _ = measured.reset(seed=2)
    reference.reset(seed=2)
    expert = make_expert(measured, noise=0.3)
    expert.reset(np.random.default_rng(2))
    reported = []
    for _ in range(measured.unwrapped.task.config.max_steps):
        action = expert.act(obs)
        obs, _, term, trunc, info = measured.step(action)
        ref_obs, *_ = reference.step(action)
        np.testing.assert_array_equal(obs["state"]["tcp_pose"], ref_obs["state"]["tcp_pose"])
        reported.append(info["penetration"])
        if term or trunc:
            break
    np.testing.assert_allclose(reported, record, rtol=0, atol=1e-12)
    assert max(record) > 0.0, "the episode should touch the tight fit at least once"
    measured.close()
    reference.close()


def test_untracked_backend_reports_nan():
    env = hilserl_bench.make("ram_insertion", obs_mode="state", sim_config=SimConfig(track_penetration=False))
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.zeros(env.action_space.shape))
    assert np.isnan(info["penetration"])
    env.close()


def test_sensors_cover_whole_bodies_or_single_geoms():
    """A body whose colliding geoms all belong to the group gets one sensor; a mixed body gets one per geom."""
    spec = mujoco.MjSpec()
    a = spec.worldbody.add_body(name="a", pos=[0, 0, 0.1])
    a.add_freejoint()
    for name, x in (("a1", -0.05), ("a2", 0.05)):
        a.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.04, 0.04, 0.04], pos=[x, 0, 0])
    b = spec.worldbody.add_body(name="b")
    b.add_geom(name="b1", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.2, 0.2, 0.05], pos=[0, 0, 0.0])
    b.add_geom(name="b_other", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.01, 0.01, 0.01], pos=[1, 0, 0])
    names = add_penetration_sensors(spec, ("a1", "a2"), ("b1",), samples=5)
    model = spec.compile()
    assert len(names) == 1 and model.sensor(names[0]).objtype[0] == mujoco.mjtObj.mjOBJ_BODY
    assert model.sensor(names[0]).reftype[0] == mujoco.mjtObj.mjOBJ_GEOM
    data = mujoco.MjData(model)
    data.qpos[2] = 0.05 + 0.04 - 0.002
    mujoco.mj_forward(model, data)
    meter = PenetrationMeter(model, names)
    assert meter.current(data) == pytest.approx(0.002, abs=1e-9)
    with pytest.raises(ValueError, match="not in the model"):
        add_penetration_sensors(mujoco.MjSpec(), ("nope",), ("b1",), samples=5)


def test_rollout_reports_the_backends_episode_maximum():
    """``max_penetration`` of a rollout is the backend's own max over every physics step of the episode."""
    from hilserl_bench.rollout import run_episode, summarize

    env = hilserl_bench.make("ram_insertion", obs_mode="state")
    result = run_episode(env, make_expert(env, noise=0.2), seed=4)
    deepest = env.unwrapped.backend.max_penetration
    assert deepest > 0.0 and result.max_penetration == deepest
    assert summarize([result])["max_penetration_mm"] == pytest.approx(1000.0 * deepest)
    env.close()


def test_emulator_reports_the_same_per_step_penetration_as_the_sim():
    """Over HTTP (serve-sim, step mode) ``info["penetration"]`` is the emulator's per-physics-step maximum."""
    from hilserl_bench.envs.emulator import EmulatorConfig, EmulatorCore
    from hilserl_bench.envs.emulator_app import create_app, serve_in_thread

    core = EmulatorCore("ram_insertion", EmulatorConfig(time_model="step"))
    server = serve_in_thread(create_app(core))
    try:
        http = hilserl_bench.make("ram_insertion", backend="real", obs_mode="state", robot_url=server.url,
                                  config={"emulator": True})
        sim = hilserl_bench.make("ram_insertion", obs_mode="state")
        traces = []
        for env in (sim, http):
            obs, _ = env.reset(seed=3)
            expert = make_expert(env, noise=0.1)
            expert.reset(np.random.default_rng(3))
            pens = []
            for _ in range(env.unwrapped.task.config.max_steps):
                obs, _, term, trunc, info = env.step(expert.act(obs))
                pens.append(info["penetration"])
                if term or trunc:
                    break
            traces.append(np.array(pens))
        assert traces[0].shape == traces[1].shape and traces[0].max() > 0.0
        np.testing.assert_allclose(traces[1], traces[0], rtol=0, atol=1e-6)
        http.close()
    finally:
        server.stop()
        core.close()


def test_bench_env_reports_what_per_step_penetration_costs():
    """``bench env`` times the env with and without the measurement and reports their ratio."""
    from hilserl_bench.bench_env import bench_env, format_bench

    result = bench_env("ram_insertion", steps=8, pixels=False)
    on, off = result.penetration_on_steps_per_s, result.penetration_off_steps_per_s
    assert on is not None and off is not None and on > 0 and off > 0
    assert result.penetration_cost_ratio == pytest.approx(off / on)
    assert "penetration cost" in format_bench(result)
