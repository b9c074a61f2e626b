"""Pixel encoders: shapes, determinism, the frozen backbone, the actor's stop-gradient, augmentation, CLI training."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hilserl_bench.baselines.augmentation import Augmented, random_crop
from hilserl_bench.baselines.image_encoder import PixelEncoder
from hilserl_bench.baselines.presets import SACConfig
from hilserl_bench.baselines.resnet10 import ResNet10
from hilserl_bench.baselines.sac import SACAgent

CAMS = ("wrist_1", "wrist_2")


def _obs(rng: np.random.Generator, batch: int, size: int = 32) -> dict:
    return {"state": rng.normal(size=(batch, 5)).astype(np.float32),
            "images": {c: rng.integers(0, 256, (batch, size, size, 3), dtype=np.uint8) for c in CAMS}}


def test_resnet10_matches_the_paper_layout():
    net = ResNet10()
    x = np.zeros((1, 128, 128, 3), np.uint8)
    shapes = jax.eval_shape(net.init, jax.random.PRNGKey(0), x)
    n_params = sum(int(np.prod(v.shape)) for v in jax.tree.leaves(shapes))
    leaves = len(jax.tree.leaves(shapes))
    assert jax.eval_shape(lambda p: net.apply(p, x), shapes).shape == (1, 4, 4, 512)
    assert (leaves, n_params) == (36, 4_905_792)  # the official resnet10_params.pkl: 36 arrays, 4,905,792 numbers


def test_encoder_shapes_and_determinism():
    rng = np.random.default_rng(0)
    obs = _obs(rng, 3)
    enc = PixelEncoder(CAMS)
    params = enc.init(jax.random.PRNGKey(0), obs)
    out = enc.apply(params, obs)
    assert out.shape == (3, 2 * 256 + 64)
    np.testing.assert_array_equal(out, enc.apply(params, obs))
    # Dropout only in training, and then it depends on the key.
    a = enc.apply(params, obs, train=True, rngs={"dropout": jax.random.PRNGKey(1)})
    b = enc.apply(params, obs, train=True, rngs={"dropout": jax.random.PRNGKey(2)})
    assert not np.allclose(a, b)
    # Each camera has its own head: swapping the frames changes the features.
    swapped = {**obs, "images": {"wrist_1": obs["images"]["wrist_2"], "wrist_2": obs["images"]["wrist_1"]}}
    assert not np.allclose(out, enc.apply(params, swapped))
    assert sorted(k for k in params["params"] if k.startswith("dense_")) == ["dense_wrist_1", "dense_wrist_2"]


@pytest.fixture(scope="module")
def sac_pixels():
    rng = np.random.default_rng(0)
    obs = _obs(rng, 4)
    cfg = SACConfig(hidden_dims=(32, 32), critic_actor_ratio=1, scan_updates=False)
    agent = SACAgent.create(jax.random.PRNGKey(0), obs, 6, cfg, PixelEncoder(CAMS, freeze_backbone=True))
    batch = {"observations": obs, "next_observations": _obs(rng, 4), "actions": rng.uniform(-1, 1, (4, 6)),
             "rewards": np.ones(4, np.float32), "masks": np.ones(4, np.float32)}
    batch = jax.tree.map(lambda x: np.asarray(x)[None], batch)
    return agent, batch


def test_frozen_backbone_is_not_updated_but_the_heads_are(sac_pixels):
    agent, batch = sac_pixels
    wrapped = Augmented(agent, jax.random.PRNGKey(3), 4)
    new, _ = wrapped.update(batch)
    before, after = agent.critic.params["encoder"], new.agent.critic.params["encoder"]
    for a, b in zip(jax.tree.leaves(before["backbone"]), jax.tree.leaves(after["backbone"]), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(before["dense_wrist_1"]["kernel"], after["dense_wrist_1"]["kernel"])


def test_actor_reads_the_critic_encoder_and_never_trains_it(sac_pixels):
    agent, batch = sac_pixels
    minibatch = jax.tree.map(lambda x: x[0], batch)
    grads = jax.grad(lambda p: agent.actor_loss(p, minibatch, jax.random.PRNGKey(0))[0])(agent.actor.params)
    assert all(float(jnp.abs(g).max()) == 0.0 for g in jax.tree.leaves(grads["encoder"]))
    assert any(float(jnp.abs(g).max()) > 0.0 for g in jax.tree.leaves(grads["MLP_0"]))
    stepped, _ = agent.actor_step(minibatch)
    for a, b in zip(jax.tree.leaves(agent.critic.params), jax.tree.leaves(stepped.critic.params), strict=True):
        np.testing.assert_array_equal(a, b)
    # The policy's features are the critic's: changing the critic's head changes the actions.
    obs = minibatch["observations"]
    enc = agent.critic.params["encoder"]
    moved = {**enc, "dense_wrist_1": jax.tree.map(lambda x: x + 0.5, enc["dense_wrist_1"])}
    other = agent.replace(critic=agent.critic.replace(params={**agent.critic.params, "encoder": moved}))
    assert not np.allclose(agent.eval_actions(obs), other.eval_actions(obs))


def test_random_crop_shifts_each_frame_within_the_padding():
    frames = np.arange(2 * 3 * 8 * 8 * 3, dtype=np.uint8).reshape(2, 3, 8, 8, 3)
    out = np.asarray(random_crop(jnp.asarray(frames), jax.random.PRNGKey(0), 2))
    assert out.shape == frames.shape
    np.testing.assert_array_equal(random_crop(jnp.asarray(frames), jax.random.PRNGKey(0), 0), frames)
    padded = np.pad(frames.reshape(-1, 8, 8, 3), ((0, 0), (2, 2), (2, 2), (0, 0)), mode="edge")
    offsets = []
    for i, crop in enumerate(out.reshape(-1, 8, 8, 3)):
        hits = [(dy, dx) for dy in range(5) for dx in range(5) if np.array_equal(padded[i, dy:dy + 8, dx:dx + 8], crop)]
        assert hits, f"frame {i} is not a crop of its padded frame"
        offsets.append(hits[0])
    assert len(set(offsets)) > 1


def test_pixel_rlpd_trains_and_evaluates_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """RLPD from 32x32 frames through `hilserl-bench train` and `eval` (the real CLI, tiny sizes)."""
    from hilserl_bench.cli import main
    from hilserl_bench.data.recorder import record_episodes

    demos = tmp_path / "demos"
    record_episodes("ram_insertion", episodes=1, out_dir=demos, seed=0, obs_mode="pixels", image_size=32)
    run = tmp_path / "run"
    args = ["train", "--task", "ram_insertion", "--obs-mode", "pixels", "--image-size", "32", "--batch-size", "4",
            "--env-steps", "12", "--start-training", "10", "--demos", str(demos), "--out", str(run)]
    assert main(args) == 0
    assert "learner steps" in capsys.readouterr().out
    saved = json.loads((run / "config.json").read_text())
    assert saved["pixels"]["image_size"] == 32 and saved["obs_mode"] == "pixels"
    meta = json.loads((run / "ckpt_00000001" / "meta.json").read_text())
    assert meta["learner_steps"] >= 2
    arrays = np.load(run / "ckpt_00000001" / "arrays.npz")
    assert any("encoder/backbone/conv_init/kernel" in k for k in arrays.files)
    assert main(["eval", "--run", str(run), "--episodes", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["episodes"] == 1 and 0.0 <= report["success_rate"] <= 1.0


def test_pixel_options_survive_the_run_config_round_trip():
    from hilserl_bench.training.config import TrainConfig
    from hilserl_bench.training.pixels import PixelOptions, RewardOptions

    pixels = PixelOptions(image_size=32, weights=Path("w.npz"))
    cfg = TrainConfig(task="ram_insertion", obs_mode="pixels", pixels=pixels,
                      reward_model=RewardOptions(reward="classifier", classifier=Path("c.npz")))
    assert TrainConfig.from_json(json.loads(json.dumps(cfg.to_json()))) == cfg
    with pytest.raises(ValueError, match="--obs-mode pixels"):
        dataclasses.replace(cfg, obs_mode="state").validate()
    with pytest.raises(ValueError, match="--classifier PATH"):
        dataclasses.replace(cfg, reward_model=RewardOptions(reward="classifier")).validate()


def test_frames_are_stored_once_per_step():
    from hilserl_bench.baselines.bench_pixels import frame_memory

    for cams in (2, 3):
        m = frame_memory(cams, image_size=32, episode_steps=50, capacity=500)
        frame = 32 * 32 * 3
        assert m["naive_bytes_per_transition"] - m["stored_bytes_per_transition"] > 0.95 * cams * frame
        assert m["stored_bytes_per_transition"] < cams * frame * 51 / 50 + 400
