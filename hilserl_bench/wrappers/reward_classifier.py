"""Reward from a learned success classifier, as on the real robot where no simulator judges.

``classifier(obs)`` returns a success probability; the reward is 1 when it exceeds
``threshold`` (strictly, as the official reward functions do) and the optional cheap
``state_check(obs)`` agrees, else 0, and the episode terminates when it fires. Both see the
observation as this wrapper receives it, so place the wrapper where the classifier's
expected format holds. The env's own ``info["succeed"]`` and reward are kept untouched
(``info["env_reward"]``) so the classifier can be scored against the truth in simulation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np


class RewardClassifier(gym.Wrapper):
    """Replace the reward with ``classifier(obs) > threshold [and state_check(obs)]``.

    Adds ``info["classifier_prob"]``, ``info["classifier_success"]`` and
    ``info["env_reward"]``; sets ``terminated`` when the reward fires.

    Args:
        classifier: any callable ``obs -> probability`` (a float or a one-element array).
        threshold: probability above which the classifier counts as success (paper: 0.7 to 0.85).
        state_check: optional ``obs -> bool`` that must also hold (e.g. gripper closed).
    """

    def __init__(
        self,
        env: gym.Env,
        classifier: Callable[[Any], Any],
        threshold: float = 0.85,
        state_check: Callable[[Any], bool] | None = None,
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"RewardClassifier: threshold must lie in [0, 1], got {threshold}")
        super().__init__(env)
        self.classifier = classifier
        self.threshold = threshold
        self.state_check = state_check

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict]:
        obs, env_reward, terminated, truncated, info = self.env.step(action)
        prob = np.asarray(self.classifier(obs), dtype=np.float64)
        if prob.size != 1:
            raise ValueError(f"RewardClassifier: classifier returned shape {prob.shape}, expected one probability")
        prob_value = float(prob.reshape(()))
        success = prob_value > self.threshold and (self.state_check is None or bool(self.state_check(obs)))
        info = {**info, "classifier_prob": prob_value, "classifier_success": success, "env_reward": env_reward}
        return obs, 1.0 if success else 0.0, bool(terminated) or success, truncated, info
