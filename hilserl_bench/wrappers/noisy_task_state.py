"""The `noisy_state` observation variant: privileged task state with a camera-sized estimation error.

State mode hands the policy the simulator's exact object state (offsets to the seat, object
rotation), which makes BC far stronger than in the paper (RAM: 100% against the paper's 29%):
the paper's policies see 128 px images, from which an object's pose is known only to a few
millimetres and a degree or two. This wrapper adds such an error to ``obs["task"]``, so the
paper's BC gap can be studied on a CPU without rendering.

The error is a *per-episode* constant (drawn at reset, held for the whole episode), which is how
a pose estimate from a fixed camera is wrong: a calibration / estimation bias, not white noise a
policy could average away. Each task-state entry gets its own Gaussian draw; entries whose key
contains ``rotation`` get the task's ``rotation_noise_rad`` per component, every other entry
(offsets, distances, lip and clip openings, all in metres) ``position_noise_m``. The magnitudes
are data in each task's :class:`~hilserl_bench.benchmark_spec.TaskBenchmark` (the docstrings
there say why 3 mm / 1.5 deg for wrist-camera tasks and 5 mm / 2 deg for side-camera tasks).

The draw is seeded from the reset seed, so an evaluation episode sees the same error every time
it is replayed; a reset without a seed draws from the wrapper's own generator. Only the
observation is perturbed: success, reward, the scripted expert and the supervisor all read the
true state (they sit below this wrapper or read ``env.unwrapped``).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

NOISE_STREAM = 0x5EED
"""Mixed into the reset seed so the error's stream differs from every other stream seeded by it."""


class NoisyTaskState(gym.ObservationWrapper):
    """Add a per-episode constant error of ``position_noise_m`` / ``rotation_noise_rad`` std to ``obs["task"]``."""

    def __init__(self, env: gym.Env, position_noise_m: float | None = None,
                 rotation_noise_rad: float | None = None, seed: int = 0) -> None:
        super().__init__(env)
        if not isinstance(env.observation_space, gym.spaces.Dict) or "task" not in env.observation_space.spaces:
            raise ValueError("NoisyTaskState needs obs['task'] (make the env with obs_mode='state')")
        if position_noise_m is None or rotation_noise_rad is None:
            from hilserl_bench.benchmark_spec import benchmark_of

            spec = benchmark_of(env.unwrapped.task.task_id)
            position_noise_m = spec.position_noise_m if position_noise_m is None else position_noise_m
            rotation_noise_rad = spec.rotation_noise_rad if rotation_noise_rad is None else rotation_noise_rad
        if position_noise_m < 0 or rotation_noise_rad < 0:
            raise ValueError(f"noise must be >= 0, got {position_noise_m} m and {rotation_noise_rad} rad")
        self.position_noise_m, self.rotation_noise_rad = float(position_noise_m), float(rotation_noise_rad)
        self._spaces = env.observation_space["task"].spaces
        self._rng = np.random.default_rng([seed, NOISE_STREAM])
        self.error: dict[str, np.ndarray] = self._draw(self._rng)
        """The current episode's error per task-state key (what ``observation`` adds)."""

    def std_of(self, key: str) -> float:
        """The error's std for one task-state key (rad for rotations, m otherwise)."""
        return self.rotation_noise_rad if "rotation" in key else self.position_noise_m

    def _draw(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {key: (rng.standard_normal(space.shape) * self.std_of(key)).astype(np.float32)
                for key, space in self._spaces.items()}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        rng = np.random.default_rng([seed, NOISE_STREAM]) if seed is not None else self._rng
        self.error = self._draw(rng)
        return super().reset(seed=seed, options=options)

    def observation(self, observation: dict[str, Any]) -> dict[str, Any]:
        task = {key: np.asarray(value, dtype=np.float32) + self.error[key]
                for key, value in observation["task"].items()}
        return {**observation, "task": task}
