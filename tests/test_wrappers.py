"""Wrappers on a tiny kinematic fake of the raw env contract (no simulator needed)."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from hilserl_bench import geometry as geo
from hilserl_bench.wrappers import (
    FlattenState,
    GripperPenalty,
    ObservationHistory,
    QuatToEuler,
    RelativeFrame,
    RewardClassifier,
)

DOWN = geo.euler_to_quat(np.array([np.pi, 0.0, 0.0]))
YAW90 = geo.rotvec_to_quat(np.array([0.0, 0.0, np.pi / 2]))
TRANS_SCALE, ROT_SCALE, HZ = 0.01, 0.1, 10.0


class FakeFrankaEnv(gym.Env):
    """Integrates base-frame twists into per-arm poses; observation/info as the raw env promises."""

    metadata = {"render_modes": []}

    def __init__(self, arms=("arm",), learned_gripper=False, obs_mode="pixels", reset_noise=0.01, image_size=8):
        self.task = SimpleNamespace(arms=tuple(arms), learned_gripper=learned_gripper, cameras=("wrist_1", "wrist_2"))
        self.per_arm = 7 if learned_gripper else 6
        self.prefixes = [""] if len(arms) == 1 else [f"{a}/" for a in arms]
        self.reset_noise, self.image_size, self.obs_mode = reset_noise, image_size, obs_mode
        self.reset_poses = [np.array([0.5, 0.1 * i, 0.3, *DOWN]) for i in range(len(arms))]
        self.intervention: np.ndarray | None = None
        self.last_action: np.ndarray | None = None
        self.action_space = gym.spaces.Box(-1.0, 1.0, (self.per_arm * len(arms),), np.float32)
        dims = {"tcp_pose": 7, "tcp_vel": 6, "tcp_force": 3, "tcp_torque": 3, "gripper_pose": 1}
        box = lambda n: gym.spaces.Box(-np.inf, np.inf, (n,), np.float32)  # noqa: E731
        spaces = {"state": gym.spaces.Dict({p + k: box(n) for p in self.prefixes for k, n in dims.items()})}
        if obs_mode == "pixels":
            frame = gym.spaces.Box(0, 255, (image_size, image_size, 3), np.uint8)
            spaces["images"] = gym.spaces.Dict({cam: frame for cam in self.task.cameras})
        else:
            spaces["task"] = gym.spaces.Dict({"peg_pos": box(3), "block_angle": box(1)})
        self.observation_space = gym.spaces.Dict(spaces)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.poses = [p.copy() for p in self.reset_poses]
        for pose in self.poses:
            pose[:2] += self.np_random.uniform(-self.reset_noise, self.reset_noise, 2)
        self.vels = [np.zeros(6) for _ in self.poses]
        self.grippers = [1.0 for _ in self.poses]
        self.t = 0
        return self._obs(), {"succeed": False}

    def step(self, action):
        executed = np.array(self.intervention if self.intervention is not None else action, dtype=np.float64)
        self.last_action = executed.copy()
        act = np.clip(executed, -1.0, 1.0)
        for i, pose in enumerate(self.poses):
            block = act[i * self.per_arm:(i + 1) * self.per_arm]
            dp, dr = TRANS_SCALE * block[:3], ROT_SCALE * block[3:6]
            pose[:3] += dp
            pose[3:] = geo.quat_normalize(geo.quat_mul(geo.rotvec_to_quat(dr), pose[3:]))
            self.vels[i] = np.concatenate([dp, dr]) * HZ
            if self.per_arm == 7 and block[6] <= -0.5:
                self.grippers[i] = 0.0
            elif self.per_arm == 7 and block[6] >= 0.5:
                self.grippers[i] = 1.0
        self.t += 1
        succeed = bool(self.poses[0][2] < 0.25)
        info = {"succeed": succeed, "is_intervention": self.intervention is not None}
        if self.intervention is not None:
            info["intervene_action"] = executed.copy()
            info["teleop_action"] = executed.copy()
        return self._obs(), float(succeed), succeed, self.t >= 20, info

    def _obs(self):
        state = {}
        for p, pose, vel, grip in zip(self.prefixes, self.poses, self.vels, self.grippers, strict=True):
            state[p + "tcp_pose"] = pose.astype(np.float32)
            state[p + "tcp_vel"] = vel.astype(np.float32)
            state[p + "tcp_force"] = np.array([1.0, 2.0, 3.0], np.float32)
            state[p + "tcp_torque"] = np.array([4.0, 5.0, 6.0], np.float32)
            state[p + "gripper_pose"] = np.array([grip], np.float32)
        obs = {"state": state}
        if self.obs_mode == "pixels":
            shade = int(abs(self.poses[0][0]) * 1000) % 256
            obs["images"] = {cam: np.full((self.image_size,) * 2 + (3,), shade, np.uint8) for cam in self.task.cameras}
        else:
            obs["task"] = {"peg_pos": np.array([0.1, 0.2, 0.3], np.float32), "block_angle": np.array([0.7], np.float32)}
        return obs


def yawed_env(**kw) -> FakeFrankaEnv:
    env = FakeFrankaEnv(reset_noise=0.0, **kw)
    env.reset_poses = [np.array([0.5, 0.0, 0.3, *YAW90])]
    return env


# -- RelativeFrame ----------------------------------------------------------------------------
def test_tcp_x_translation_moves_along_base_y_without_rotation():
    raw = yawed_env()
    env = RelativeFrame(raw)
    env.reset(seed=0)
    obs, *_ = env.step(np.array([0.5, 0, 0, 0, 0, 0], np.float32))
    np.testing.assert_allclose(raw.last_action, [0, 0.5, 0, 0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(raw.poses[0][:3], [0.5, 0.005, 0.3], atol=1e-7)
    np.testing.assert_allclose(geo.orientation_error(YAW90, raw.poses[0][3:]), 0, atol=1e-7)
    # relative pose: moved along the reset TCP's own x; velocity along the current TCP's x
    np.testing.assert_allclose(obs["state"]["tcp_pose"], [0.005, 0, 0, 0, 0, 0, 1], atol=1e-6)
    np.testing.assert_allclose(obs["state"]["tcp_vel"], [0.05, 0, 0, 0, 0, 0], atol=1e-6)


def test_official_adjoint_coupling_commands_skew_p_r_v():
    raw = yawed_env()
    env = RelativeFrame(raw, official_adjoint_coupling=True)
    env.reset(seed=0)
    v = np.array([0.5, 0.0, 0.0])
    env.step(np.array([*v, 0, 0, 0], np.float32))
    rot_v = geo.quat_to_mat(YAW90) @ v
    expected_w = geo.skew(np.array([0.5, 0.0, 0.3])) @ rot_v
    np.testing.assert_allclose(raw.last_action[:3], rot_v, atol=1e-6)
    np.testing.assert_allclose(raw.last_action[3:], expected_w, atol=1e-6)
    assert np.linalg.norm(expected_w) > 0.1


def test_tcp_rotation_is_about_the_tcp_axis():
    env = RelativeFrame(FakeFrankaEnv(reset_noise=0.0))
    obs, _ = env.reset(seed=0)
    np.testing.assert_allclose(obs["state"]["tcp_pose"], [0, 0, 0, 0, 0, 0, 1], atol=1e-7)
    obs, *_ = env.step(np.array([0, 0, 0, 0, 0, 0.5], np.float32))
    np.testing.assert_allclose(obs["state"]["tcp_pose"][3:], geo.rotvec_to_quat(np.array([0, 0, 0.05])), atol=1e-6)
    np.testing.assert_allclose(obs["state"]["tcp_vel"], [0, 0, 0, 0, 0, 0.5], atol=1e-6)


@pytest.mark.parametrize("coupled", [False, True])
@pytest.mark.parametrize("arms", [("arm",), ("left", "right")])
def test_intervene_action_maps_back_to_policy_frame(coupled, arms):
    raw = FakeFrankaEnv(arms=arms, learned_gripper=True)
    eulers = [np.array([3.0, 0.3 * i - 0.2, 0.7 * i + 0.4]) for i in range(len(arms))]
    raw.reset_poses = [np.array([0.4 + 0.1 * i, -0.2, 0.35, *geo.euler_to_quat(e)]) for i, e in enumerate(eulers)]
    env = RelativeFrame(raw, official_adjoint_coupling=coupled)
    policy = np.random.default_rng(1).uniform(-0.6, 0.6, raw.action_space.shape).astype(np.float32)
    env.reset(seed=3)
    env.step(np.zeros_like(policy))
    env.step(policy)
    executed = raw.last_action.copy()
    for i in range(len(arms)):
        assert executed[7 * i + 6] == pytest.approx(policy[7 * i + 6])
    pose_by_policy = [p.copy() for p in raw.poses]

    env.reset(seed=3)
    env.step(np.zeros_like(policy))
    raw.intervention = executed
    _, _, _, _, info = env.step(np.zeros_like(policy))
    np.testing.assert_allclose(info["intervene_action"], policy, atol=1e-6)
    for a, b in zip(pose_by_policy, raw.poses, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-9)


def test_intervene_action_hand_checked():
    raw = yawed_env()
    env = RelativeFrame(raw)
    env.reset(seed=0)
    raw.intervention = np.array([0, 0.5, 0, 0, 0, 0.2])
    _, _, _, _, info = env.step(np.zeros(6, np.float32))
    np.testing.assert_allclose(info["intervene_action"], [0.5, 0, 0, 0, 0, 0.2], atol=1e-6)


def test_dual_arm_actions_map_per_arm():
    raw = FakeFrankaEnv(arms=("left", "right"), reset_noise=0.0)
    raw.reset_poses = [np.array([0.5, 0.2, 0.3, *YAW90]), np.array([0.5, -0.2, 0.3, 0, 0, 0, 1.0])]
    env = RelativeFrame(raw)
    env.reset(seed=0)
    env.step(np.array([0.5, 0, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 0], np.float32))
    np.testing.assert_allclose(raw.last_action, [0, 0.5, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 0], atol=1e-6)


# -- QuatToEuler / FlattenState ---------------------------------------------------------------
def test_quat_to_euler_values():
    raw = FakeFrankaEnv()
    env = QuatToEuler(raw)
    assert env.observation_space["state"]["tcp_pose"].shape == (6,)
    env.reset(seed=0)
    obs, *_ = env.step(np.array([0.1, 0, 0, 0.3, -0.2, 0.4], np.float32))
    pose = raw.poses[0]
    np.testing.assert_allclose(obs["state"]["tcp_pose"][:3], pose[:3], atol=1e-6)
    np.testing.assert_allclose(obs["state"]["tcp_pose"][3:], geo.quat_to_euler(pose[3:]), atol=1e-5)
    assert env.observation_space.contains(obs)


def test_flatten_canonical_and_alphabetical_layouts():
    raw = FakeFrankaEnv()
    canon = FlattenState(raw)
    assert [(k, s.start, s.stop) for k, s in canon.layout] == [
        ("tcp_pose", 0, 7), ("tcp_vel", 7, 13), ("tcp_force", 13, 16), ("tcp_torque", 16, 19),
        ("gripper_pose", 19, 20)]
    alpha = FlattenState(FakeFrankaEnv(), official_alphabetical_order=True)
    assert [(k, s.start, s.stop) for k, s in alpha.layout] == [
        ("gripper_pose", 0, 1), ("tcp_force", 1, 4), ("tcp_pose", 4, 11), ("tcp_torque", 11, 14),
        ("tcp_vel", 14, 20)]
    obs, _ = canon.reset(seed=0)
    assert obs["state"].shape == (20,) and obs["state"].dtype == np.float32
    np.testing.assert_allclose(obs["state"][13:19], [1, 2, 3, 4, 5, 6])
    assert obs["state"][19] == 1.0
    assert set(obs["images"]) == {"wrist_1", "wrist_2"}
    obs, _ = alpha.reset(seed=0)
    np.testing.assert_allclose(obs["state"][:4], [1, 1, 2, 3])
    np.testing.assert_allclose(obs["state"][11:14], [4, 5, 6])


def test_flatten_task_keys_dual_arm_and_explicit_keys():
    env = FlattenState(QuatToEuler(FakeFrankaEnv(arms=("left", "right"), obs_mode="state")))
    keys = [k for k, _ in env.layout]
    assert keys[:5] == ["left/tcp_pose", "left/tcp_vel", "left/tcp_force", "left/tcp_torque", "left/gripper_pose"]
    assert keys[5] == "right/tcp_pose" and keys[-2:] == ["task/block_angle", "task/peg_pos"]
    assert env.index("left/tcp_pose") == slice(0, 6)
    obs, _ = env.reset(seed=0)
    assert set(obs) == {"state"} and obs["state"].shape == (2 * 19 + 4,)
    np.testing.assert_allclose(obs["state"][-4:], [0.7, 0.1, 0.2, 0.3], atol=1e-6)
    picked = FlattenState(FakeFrankaEnv(obs_mode="state"), keys=("task/peg_pos", "gripper_pose"))
    obs, _ = picked.reset(seed=0)
    np.testing.assert_allclose(obs["state"], [0.1, 0.2, 0.3, 1.0], atol=1e-6)
    with pytest.raises(ValueError, match="unknown keys"):
        FlattenState(FakeFrankaEnv(), keys=("tcp_pose", "nope"))


# -- ObservationHistory -------------------------------------------------------------------------
def test_history_pads_then_shifts():
    env = ObservationHistory(FlattenState(FakeFrankaEnv(reset_noise=0.0)), n=3)
    assert env.observation_space["state"].shape == (3, 20)
    assert env.observation_space["images"]["wrist_1"].shape == (3, 8, 8, 3)
    obs0, _ = env.reset(seed=0)
    assert np.all(obs0["state"] == obs0["state"][0])
    obs1, *_ = env.step(np.array([1.0, 0, 0, 0, 0, 0], np.float32))
    obs2, *_ = env.step(np.array([1.0, 0, 0, 0, 0, 0], np.float32))
    xs = obs2["state"][:, 0]
    np.testing.assert_allclose(xs, [0.5, 0.51, 0.52], atol=1e-6)
    np.testing.assert_array_equal(obs2["state"][:2], obs1["state"][1:])
    assert obs2["images"]["wrist_1"].shape == (3, 8, 8, 3)
    assert obs2["images"]["wrist_1"][0, 0, 0, 0] != obs2["images"]["wrist_1"][2, 0, 0, 0]


# -- GripperPenalty ---------------------------------------------------------------------------
def _grip(g, arms=1):
    return np.array([0, 0, 0, 0, 0, 0, g] * arms, np.float32)


def test_gripper_penalty_only_on_state_changes():
    env = GripperPenalty(FakeFrankaEnv(learned_gripper=True))
    env.reset(seed=0)
    penalties, rewards = [], []
    for g in (0.4, -1.0, -1.0, 0.2, 1.0, 1.0, -0.3):
        _, r, _, _, info = env.step(_grip(g))
        penalties.append(info["grasp_penalty"])
        rewards.append(r)
    np.testing.assert_allclose(penalties, [0, -0.02, 0, 0, -0.02, 0, 0])
    assert rewards == [0.0] * 7


def test_gripper_penalty_dual_arm_reward_and_intervention():
    raw = FakeFrankaEnv(arms=("left", "right"), learned_gripper=True)
    env = GripperPenalty(raw, apply_to_reward=True, penalty=-0.05)
    env.reset(seed=0)
    _, r, _, _, info = env.step(_grip(-1.0, arms=2))
    assert info["grasp_penalty"] == pytest.approx(-0.1) and r == pytest.approx(-0.1)
    raw.intervention = np.array([0, 0, 0, 0, 0, 0, 1.0, 0, 0, 0, 0, 0, 0, 0.0])
    _, _, _, _, info = env.step(_grip(0.0, arms=2))
    assert info["grasp_penalty"] == pytest.approx(-0.05)
    with pytest.raises(ValueError, match="learned-gripper"):
        GripperPenalty(FakeFrankaEnv())


# -- RewardClassifier -------------------------------------------------------------------------
def test_reward_classifier_threshold_state_check_and_termination():
    prob = {"p": 0.0}
    ok = {"v": True}
    env = RewardClassifier(FakeFrankaEnv(), lambda obs: np.array([prob["p"]]), state_check=lambda obs: ok["v"])
    env.reset(seed=0)
    zero = np.zeros(6, np.float32)
    prob["p"] = 0.85
    _, r, term, _, info = env.step(zero)
    assert (r, term, info["classifier_prob"]) == (0.0, False, 0.85)
    prob["p"] = 0.9
    _, r, term, _, info = env.step(zero)
    assert (r, term, info["classifier_success"]) == (1.0, True, True)
    ok["v"] = False
    _, r, term, _, _ = env.step(zero)
    assert (r, term) == (0.0, False)
    strict = RewardClassifier(FakeFrankaEnv(), lambda obs: 0.6, threshold=0.5)
    strict.reset(seed=0)
    assert strict.step(zero)[1] == 1.0


# -- env_checker through every wrapper --------------------------------------------------------
STACKS = {
    "relative": lambda e: RelativeFrame(e),
    "relative_parity": lambda e: RelativeFrame(e, official_adjoint_coupling=True),
    "euler": lambda e: QuatToEuler(e),
    "flatten": lambda e: FlattenState(e),
    "flatten_alpha": lambda e: FlattenState(e, official_alphabetical_order=True),
    "history": lambda e: ObservationHistory(e, n=2),
    "gripper": lambda e: GripperPenalty(e),
    "classifier": lambda e: RewardClassifier(e, lambda obs: 0.5),
    "full": lambda e: ObservationHistory(
        RewardClassifier(FlattenState(GripperPenalty(QuatToEuler(RelativeFrame(e)))), lambda obs: 0.9), n=2),
}


@pytest.mark.parametrize("name", sorted(STACKS))
@pytest.mark.parametrize("arms,obs_mode", [(("arm",), "pixels"), (("left", "right"), "state")])
def test_env_checker_passes(name, arms, obs_mode):
    env = STACKS[name](FakeFrankaEnv(arms=arms, learned_gripper=True, obs_mode=obs_mode))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, skip_render_check=True)
    expected = ("different from the unwrapped", "infinity")
    assert [str(w.message) for w in caught if not any(e in str(w.message) for e in expected)] == []
    obs, _ = env.reset(seed=1)
    assert env.observation_space.contains(obs)
    obs, *_ = env.step(env.action_space.sample())
    assert env.observation_space.contains(obs)
