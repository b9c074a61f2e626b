"""Reference policies the replica checks run against SSD assembly and cable clipping.

Each one answers "could a policy that does not solve the task the right way still
score?": uniform random actions, an open-loop replay of the expert's nominal-start
actions (uses only the nominal poses, no observation), and the obvious naive motion
of each task. They act in the raw env's action space like the scripted experts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import hilserl_bench as hb
from hilserl_bench.envs.experts import make_expert
from hilserl_bench.envs.experts.base import servo_action


class RandomActions:
    """Uniform actions in [-1, 1]."""

    def __init__(self, env: Any) -> None:
        self.dim = env.action_space.shape[0]

    def reset(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def act(self, obs: dict[str, Any]) -> np.ndarray:
        return self.rng.uniform(-1.0, 1.0, self.dim).astype(np.float32)


class OpenLoopReplay:
    """The noise-free expert's actions from the nominal (unrandomised) start, replayed blind."""

    def __init__(self, task_id: str) -> None:
        env = hb.make(task_id, obs_mode="state", random_xy=0.0, random_yaw=0.0)
        expert = make_expert(env)
        obs, _ = env.reset(seed=0)
        expert.reset(np.random.default_rng(0))
        self.actions = []
        for _ in range(env.unwrapped.task.config.max_steps):
            action = expert.act(obs)
            self.actions.append(action)
            obs, _, term, trunc, _ = env.step(action)
            if term or trunc:
                break
        self.nominal_success = bool(term)
        env.close()

    def reset(self, rng: np.random.Generator) -> None:
        self.t = 0

    def act(self, obs: dict[str, Any]) -> np.ndarray:
        action = self.actions[min(self.t, len(self.actions) - 1)]
        self.t += 1
        return action if self.t <= len(self.actions) else np.zeros_like(action)


class ServoTo:
    """Servo the TCP straight to a fixed pose (the task's target, or one beyond it), gripper per ``gripper``."""

    def __init__(self, env: Any, offset: np.ndarray | None = None, gripper: float | None = None) -> None:
        self.task = env.unwrapped.task
        self.goal = self.task.target_pose
        if offset is not None:
            self.goal[:3] += offset
        self.gripper = gripper

    def reset(self, rng: np.random.Generator) -> None:
        pass

    def act(self, obs: dict[str, Any]) -> np.ndarray:
        pose = np.asarray(obs["state"]["tcp_pose"], dtype=np.float64)
        action = servo_action(pose, self.goal, self.task.config.action_scale)
        if self.gripper is not None:
            action = np.append(action, self.gripper)
        return action.astype(np.float32)


class Waypoints:
    """Servo through fixed TCP poses in order (next one when within 1 mm), gripper value per waypoint."""

    def __init__(self, env: Any, poses: list[np.ndarray], grippers: list[float | None]) -> None:
        self.task = env.unwrapped.task
        self.poses, self.grippers = poses, grippers

    def reset(self, rng: np.random.Generator) -> None:
        self.i = 0

    def act(self, obs: dict[str, Any]) -> np.ndarray:
        pose = np.asarray(obs["state"]["tcp_pose"], dtype=np.float64)
        goal = self.poses[self.i]
        if np.linalg.norm(pose[:3] - goal[:3]) < 0.001 and self.i + 1 < len(self.poses):
            self.i += 1
        action = servo_action(pose, goal, self.task.config.action_scale)
        if self.grippers[self.i] is not None:
            action = np.append(action, self.grippers[self.i])
        return action.astype(np.float32)
