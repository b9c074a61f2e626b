"""Observation/action wrappers of the HIL-SERL training stack, each one job.

Usual order, innermost first::

    env = hilserl_bench.make(task_id)
    env = RelativeFrame(env)        # TCP-frame actions and velocities, pose relative to reset
    env = QuatToEuler(env)          # tcp_pose 7 -> 6
    env = GripperPenalty(env)       # learned-gripper tasks only; needs the state dict
    env = FlattenState(env)         # state dict -> one vector with an explicit .layout
    env = ScaleState(env)           # every state entry divided by its physical unit
    env = RewardClassifier(env, classifier)  # real robot: learned reward
    env = ObservationHistory(env, n=1)       # leading history axis on every leaf
"""

from hilserl_bench.wrappers.flatten_state import CANONICAL_ARM_KEYS, FlattenState, FlattenStateConfig
from hilserl_bench.wrappers.gripper_penalty import GripperPenalty, GripperPenaltyConfig
from hilserl_bench.wrappers.history import ObservationHistory
from hilserl_bench.wrappers.quat_to_euler import QuatToEuler
from hilserl_bench.wrappers.relative_frame import RelativeFrame, base_to_tcp_twist, tcp_to_base_twist
from hilserl_bench.wrappers.reward_classifier import RewardClassifier
from hilserl_bench.wrappers.scale_state import ScaleState

__all__ = [
    "CANONICAL_ARM_KEYS",
    "FlattenState",
    "FlattenStateConfig",
    "GripperPenalty",
    "GripperPenaltyConfig",
    "ObservationHistory",
    "QuatToEuler",
    "RelativeFrame",
    "RewardClassifier",
    "ScaleState",
    "base_to_tcp_twist",
    "tcp_to_base_twist",
]
