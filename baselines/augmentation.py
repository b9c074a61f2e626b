"""Random-crop augmentation of camera frames, applied inside the jitted agent update.

DrQ / SERL style: every frame is padded by ``pad`` pixels in edge mode and a random ``H x W``
window is cut back out, independently per frame, per camera and for ``observations`` and
``next_observations``. :class:`Augmented` wraps any agent (RLPD, SAC, BC) so that its
``update`` crops the batch first, in the same compiled function; acting never augments, and the
wrapped agent's code is untouched. Batches may carry leading axes (RLPD's ``(U, B, ...)``).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct


def random_crop(images: jax.Array, rng: jax.Array, pad: int) -> jax.Array:
    """Edge-pad ``(..., H, W, C)`` frames by ``pad`` and crop a random ``H x W`` window from each."""
    if pad <= 0:
        return images
    *lead, h, w, c = images.shape
    flat = images.reshape(-1, h, w, c)
    padded = jnp.pad(flat, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="edge")
    offsets = jax.random.randint(rng, (flat.shape[0], 2), 0, 2 * pad + 1)

    def crop(frame: jax.Array, offset: jax.Array) -> jax.Array:
        return jax.lax.dynamic_slice(frame, (offset[0], offset[1], 0), (h, w, c))

    return jax.vmap(crop)(padded, offsets).reshape(*lead, h, w, c)


def augment_batch(batch: dict[str, Any], rng: jax.Array, pad: int) -> dict[str, Any]:
    """``batch`` with every camera of ``observations`` and ``next_observations`` randomly cropped."""
    out = dict(batch)
    for key in ("observations", "next_observations"):
        obs = batch.get(key)
        if obs is None or "images" not in obs:
            continue
        images = {}
        for cam, frames in sorted(obs["images"].items()):
            rng, sub = jax.random.split(rng)
            images[cam] = random_crop(frames, sub, pad)
        out[key] = {**obs, "images": images}
    return out


class Augmented(struct.PyTreeNode):
    """An agent whose ``update`` random-crops the batch's frames first (one jitted function)."""

    agent: Any
    rng: jax.Array
    pad: int = struct.field(pytree_node=False, default=4)

    @jax.jit
    def update(self, batch: dict[str, Any]) -> tuple[Augmented, dict[str, jax.Array]]:
        """Crop, then the wrapped agent's update."""
        rng, key = jax.random.split(self.rng)
        agent, info = self.agent.update(augment_batch(batch, key, self.pad))
        return self.replace(agent=agent, rng=rng), info

    def sample_actions(self, observations: dict, rng: jax.Array) -> jax.Array:
        """The wrapped agent's exploration actions (no augmentation when acting)."""
        return self.agent.sample_actions(observations, rng)

    def eval_actions(self, observations: dict) -> jax.Array:
        """The wrapped agent's deterministic actions."""
        return self.agent.eval_actions(observations)
