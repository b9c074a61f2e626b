"""Each disturbance kind changes the state it claims to, at the step it claims to, identically for one seed.

One RAM-insertion env (module scope) serves most checks; a spec with a fixed window
(``window_s=(0.3, 0.3)`` -> onset at env step 3) makes the expected step exact.
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

import hilserl_bench as hb
from hilserl_bench import geometry as geo
from hilserl_bench.cli import main
from hilserl_bench.disturbances import (
    CablePush,
    ForcePulse,
    MoveBody,
    ShiftInGrasp,
    VisualChange,
    event_rng,
    task_disturbances,
)
from hilserl_bench.envs.disturbed_env import DisturbedEnv
from hilserl_bench.envs.sim_backend import SimBackend
from hilserl_bench.errors import UserFacingError

AT_3 = (0.3, 0.3)
"""Onset window pinned to 0.3 s: env step 3 at 10 Hz."""


@pytest.fixture(scope="module")
def ram_env():
    env = hb.make("ram_insertion", obs_mode="state")
    yield env
    env.close()


def _poses(env) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in env.unwrapped.last_scene.poses.items()}


def _run(env, spec, seed: int = 0, steps: int = 6):
    """Scene poses after reset and after each step, the infos, and the wrapper."""
    wrapped = DisturbedEnv(env, "test", spec)
    _, info = wrapped.reset(seed=seed)
    poses, infos = [_poses(wrapped)], [info]
    for _ in range(steps):
        _, _, _, _, info = wrapped.step(np.zeros(env.action_space.shape))
        poses.append(_poses(wrapped))
        infos.append(info)
    wrapped.restore()
    return poses, infos, wrapped


def test_force_pulse_pushes_the_hand_during_its_window_only(ram_env, monkeypatch):
    backend = ram_env.unwrapped.backend
    hand = backend.model.body("hand").id
    seen: list[np.ndarray] = []
    advance = backend.advance
    monkeypatch.setattr(backend, "advance", lambda n: (seen.append(backend.data.xfrc_applied.copy()), advance(n))[1])
    spec = ForcePulse(bodies=("hand",), magnitude_n=(20.0, 20.0), duration_s=0.2, window_s=AT_3)
    _, infos, wrapped = _run(ram_env, spec)
    event = wrapped.event
    assert (event.onset_step, event.steps, event.body) == (3, 2, "hand")
    assert np.linalg.norm(event.vector) == pytest.approx(20.0)
    per_step = np.array(seen).reshape(6, len(backend._chunks), *seen[0].shape)
    for step in range(6):
        expected = np.asarray(event.vector) if step in (3, 4) else np.zeros(3)
        np.testing.assert_allclose(per_step[step, :, hand, :3], np.broadcast_to(expected, (len(backend._chunks), 3)))
        others = np.delete(per_step[step], hand, axis=1)
        assert not others.any(), "only the hand is pushed"
    assert [i["disturbance"] for i in infos[1:]] == ["", "", "", "test", "test", ""]
    assert not backend.data.xfrc_applied.any()


def test_move_body_moves_the_fixed_slot_by_the_drawn_offset_at_its_step(ram_env):
    spec = MoveBody(body="dimm_slot", distance_mm=(4.0, 4.0), window_s=AT_3)
    poses, infos, wrapped = _run(ram_env, spec)
    offset = np.asarray(wrapped.event.vector)
    assert np.linalg.norm(offset) == pytest.approx(0.004)
    moves = [p["dimm_slot"][:3] - q["dimm_slot"][:3] for q, p in zip(poses, poses[1:], strict=False)]
    for step, move in enumerate(moves):
        np.testing.assert_allclose(move, offset if step == 3 else 0.0, atol=1e-12)
    assert infos[4]["disturbance"] == "test" and infos[4]["disturbance_onset_step"] == 3
    model = ram_env.unwrapped.backend.model
    board = model.body_rootid[model.body("dimm_slot").id]
    nominal = SimBackend.build_spec(ram_env.unwrapped.task).compile().body_pos[board]
    np.testing.assert_allclose(model.body_pos[board], nominal)  # restored for the next episode


def test_shift_in_grasp_moves_the_held_stick_along_its_own_axis(ram_env):
    spec = ShiftInGrasp(body="ram_stick", distance_mm=(2.0, 2.0), axes=(0,), window_s=AT_3)
    poses, _, wrapped = _run(ram_env, spec)
    undisturbed, _, _ = _run(ram_env, MoveBody(body="dimm_slot", distance_mm=(0.0, 0.0), window_s=AT_3))
    shift = np.asarray(wrapped.event.vector)
    assert abs(shift[0]) == pytest.approx(0.002) and not shift[1:].any()
    stick, reference = poses[4]["ram_stick"], undisturbed[4]["ram_stick"]
    in_stick_frame = geo.quat_to_mat(reference[3:]).T @ (stick[:3] - reference[:3])
    np.testing.assert_allclose(in_stick_frame, shift, atol=3e-4)
    np.testing.assert_allclose(poses[3]["ram_stick"], undisturbed[3]["ram_stick"], atol=1e-12)


def test_same_seed_same_disturbance_and_trajectory_other_seed_differs(ram_env):
    spec = task_disturbances(type(ram_env.unwrapped.task))["push_ee"]
    a, _, wa = _run(ram_env, spec, seed=5, steps=12)
    b, _, wb = _run(ram_env, spec, seed=5, steps=12)
    _, _, wc = _run(ram_env, spec, seed=6, steps=0)
    assert wa.event == wb.event != wc.event
    for pa, pb in zip(a, b, strict=True):
        for name in pa:
            np.testing.assert_array_equal(pa[name], pb[name])
    assert spec.sample("test", event_rng(5), 0.1) == wa.event


def test_visual_change_alters_images_and_not_the_physics():
    env = hb.make("ram_insertion", obs_mode="pixels", image_size=32)
    try:
        spec = VisualChange(light_scale=(0.3, 0.3), window_s=AT_3)
        plain = DisturbedEnv(env, "none", MoveBody(body="dimm_slot", distance_mm=(0.0, 0.0), window_s=AT_3))
        results = []
        for wrapped in (DisturbedEnv(env, "lighting", spec), plain):
            wrapped.reset(seed=1)
            frames = [wrapped.step(np.zeros(6))[0]["images"]["wrist_1"] for _ in range(5)]
            results.append((frames, env.unwrapped.arm_states[0].pose.copy(), _poses(env)))
            wrapped.restore()
        (lit, pose_lit, scene_lit), (dark, pose, scene) = results
        np.testing.assert_array_equal(lit[2], dark[2])  # before the onset
        assert np.abs(lit[3].astype(int) - dark[3].astype(int)).mean() > 5  # from the onset on
        np.testing.assert_array_equal(pose_lit, pose)
        for name in scene:
            np.testing.assert_array_equal(scene_lit[name], scene[name])
    finally:
        env.close()


def test_cable_push_moves_the_pushed_segment():
    env = hb.make("cable_clipping", obs_mode="state")
    try:
        spec = CablePush(bodies=("usb_cable/seg_B_8",), magnitude_n=(3.0, 3.0), direction="up", window_s=AT_3)
        pushed, infos, wrapped = _run(env, spec, steps=4)
        still, _, _ = _run(env, MoveBody(body="cable_clip", distance_mm=(0.0, 0.0), window_s=AT_3), steps=4)
        assert wrapped.event.vector == (0.0, 0.0, 3.0)
        lift = pushed[4]["usb_cable/seg_B_8"][2] - still[4]["usb_cable/seg_B_8"][2]
        assert lift > 0.005, f"a 3 N, 0.1 s upward push should lift the segment, got {lift * 1e3:.2f} mm"
        np.testing.assert_array_equal(pushed[3]["usb_cable/seg_B_8"], still[3]["usb_cable/seg_B_8"])
        assert infos[4]["disturbance"] == "test"
    finally:
        env.close()


def test_every_task_names_bodies_its_cell_has():
    for task_id in hb.tasks():
        task_cls = hb.task_class(task_id)
        kinds = task_disturbances(task_cls)
        assert kinds, f"{task_id} defines no disturbances"
        model = SimBackend.build_spec(task_cls()).compile()
        for kind, spec in kinds.items():
            names = getattr(spec, "bodies", ()) or ((spec.body,) if getattr(spec, "body", "") else ())
            for name in names:
                assert mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name) >= 0, (task_id, kind, name)


def test_real_backend_is_refused_before_anything_runs(capsys):
    rc = main(["rollout", "--task", "ram_insertion", "--disturb", "push_ee", "--backend", "real",
               "--robot-url", "http://127.0.0.1:9/"])
    err = capsys.readouterr().err
    assert rc == 2 and "simulator only" in err and err.count("\n") == 1

    real = hb.make("ram_insertion", backend="real", robot_url="http://127.0.0.1:9/", obs_mode="state")
    with pytest.raises(UserFacingError, match="simulator only"):
        DisturbedEnv(real, "push_ee")  # the wrapper refuses too, before any request is sent


def test_unknown_kind_lists_the_task_kinds(capsys):
    assert main(["rollout", "--task", "ram_insertion", "--disturb", "shove"]) == 2
    err = capsys.readouterr().err
    assert "push_ee" in err and "move_target" in err and "shove" in err
    assert main(["rollout", "--task", "ram_insertion", "--disturb", "list"]) == 0
    assert "ShiftInGrasp" in capsys.readouterr().out


def test_a_push_on_the_hand_reads_in_the_force_estimate(ram_env):
    """Like a Franka's external-wrench estimate, the reported TCP force includes a push (as the reaction)."""
    ram_env.reset(seed=0)
    backend = ram_env.unwrapped.backend
    arm, hand = backend.arms[0], backend.model.body("hand").id
    before = arm.get_state().force
    push = np.array([20.0, -5.0, 3.0])
    backend.data.xfrc_applied[hand, :3] = push
    try:
        after = arm.get_state().force
    finally:
        backend.data.xfrc_applied[hand] = 0.0
    tcp = backend.data.site_xmat[backend.model.site("tcp").id].reshape(3, 3)
    np.testing.assert_allclose(after - before, -tcp.T @ push, atol=0.05)


def test_eval_of_a_run_under_a_disturbance_keeps_evals_keys(tmp_path, capsys):
    """``evaluate_disturbed`` (what the suite calls): eval's keys plus the disturbance's, one record per episode."""
    from hilserl_bench.data.recorder import record_episodes
    from hilserl_bench.robustness import evaluate_disturbed
    from hilserl_bench.training.config import TrainConfig
    from hilserl_bench.training.evaluate import evaluate_run
    from hilserl_bench.training.train import train

    demos = tmp_path / "demos"
    record_episodes("ram_insertion", episodes=1, out_dir=demos, seed=0, obs_mode="state")
    run = TrainConfig(task="ram_insertion", agent="bc", demos=demos, env_steps=1, bc_steps=0, out=tmp_path / "bc",
                      seed=0)
    train(run, progress=False)
    records: list[dict] = []
    report = evaluate_disturbed(run.out, "move_target", episodes=1, seed=0, records=records)
    plain = evaluate_run(run.out, episodes=1, seed=0)
    assert set(plain) < set(report)
    assert {"disturbance", "applied_rate", "success_rate_when_applied"} <= set(report)
    assert report["disturbance"] == "move_target" and len(records) == 1
    assert records[0]["applied"] == (records[0]["onset_step"] < records[0]["steps"])
    rc = main(["eval", "--run", str(run.out), "--disturb", "push_ee", "--backend", "real",
               "--robot-url", "http://127.0.0.1:9/"])
    assert rc == 2 and "simulator only" in capsys.readouterr().err


def test_rollout_json_under_a_disturbance_has_rollouts_keys_and_the_disturbances(capsys):
    import json

    assert main(["rollout", "--task", "ram_insertion", "--disturb", "push_ee", "--episodes", "1", "--json"]) == 0
    plain_keys = {"task", "policy", "obs_mode", "seed", "noise", "episodes", "successes", "success_rate",
                  "mean_steps", "mean_cycle_time_s", "mean_return"}
    report = json.loads(capsys.readouterr().out)
    assert report.keys() >= plain_keys | {"disturbance", "applied_rate", "success_rate_when_applied"}
    assert report["disturbance"] == "push_ee" and report["applied_rate"] == 1.0
