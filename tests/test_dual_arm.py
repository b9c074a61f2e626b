"""Two arms through every layer: cell, env, wrappers, experts, supervisor, devices, data, agents, emulator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dual_arm_http import sim_and_http_traces

import hilserl_bench
from hilserl_bench.data.learning_env import wrap_learning_stack
from hilserl_bench.devices import GripperCommand, Keyboard, Twist
from hilserl_bench.devices.fake import FakeDevice
from hilserl_bench.envs.cell import DualArmCellConfig, arm_prefixes, dual_arm_bases
from hilserl_bench.envs.experts import make_expert
from hilserl_bench.training.scripted_intervention import ScriptedIntervention, SupervisorConfig
from hilserl_bench.wrappers import FlattenState, RelativeFrame
from hilserl_bench.wrappers.human_intervention import HumanIntervention, HumanInterventionConfig

DUAL_TASKS = ("object_handover", "dashboard_assembly")


@pytest.fixture(scope="module")
def handover():
    env = hilserl_bench.make("object_handover", obs_mode="state")
    yield env
    env.close()


def test_cell_places_two_pandas_side_by_side():
    left, right = dual_arm_bases()
    assert np.isclose(np.linalg.norm(left[:3] - right[:3]), 0.8) and left[1] > 0 > right[1]
    assert arm_prefixes(2) == ("left/", "right/") and arm_prefixes(1) == ("",)
    with pytest.raises(ValueError, match="separation"):
        DualArmCellConfig(separation=2.0)


def test_each_arm_speaks_its_own_base_frame(handover):
    handover.reset(seed=0)
    raw = handover.unwrapped
    model = raw.backend.model
    for i, (arm, prefix) in enumerate(zip(raw.backend.arms, ("left/", "right/"), strict=True)):
        world = raw.backend.data.site_xpos[model.site(f"{prefix}tcp").id]
        reported = raw.arm_states[i].pose
        base = raw.task.arm_base_poses()[i]
        np.testing.assert_allclose(reported[:3] + base[:3], world, atol=1e-9)
        assert arm.base.pose[1] == base[1]


def test_action_and_observation_carry_left_and_right_keys(handover):
    obs, _ = handover.reset(seed=0)
    assert handover.action_space.shape == (14,)
    assert handover.unwrapped.action_names[0] == "left/dx" and handover.unwrapped.action_names[7] == "right/dx"
    assert {"left/tcp_pose", "right/tcp_pose", "left/gripper_pose", "right/gripper_pose"} <= set(obs["state"])


def test_a_twist_moves_only_its_own_arm(handover):
    obs, _ = handover.reset(seed=0)
    start = {k: obs["state"][f"{k}/tcp_pose"][:3].copy() for k in ("left", "right")}
    action = np.zeros(14)
    action[0] = 1.0
    for _ in range(4):
        obs, *_ = handover.step(action)
    left = obs["state"]["left/tcp_pose"][:3] - start["left"]
    right = obs["state"]["right/tcp_pose"][:3] - start["right"]
    assert left[0] > 0.05 and np.abs(right).max() < 0.003, (left, right)


def test_relative_frame_and_flatten_work_per_arm(handover):
    env = FlattenState(RelativeFrame(handover))
    obs, _ = env.reset(seed=0)
    keys = [k for k, _ in env.layout]
    assert keys.index("left/tcp_pose") < keys.index("right/tcp_pose") < keys.index("task/bar_rotation")
    for arm in ("left", "right"):
        np.testing.assert_allclose(obs["state"][env.index(f"{arm}/tcp_pose")], [0, 0, 0, 0, 0, 0, 1], atol=1e-6)


@pytest.mark.parametrize("task_id", DUAL_TASKS)
def test_reward_is_the_joint_success_of_both_arms(task_id):
    env = hilserl_bench.make(task_id, obs_mode="state")
    expert = make_expert(env)
    obs, _ = env.reset(seed=1)
    expert.reset(np.random.default_rng(1))
    rewards = []
    for _ in range(env.unwrapped.task.config.max_steps):
        obs, reward, term, trunc, info = env.step(expert.act(obs))
        rewards.append(reward)
        if term or trunc:
            break
    assert info["succeed"] and rewards[-1] == 1.0 and sum(rewards) == 1.0
    env.close()


def test_supervisor_and_experts_cover_both_arms(handover):
    env = wrap_learning_stack(handover)
    supervised = ScriptedIntervention(env, make_expert(handover), SupervisorConfig(warmup_steps=0, stall_steps=2))
    supervised.reset(seed=0)
    interventions = 0
    for _ in range(15):
        _, _, term, trunc, info = supervised.step(np.zeros(14, dtype=np.float32))
        interventions += info["is_intervention"]
        if info["is_intervention"]:
            assert info["intervene_action"].shape == (14,)
    assert interventions > 0


def test_devices_drive_the_arm_they_name(handover):
    device = FakeDevice([[Twist(1, (1.0, 0, 0, 0, 0, 0)), GripperCommand(1, "close")]] * 3)
    env = HumanIntervention(handover, device, HumanInterventionConfig(realtime=False))
    device.connect()
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.zeros(14))
    action = info["intervene_action"]
    assert action[7] == 1.0 and action[13] == -1.0 and not np.any(action[:7])


def test_keyboard_tab_switches_to_the_other_arm():
    keys = Keyboard(arms=2)
    events = keys.events_for(["w", "\t", "w", "c"])
    assert sorted(e.arm for e in events if isinstance(e, Twist)) == [0, 1]
    assert keys.arm == 1
    assert [e.arm for e in events if isinstance(e, GripperCommand)] == [1]
    with pytest.raises(ValueError, match="arms"):
        Keyboard(arms=3)


def test_recorded_dual_arm_demos_load_and_train_an_agent(tmp_path: Path):
    from hilserl_bench.data.episode_format import load_dataset
    from hilserl_bench.data.recorder import record_episodes
    from hilserl_bench.training.config import TrainConfig
    from hilserl_bench.training.train import train

    demos = tmp_path / "demos"
    record_episodes("dashboard_assembly", episodes=1, out_dir=demos, seed=0, obs_mode="state")
    (episode,) = load_dataset(demos)
    assert episode.actions.shape[1] == 14 and episode.succeed[-1]
    cfg = TrainConfig(task="dashboard_assembly", agent="rlpd", demos=demos, interventions="scripted",
                      env_steps=120, start_training=40, out=tmp_path / "run", seed=0)
    result = train(cfg, progress=False)
    assert result.env_steps == 120


def test_sim_and_http_emulator_trajectories_agree():
    sim, http, requests = sim_and_http_traces("object_handover", 40, ("bar_to_target",))
    np.testing.assert_allclose(sim, http, atol=1e-6)
    assert requests["pose"] >= 80


def test_live_view_tiles_both_wrist_cameras_and_the_side_view():
    from hilserl_bench.live_view import CameraView, tile_frames

    env = hilserl_bench.make("dashboard_assembly", obs_mode="pixels")
    env.reset(seed=0)
    frames = CameraView(env.unwrapped).frames()
    assert list(frames) == ["left/wrist_1", "right/wrist_1", "side"]
    assert tile_frames(frames).ndim == 3
    env.close()
