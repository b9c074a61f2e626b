"""Data layer: episode files, recorder, replay buffers, restricted unpickling, official import."""

from __future__ import annotations

import os
import pickle
import types
import zipfile

import numpy as np
import pytest

from hilserl_bench.data import (
    Episode,
    EpisodeFormatError,
    ExpertDriver,
    MixedSampler,
    RecordError,
    ReplayBuffer,
    UnsafePickleError,
    import_official_demos,
    load_dataset,
    load_episode,
    load_restricted_pickle,
    loads_restricted,
    make_learning_env,
    record_episodes,
    save_episode,
    to_dataframe,
    transition_from_step,
)
from hilserl_bench.data import episode_format as ef

D, A, CAMS = 5, 3, ("wrist_1", "wrist_2")
STACK = {"task_id": "toy", "state_layout": [["a", 0, 2], ["b", 2, D]], "action_dim": A, "cameras": list(CAMS)}


def toy_episode(steps: int = 6, start: int = 0, images: bool = True, stack: dict | None = None,
                terminate: bool = True) -> Episode:
    """Frame t carries value start + t in state[:, 0] and in every pixel, so pairings are checkable."""
    ids = np.arange(start, start + steps + 1)
    state = np.zeros((steps + 1, D), np.float32)
    state[:, 0] = ids
    flags = np.zeros(steps, bool)
    term = flags.copy()
    term[-1] = terminate
    return Episode(
        state=state, actions=np.tile(ids[:-1, None], (1, A)).astype(np.float32), rewards=term.astype(np.float32),
        terminated=term, truncated=~term & (np.arange(steps) == steps - 1), intervened=flags.copy(),
        succeed=term.copy(), grasp_penalty=np.zeros(steps, np.float32),
        images={c: np.broadcast_to((ids % 256).astype(np.uint8)[:, None, None, None], (steps + 1, 4, 4, 3)).copy()
                for c in CAMS} if images else {},
        metadata={"task_id": (stack or STACK)["task_id"], "stack": stack or STACK, "seed": 0, "source": "expert"})


# -- episode format ------------------------------------------------------------------------------------
def test_episode_round_trip(tmp_path):
    ep = toy_episode()
    path = save_episode(tmp_path / "episode_000000.npz", ep)
    back = load_episode(path)
    for key, arr in ep.arrays().items():
        np.testing.assert_array_equal(back.arrays()[key], arr)
        assert back.arrays()[key].dtype == arr.dtype
    assert back.metadata == {**ep.metadata, "format_version": ef.FORMAT_VERSION}
    with np.load(path, allow_pickle=False) as npz:  # numpy alone reads it
        assert set(npz.files) >= {"state", "actions", "metadata", "images/wrist_1"}
    frame = to_dataframe(back)
    assert list(frame["step"]) == list(range(6)) and frame["terminated"].iloc[-1]
    assert "action_2" in frame


def test_crash_mid_write_leaves_nothing_visible(tmp_path, monkeypatch):
    def explode(*_args, **_kw):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", explode)
    with pytest.raises(OSError, match="disk gone"):
        save_episode(tmp_path / "episode_000000.npz", toy_episode())
    monkeypatch.undo()

    def partial(f, **arrays):
        f.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", partial)
    with pytest.raises(KeyboardInterrupt):
        save_episode(tmp_path / "episode_000001.npz", toy_episode())
    assert os.listdir(tmp_path) == []


def test_corrupt_truncated_and_incomplete_files_name_the_file(tmp_path):
    good = save_episode(tmp_path / "episode_000000.npz", toy_episode())
    data = good.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip at all")
    flipped = tmp_path / "flipped.npz"
    flipped.write_bytes(data[:200] + bytes(b ^ 0xFF for b in data[200:260]) + data[260:])
    for path in (truncated, garbage, flipped):
        with pytest.raises(EpisodeFormatError, match=path.name):
            load_episode(path)
    arrays = {k: v for k, v in toy_episode().arrays().items() if k != "rewards"}
    missing = tmp_path / "missing.npz"
    np.savez(missing, metadata=np.array('{"format_version": 1}'), **arrays)
    with pytest.raises(EpisodeFormatError, match="missing.npz.*'rewards'"):
        load_episode(missing)
    newer = tmp_path / "newer.npz"
    np.savez(newer, metadata=np.array('{"format_version": 99}'), **toy_episode().arrays())
    with pytest.raises(EpisodeFormatError, match="newer.npz.*newer"):
        load_episode(newer)
    bad_shape = toy_episode()
    bad_shape.rewards = bad_shape.rewards[:-1]
    with pytest.raises(EpisodeFormatError, match="rewards"):
        save_episode(tmp_path / "bad.npz", bad_shape)
    with zipfile.ZipFile(good) as z:
        assert "rewards.npy" in z.namelist()


def test_load_dataset_refuses_wrong_task_and_layout(tmp_path):
    save_episode(tmp_path / "episode_000000.npz", toy_episode())
    other = {**STACK, "state_layout": [["a", 0, 1], ["c", 1, D]]}
    save_episode(tmp_path / "episode_000001.npz", toy_episode(stack=other))
    with pytest.raises(EpisodeFormatError, match="episode_000001.npz.*state_layout"):
        load_dataset(tmp_path)
    with pytest.raises(EpisodeFormatError, match="episode_000000.npz.*task_id"):
        load_dataset(tmp_path, expect={**STACK, "task_id": "ram_insertion"})
    (tmp_path / "episode_000001.npz").unlink()
    (tmp_path / ".episode_000002.npz.abc.tmp").write_bytes(b"in flight")
    assert len(load_dataset(tmp_path, expect=STACK)) == 1


# -- recorder ---------------------------------------------------------------------------------------------
def test_expert_action_is_executed_in_the_base_frame():
    driver = ExpertDriver("ram_insertion", obs_mode="state")
    driver.reset(3)
    for _ in range(4):
        action, *_ = driver.step()
        np.testing.assert_allclose(driver.tap.last_action, driver.last_expert_action, atol=1e-6)
    assert not np.allclose(action, driver.last_expert_action, atol=1e-3)  # the frames really differ
    driver.close()


def test_recorded_ram_demos_replay_to_success(tmp_path):
    paths = record_episodes("ram_insertion", episodes=2, out_dir=tmp_path, seed=5, obs_mode="state")
    assert [p.name for p in paths] == ["episode_000000.npz", "episode_000001.npz"]
    env = make_learning_env("ram_insertion", obs_mode="state")
    for ep in load_dataset(tmp_path, expect={"task_id": "ram_insertion", "action_dim": 6}):
        assert ep.metadata["success"] and ep.metadata["source"] == "expert" and ep.succeed[-1]
        obs, _ = env.reset(seed=ep.metadata["seed"])
        np.testing.assert_array_equal(obs["state"], ep.state[0])
        for action in ep.actions:
            obs, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                break
        assert info["succeed"]
    env.close()
    again = record_episodes("ram_insertion", episodes=1, out_dir=tmp_path, seed=5, obs_mode="state")
    assert again[0].name == "episode_000002.npz"
    assert len({ep.metadata["seed"] for ep in load_dataset(tmp_path)}) == 3  # recorded seeds are not repeated


def test_recorder_refuses_foreign_dir_and_gives_up_clearly(tmp_path):
    save_episode(tmp_path / "episode_000000.npz", toy_episode())
    with pytest.raises(RecordError, match="task_id"):
        record_episodes("ram_insertion", episodes=1, out_dir=tmp_path, obs_mode="state")
    with pytest.raises(RecordError, match="0 of 1"):
        record_episodes("ram_insertion", episodes=1, out_dir=tmp_path / "new", obs_mode="state", max_steps=2,
                        max_attempts=2)


# -- replay buffer ----------------------------------------------------------------------------------------
SPEC = {"state": D, "images": {c: (4, 4, 3) for c in CAMS}}


def check_pairing(batch):
    obs_id, next_id = batch["observations"]["state"][..., 0], batch["next_observations"]["state"][..., 0]
    np.testing.assert_array_equal(next_id, obs_id + 1)
    for cam in CAMS:
        np.testing.assert_array_equal(batch["observations"]["images"][cam][..., 0, 0, 0], obs_id % 256)
        np.testing.assert_array_equal(batch["next_observations"]["images"][cam][..., 0, 0, 0], next_id % 256)
    np.testing.assert_array_equal(batch["actions"][..., 0], obs_id)


def test_frames_stored_once_and_next_obs_is_the_following_obs():
    buf = ReplayBuffer(100, SPEC, A)
    buf.insert_episode(toy_episode(6, start=0))
    buf.insert_episode(toy_episode(4, start=50, terminate=False))
    assert len(buf) == 10 and buf.frames_stored == 7 + 5
    ep = toy_episode(5, start=100)
    obs = {"state": ep.state[0], "images": {c: ep.images[c][0] for c in CAMS}}
    for t in range(5):
        nxt = {"state": ep.state[t + 1], "images": {c: ep.images[c][t + 1] for c in CAMS}}
        info = {"succeed": bool(ep.terminated[t])}
        buf.insert(transition_from_step(obs, ep.actions[t], nxt, 0.0, bool(ep.terminated[t]), False, info))
        obs = nxt
    assert len(buf) == 15 and buf.frames_stored == 7 + 5 + 6
    batch = buf.sample(np.random.default_rng(0), 500)
    check_pairing(batch)
    terminal = np.isin(batch["observations"]["state"][:, 0], [5, 104])
    np.testing.assert_array_equal(batch["masks"] == 0, terminal)  # truncated end (53) keeps mask 1


def test_ring_wraps_and_evicts_transitions_whose_frames_are_gone():
    buf = ReplayBuffer(10, SPEC, A, frame_capacity=12)
    for k in range(8):
        buf.insert_episode(toy_episode(2, start=10 * k))
    # 24 frames written, the last 12 kept: episodes 4..7; episode 3's last transition lost its frames
    assert len(buf) == 8 and buf.frames_stored == 12
    batch = buf.sample(np.random.default_rng(1), 300)
    check_pairing(batch)
    assert set(batch["observations"]["state"][:, 0].tolist()) == {40, 41, 50, 51, 60, 61, 70, 71}


def test_mixed_sampler_is_exactly_half_and_half():
    online, prior = ReplayBuffer(50, SPEC, A), ReplayBuffer(50, SPEC, A)
    online.insert_episode(toy_episode(10, start=0))
    prior.insert_episode(toy_episode(10, start=200))
    sampler = MixedSampler(online, prior)
    batch = sampler.sample(np.random.default_rng(0), 256)
    ids = batch["observations"]["state"][:, 0]
    assert (ids[:128] < 200).all() and (ids[128:] >= 200).all()
    check_pairing(batch)
    stacked = sampler.sample(np.random.default_rng(0), 8, utd=3)
    assert stacked["observations"]["images"]["wrist_1"].shape == (3, 8, 4, 4, 3)
    assert ((stacked["observations"]["state"][:, :4, 0] < 200).all()
            and (stacked["observations"]["state"][:, 4:, 0] >= 200).all())
    check_pairing(stacked)


@pytest.mark.parametrize("learns", [True, False])
def test_learner_ingest_routes_interventions_to_both_buffers(learns):
    """Training's own path (Learner.ingest): policy steps online only, interventions also to the prior buffer."""
    from hilserl_bench.training.roles import Learner

    online, prior = ReplayBuffer(20, {"state": D}, A), ReplayBuffer(20, {"state": D}, A)
    agent = types.SimpleNamespace(learns_from_interventions=learns)
    learner = Learner(agent, online, prior, sampler=None, batch_size=4, utd=1, start_training=100, seed=0)
    obs, nxt = {"state": np.zeros(D, np.float32)}, {"state": np.ones(D, np.float32)}
    learner.ingest(transition_from_step(obs, np.zeros(A), nxt, 0.0, False, False, {}))
    human = np.full(A, 0.5, np.float32)
    learner.ingest(transition_from_step(nxt, np.zeros(A), obs, 1.0, True, False, {"intervene_action": human}))
    assert (len(online), len(prior)) == ((2, 1) if learns else (2, 0))
    if learns:
        np.testing.assert_array_equal(prior.sample(np.random.default_rng(0), 4)["actions"], np.tile(human, (4, 1)))


def test_buffer_save_load_round_trip(tmp_path):
    buf = ReplayBuffer(12, SPEC, A, frame_capacity=15)
    for k in range(4):
        buf.insert_episode(toy_episode(4, start=10 * k, terminate=k % 2 == 0))
    path = buf.save(tmp_path / "buffer.npz")
    back = ReplayBuffer.load(path)
    assert (back.n_inserted, back.n_frames, back.first_valid, len(back)) == (
        buf.n_inserted, buf.n_frames, buf.first_valid, len(buf))
    extra = toy_episode(3, start=100)
    for b in (buf, back):
        b.insert_episode(extra)
    for key in buf.arrays:
        np.testing.assert_array_equal(buf.arrays[key], back.arrays[key])
    for cam in CAMS:
        np.testing.assert_array_equal(buf.frames[cam], back.frames[cam])
    b1, b2 = buf.sample(np.random.default_rng(7), 32), back.sample(np.random.default_rng(7), 32)
    np.testing.assert_array_equal(b1["observations"]["images"]["wrist_2"], b2["observations"]["images"]["wrist_2"])
    assert [p.name for p in tmp_path.iterdir()] == ["buffer.npz"]


# -- restricted unpickling and official import -------------------------------------------------------------
class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_restricted_loader_accepts_arrays_and_containers(protocol):
    tree = {"params": {"conv": [np.arange(6, dtype=np.float32).reshape(2, 3), np.float64(1.5)]},
            "meta": ("resnet10", 3, 0.5, True), "flag": np.bool_(False)}
    back = loads_restricted(pickle.dumps(tree, protocol=protocol))
    np.testing.assert_array_equal(back["params"]["conv"][0], tree["params"]["conv"][0])
    assert back["meta"] == tree["meta"] and back["params"]["conv"][1] == 1.5 and back["flag"] == np.False_


def test_restricted_loader_refuses_code_execution(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps([{"observations": Evil(marker)}]))
    with pytest.raises(UnsafePickleError, match=r"evil.pkl.*(posix|os)\.system"):
        load_restricted_pickle(path)
    with pytest.raises(UnsafePickleError):
        import_official_demos(path, tmp_path / "out", "toy")
    assert not marker.exists()


def test_import_official_demos(tmp_path):
    transitions = []
    for start, success in ((0, True), (50, False)):
        ep = toy_episode(3, start=start)
        for t in range(3):
            obs = {"state": ep.state[t][None], **{c: ep.images[c][t][None] for c in CAMS}}
            nxt = {"state": ep.state[t + 1][None], **{c: ep.images[c][t + 1][None] for c in CAMS}}
            done = t == 2
            reward = float(done and success)
            transitions.append({"observations": obs, "actions": ep.actions[t], "next_observations": nxt,
                                "rewards": reward, "masks": 1.0 - done, "dones": done,
                                "infos": {"succeed": bool(reward), "grasp_penalty": 0.0}})
    src = tmp_path / "ram_20_demos.pkl"
    src.write_bytes(pickle.dumps(transitions))
    paths = import_official_demos(src, tmp_path / "out", "toy", stack=STACK)
    episodes = load_dataset(tmp_path / "out", expect=STACK)
    assert len(paths) == 2 and [e.metadata["source"] for e in episodes] == ["official-import"] * 2
    np.testing.assert_array_equal(episodes[1].state[:, 0], [50, 51, 52, 53])
    np.testing.assert_array_equal(episodes[0].images["wrist_1"][:, 0, 0, 0], [0, 1, 2, 3])
    assert episodes[0].terminated[-1] and not episodes[1].terminated[-1] and episodes[1].truncated[-1]
