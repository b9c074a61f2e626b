"""The paper's image backbone: ResNet-10 with GroupNorm, as the SERL / HIL-SERL code defines it.

Stages ``(1, 1, 1, 1)`` of basic blocks with 64 filters doubling per stage, GroupNorm with 4
groups, ReLU, a 7x7 stride-2 stem convolution and a 3x3 stride-2 max-pool. Input frames are
uint8 ``(B, H, W, 3)``; they are scaled to [0, 1] and normalised by the ImageNet mean/std the
pretrained weights expect. A 128x128 frame becomes a ``(4, 4, 512)`` feature map.

Parameter names follow the official module tree (``conv_init``, ``norm_init``,
``ResNetBlock_<i>/{Conv_0, MyGroupNorm_0, Conv_1, MyGroupNorm_1, conv_proj, norm_proj}``) so
the official ``resnet10_params.pkl`` maps onto it key for key (see
:mod:`hilserl_bench.baselines.pretrained`).
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def normalise_imagenet(images: jax.Array) -> jax.Array:
    """uint8 (or [0, 255] float) frames -> float32 normalised by the ImageNet mean and std."""
    x = jnp.asarray(images, jnp.float32) / 255.0
    return (x - jnp.asarray(IMAGENET_MEAN, jnp.float32)) / jnp.asarray(IMAGENET_STD, jnp.float32)


class MyGroupNorm(nn.GroupNorm):
    """GroupNorm that also accepts a single unbatched (H, W, C) map, as the official class does."""

    def __call__(self, x: jax.Array) -> jax.Array:
        if x.ndim == 3:
            return super().__call__(x[None])[0]
        return super().__call__(x)


class ResNetBlock(nn.Module):
    """Basic residual block: two 3x3 convolutions, a 1x1 projection when the shape changes."""

    filters: int
    strides: tuple[int, int] = (1, 1)
    groups: int = 4

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        conv = lambda f, k, s, **kw: nn.Conv(f, k, s, use_bias=False, kernel_init=nn.initializers.kaiming_normal(),  # noqa: E731
                                             **kw)
        residual = x
        y = conv(self.filters, (3, 3), self.strides, name="Conv_0")(x)
        y = nn.relu(MyGroupNorm(num_groups=self.groups, epsilon=1e-5, name="MyGroupNorm_0")(y))
        y = conv(self.filters, (3, 3), (1, 1), name="Conv_1")(y)
        y = MyGroupNorm(num_groups=self.groups, epsilon=1e-5, name="MyGroupNorm_1")(y)
        if residual.shape != y.shape:
            residual = conv(self.filters, (1, 1), self.strides, name="conv_proj")(residual)
            residual = MyGroupNorm(num_groups=self.groups, epsilon=1e-5, name="norm_proj")(residual)
        return nn.relu(residual + y)


class ResNet10(nn.Module):
    """ResNet-10 feature extractor: ``(B, H, W, 3)`` uint8 -> ``(B, H/32, W/32, 512)`` float32."""

    stage_sizes: Sequence[int] = (1, 1, 1, 1)
    num_filters: int = 64
    groups: int = 4

    @nn.compact
    def __call__(self, images: jax.Array, train: bool = False) -> jax.Array:
        x = normalise_imagenet(images)
        x = nn.Conv(self.num_filters, (7, 7), (2, 2), padding=[(3, 3), (3, 3)], use_bias=False,
                    kernel_init=nn.initializers.kaiming_normal(), name="conv_init")(x)
        x = nn.relu(MyGroupNorm(num_groups=self.groups, epsilon=1e-5, name="norm_init")(x))
        x = nn.max_pool(x, (3, 3), strides=(2, 2), padding="SAME")
        index = 0
        for i, size in enumerate(self.stage_sizes):
            for j in range(size):
                strides = (2, 2) if i > 0 and j == 0 else (1, 1)
                x = ResNetBlock(self.num_filters * 2**i, strides, self.groups, name=f"ResNetBlock_{index}")(x)
                index += 1
        return x

    @property
    def out_channels(self) -> int:
        """Channels of the output feature map (512 for the paper's network)."""
        return self.num_filters * 2 ** (len(self.stage_sizes) - 1)
