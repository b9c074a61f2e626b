"""The paper's binary success classifier and its training step.

Network (SERL's ``BinaryClassifier``): per camera the same frozen backbone + spatial embeddings +
Dense 256 / LayerNorm / tanh head as the policy encoder (no proprioception), concatenated, then
Dense 256 -> dropout 0.1 -> LayerNorm -> ReLU -> Dense 1 logit. Trained with sigmoid
cross-entropy on balanced batches (half positive, half negative frames), random-crop
augmentation, Adam 1e-4 (learning.md: about 150 steps of 128 + 128 frames).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax import struct
from flax.training.train_state import TrainState

from hilserl_bench.baselines.augmentation import augment_batch
from hilserl_bench.baselines.image_encoder import PixelEncoder


class SuccessClassifier(nn.Module):
    """``{"images": {cam: (B, H, W, 3)}}`` -> success logit ``(B,)``."""

    cameras: tuple[str, ...]
    backbone: str = "resnet10"
    freeze_backbone: bool = True
    hidden_dim: int = 256
    dropout_rate: float = 0.1
    precomputed: bool = False
    """Inputs are cached backbone feature maps, not frames (see ``PixelEncoder.precomputed``)."""

    @nn.compact
    def __call__(self, observations: dict[str, Any], train: bool = False) -> jax.Array:
        x = PixelEncoder(self.cameras, self.backbone, self.freeze_backbone, use_proprio=False,
                         precomputed=self.precomputed, name="encoder")(observations, train=train)
        x = nn.Dense(self.hidden_dim)(x)
        x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
        x = nn.relu(nn.LayerNorm()(x))
        return nn.Dense(1)(x)[..., 0]


class ClassifierTrainer(struct.PyTreeNode):
    """Immutable classifier + Adam state; ``update`` is one jitted step on a labelled batch."""

    state: TrainState
    rng: jax.Array
    net: SuccessClassifier = struct.field(pytree_node=False)
    augment_pad: int = struct.field(pytree_node=False, default=4)

    @classmethod
    def create(cls, rng: jax.Array, net: SuccessClassifier, example: dict[str, Any], lr: float = 1e-4,
               augment_pad: int = 4) -> ClassifierTrainer:
        """Initialise ``net`` on a batched example observation."""
        rng, key = jax.random.split(rng)
        params = jax.jit(net.init)(key, example)["params"]
        return cls(TrainState.create(apply_fn=None, params=params, tx=optax.adam(lr)), rng, net, augment_pad)

    def logits(self, params: Any, observations: dict[str, Any], train: bool = False,
               rng: jax.Array | None = None) -> jax.Array:
        """Success logits ``(B,)``."""
        rngs = {"dropout": rng} if rng is not None else None
        return self.net.apply({"params": params}, observations, train=train, rngs=rngs)

    def loss(self, params: Any, batch: dict[str, Any], rng: jax.Array) -> tuple[jax.Array, dict]:
        """Mean sigmoid cross-entropy against ``batch["labels"]`` (1 success, 0 not)."""
        logits = self.logits(params, batch["observations"], train=True, rng=rng)
        labels = batch["labels"].astype(jnp.float32)
        loss = optax.sigmoid_binary_cross_entropy(logits, labels).mean()
        accuracy = jnp.mean((logits > 0) == (labels > 0.5))
        return loss, {"loss": loss, "accuracy": accuracy}

    @jax.jit
    def update(self, batch: dict[str, Any]) -> tuple[ClassifierTrainer, dict[str, jax.Array]]:
        """Random-crop the frames, then one Adam step."""
        rng, k_aug, k_drop = jax.random.split(self.rng, 3)
        batch = augment_batch(batch, k_aug, self.augment_pad)
        grads, info = jax.grad(self.loss, has_aux=True)(self.state.params, batch, k_drop)
        return self.replace(state=self.state.apply_gradients(grads=grads), rng=rng), info

    @jax.jit
    def probabilities(self, observations: dict[str, Any]) -> jax.Array:
        """Success probabilities ``(B,)`` (no dropout, no augmentation)."""
        return jax.nn.sigmoid(self.logits(self.state.params, observations))
