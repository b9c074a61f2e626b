"""JAX baselines: RLPD/SAC (with the discrete gripper critic), BC and HG-DAgger.

Agents are immutable ``flax.struct`` pytrees built by ``Agent.create(rng, obs_example,
action_dim, config)``; ``agent.update(batch) -> (agent, info)`` is jitted and pure, and
actors call ``sample_actions(obs, rng)`` / ``eval_actions(obs)`` on batched observation
dicts. ``to_state_dict`` / ``from_state_dict`` checkpoint any of them as flat numpy arrays.
"""

from hilserl_bench.baselines.bc import BCAgent, drop_idle, nonidle_mask
from hilserl_bench.baselines.gripper_critic import (
    GripperAgent,
    gripper_to_index,
    index_to_gripper,
    joint_index,
    joint_to_gripper,
)
from hilserl_bench.baselines.networks import StateEncoder, from_state_dict, to_state_dict
from hilserl_bench.baselines.presets import PRESETS, BCConfig, GripperConfig, RLPDConfig, SACConfig, preset
from hilserl_bench.baselines.rlpd import RLPDAgent
from hilserl_bench.baselines.sac import SACAgent

__all__ = [
    "PRESETS",
    "BCAgent",
    "BCConfig",
    "GripperAgent",
    "GripperConfig",
    "RLPDAgent",
    "RLPDConfig",
    "SACAgent",
    "SACConfig",
    "StateEncoder",
    "drop_idle",
    "from_state_dict",
    "gripper_to_index",
    "index_to_gripper",
    "joint_index",
    "joint_to_gripper",
    "nonidle_mask",
    "preset",
    "to_state_dict",
]
