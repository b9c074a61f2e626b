"""Reward classifier: learns a separable set, scores FP/FN exactly, saves safely, rewards an env, runs via the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hilserl_bench.reward_classifier import ClassifierPredictor, load_classifier, save_classifier
from hilserl_bench.reward_classifier_train import FrameSet, boundary_mask, evaluate_classifier, train_classifier


def _separable(n: int, seed: int) -> FrameSet:
    """Half the frames show a bright square in the top-left corner (success), half do not."""
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 100, (n, 32, 32, 3), dtype=np.uint8)
    labels = (np.arange(n) % 2).astype(np.int32)
    frames[labels == 1, 4:14, 4:14] = 250
    return FrameSet({"cam": frames}, labels, np.arange(n) // 4, np.arange(n) % 4)


def test_classifier_learns_a_separable_set_and_round_trips(tmp_path: Path):
    trainer = train_classifier(_separable(64, 0), ("cam",), steps=40, batch_size=16, lr=1e-3, seed=0)
    test = _separable(40, 1)
    probs = np.asarray(trainer.probabilities({"images": test.images}))
    accuracy = np.mean((probs > 0.5) == (test.labels == 1))
    assert accuracy >= 0.9, accuracy
    path = save_classifier(tmp_path / "c.npz", trainer, "ram_insertion", (32, 32, 3), 0.8, {"note": "test"})
    loaded = load_classifier(path)
    assert (loaded.task_id, loaded.cameras, loaded.threshold) == ("ram_insertion", ("cam",), 0.8)
    np.testing.assert_allclose(ClassifierPredictor(loaded).batch(test.images), probs, rtol=1e-5, atol=1e-6)
    with np.load(path, allow_pickle=False) as npz:  # plain arrays only
        assert all(npz[k].dtype != object for k in npz.files)


def test_fp_fn_counts_against_the_truth():
    # Two episodes of 6 frames: the first succeeds from frame 4, the second never does.
    truth = np.array([0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0], np.int32)
    frames = FrameSet({"cam": np.zeros((12, 1, 1, 3), np.uint8)}, truth, np.repeat([0, 1], 6), np.tile(np.arange(6), 2))
    probs = np.array([0, 0, .9, 0, .9, .2, 0, 0, 0, 0, 0, .95])
    report = evaluate_classifier(probs, frames, threshold=0.8, boundary=1)
    assert report["all"]["false_pos"] == 2 and report["all"]["false_neg"] == 1
    assert report["all"]["negatives"] == 10 and report["all"]["positives"] == 2
    np.testing.assert_array_equal(boundary_mask(frames, truth.astype(bool), 1)[:6], [0, 0, 0, 1, 1, 0])
    assert report["near_boundary"]["frames"] == 2 and report["near_boundary"]["false_pos"] == 0
    assert report["episodes"] == {"episodes": 2, "successful": 1, "false_fire": 2, "missed_success": 0}


@pytest.fixture(scope="module")
def ram_pixel_episodes(tmp_path_factory) -> Path:
    from hilserl_bench.data.recorder import record_episodes

    out = tmp_path_factory.mktemp("frames") / "ram"
    record_episodes("ram_insertion", episodes=2, out_dir=out, seed=0, obs_mode="pixels", image_size=32)
    return out


def test_classifier_cli_train_eval_and_reward_in_training(ram_pixel_episodes: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]):
    from hilserl_bench.cli import main

    clf = tmp_path / "ram.npz"
    assert main(["classifier", "train", "--task", "ram_insertion", "--frames", str(ram_pixel_episodes),
                 "--out", str(clf), "--steps", "3", "--batch-size", "8"]) == 0
    assert load_classifier(clf).image_shape == (32, 32, 3)
    capsys.readouterr()
    assert main(["classifier", "eval", "--classifier", str(clf), "--episodes", str(ram_pixel_episodes)]) == 0
    table = capsys.readouterr().out
    assert "near_boundary" in table and "FP rate" in table
    assert main(["classifier", "eval", "--classifier", str(clf), "--episodes", str(ram_pixel_episodes), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    frames = sum(len(np.load(p)["rewards"]) + 1 for p in sorted(ram_pixel_episodes.glob("*.npz")))
    assert report["all"]["frames"] == frames and report["episodes"]["successful"] == 2
    assert main(["classifier", "train", "--task", "ram_insertion"]) == 2  # --frames is required: one line, exit 2

    run = tmp_path / "run"
    assert main(["train", "--task", "ram_insertion", "--obs-mode", "pixels", "--image-size", "32", "--agent", "bc",
                 "--demos", str(ram_pixel_episodes), "--bc-steps", "2", "--batch-size", "4", "--env-steps", "3",
                 "--reward", "classifier", "--classifier", str(clf), "--out", str(run)]) == 0
    assert json.loads((run / "config.json").read_text())["reward_model"]["reward"] == "classifier"


def test_classifier_reward_replaces_the_simulators(ram_pixel_episodes: Path, tmp_path: Path):
    import hilserl_bench
    from hilserl_bench.data.learning_env import wrap_learning_stack
    from hilserl_bench.reward_classifier import classifier_reward_env
    from hilserl_bench.reward_classifier_train import load_frames

    frames, cams, shape, _ = load_frames(ram_pixel_episodes, "ram_insertion", None)
    trainer = train_classifier(frames, cams, steps=1, batch_size=4)
    path = save_classifier(tmp_path / "c.npz", trainer, "ram_insertion", shape, 0.0, {})
    env = wrap_learning_stack(hilserl_bench.make("ram_insertion", obs_mode="pixels", image_size=32))
    wrapped = classifier_reward_env(env, path, threshold=0.0, state_check=False)
    wrapped.reset(seed=0)
    _, reward, terminated, _, info = wrapped.step(np.zeros(env.action_space.shape))
    assert reward == 1.0 and terminated and info["classifier_prob"] > 0.0 and info["succeed"] is False
    strict = classifier_reward_env(env, path, threshold=1.0, state_check=True)
    strict.reset(seed=0)
    assert strict.step(np.zeros(env.action_space.shape))[1] == 0.0
    with pytest.raises(ValueError, match="trained for 'ram_insertion'"):
        classifier_reward_env(wrap_learning_stack(hilserl_bench.make("usb_insertion", obs_mode="pixels",
                                                                     image_size=32)), path)
