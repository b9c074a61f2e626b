"""The full-action RLPD agent: SAC on the twist dims, the discrete gripper critic on the gripper dims.

One class serves one or two arms; the env action is ``n_arms`` blocks of 6 twist dims
(+1 gripper dim per arm when the gripper is learned).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from hilserl_bench.baselines.gripper_critic import GripperAgent
from hilserl_bench.baselines.presets import RLPDConfig
from hilserl_bench.baselines.sac import Batch, SACAgent


class RLPDAgent(struct.PyTreeNode):
    """The full-action agent: SAC on every arm's 6 twist dims, plus the gripper critic when grippers are learned.

    The env action is ``n_arms`` blocks of 6 twist dims (+1 gripper dim for learned grippers).
    One ``update`` does ``SACAgent.update`` on the twist dims (reward = task reward) and, with
    a gripper, ``GripperAgent.update`` on the same minibatches (reward + ``grasp_penalty``).
    """

    sac: SACAgent
    gripper: GripperAgent | None
    n_arms: int = struct.field(pytree_node=False)
    action_dim: int = struct.field(pytree_node=False)

    @classmethod
    def create(
        cls,
        rng: jax.Array,
        obs_example: dict[str, Any],
        action_dim: int,
        config: RLPDConfig | None = None,
        encoder: nn.Module | None = None,
        n_arms: int | None = None,
    ) -> RLPDAgent:
        """``n_arms`` defaults to 1 for 6/7-dim actions and 2 for 12/14; each block must be 6 or 7 wide."""
        config = config or RLPDConfig()
        n_arms = n_arms or (1 if action_dim <= 7 else 2)
        width = action_dim // n_arms
        wrench = n_arms == 1 and action_dim < 6  # wrench control (flipping, Jenga): SAC over every dim
        if not wrench and (width * n_arms != action_dim or width not in (6, 7)):
            raise ValueError(f"action_dim {action_dim} is not {n_arms} blocks of 6 (twist) or 7 (twist + gripper)")
        k_sac, k_grip = jax.random.split(rng)
        sac = SACAgent.create(k_sac, obs_example, action_dim if wrench else 6 * n_arms, config.sac, encoder)
        gripper = None
        if width == 7:
            gripper = GripperAgent.create(
                k_grip, obs_example, n_arms, config.sac.discount, config.gripper, encoder, config.sac.scan_updates
            )
        return cls(sac, gripper, n_arms, action_dim)

    @property
    def twist_dims(self) -> np.ndarray:
        """Indices of the twist dims in the env action."""
        return np.array([i for i in range(self.action_dim) if i % (self.action_dim // self.n_arms) < 6 or
                         self.action_dim < 6])

    @property
    def gripper_dims(self) -> np.ndarray:
        """Indices of the gripper dims in the env action (empty without a learned gripper)."""
        return np.array([i for i in range(self.action_dim) if i % (self.action_dim // self.n_arms) == 6], int)

    @jax.jit
    def update(self, batch: Batch) -> tuple[RLPDAgent, dict[str, jax.Array]]:
        """SAC update on the twist dims and gripper-critic steps on the gripper dims (see the class doc)."""
        actions = batch["actions"]
        sac, info = self.sac.update({**batch, "actions": actions[..., self.twist_dims]})
        gripper = self.gripper
        if gripper is not None:
            gripper, gripper_info = gripper.update({**batch, "actions": actions[..., self.gripper_dims]})
            info = {**info, **gripper_info}
        return self.replace(sac=sac, gripper=gripper), info

    def _assemble(self, twist: jax.Array, gripper: jax.Array | None) -> jax.Array:
        actions = jnp.zeros((twist.shape[0], self.action_dim), jnp.float32).at[:, self.twist_dims].set(twist)
        return actions if gripper is None else actions.at[:, self.gripper_dims].set(gripper)

    @jax.jit
    def sample_actions(self, observations: dict, rng: jax.Array) -> jax.Array:
        """Exploration actions ``(B, action_dim)``: sampled twist, (epsilon-)greedy gripper."""
        k_sac, k_grip = jax.random.split(rng)
        twist = self.sac.sample_actions(observations, k_sac)
        gripper = None if self.gripper is None else self.gripper.sample_actions(observations, k_grip)
        return self._assemble(twist, gripper)

    @jax.jit
    def eval_actions(self, observations: dict) -> jax.Array:
        """Deterministic actions ``(B, action_dim)``: ``tanh(mean)`` twist, greedy gripper."""
        gripper = None if self.gripper is None else self.gripper.eval_actions(observations)
        return self._assemble(self.sac.eval_actions(observations), gripper)
