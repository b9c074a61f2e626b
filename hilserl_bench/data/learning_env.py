"""The standard HIL-SERL training stack, and a description of it that travels with every episode.

Learners, demo recording and evaluation must see the same observation vector and the same
action frame, or demos silently teach the wrong thing. :func:`make_learning_env` builds the one
stack everything uses::

    hilserl_bench.make(task) -> RelativeFrame -> QuatToEuler -> [GripperPenalty] -> FlattenState -> ScaleState

(GripperPenalty only for tasks that learn their gripper). Observations are
``{"state": float32 (D,)}`` plus ``"images": {camera: uint8 (H, W, 3)}`` in pixels mode;
actions are TCP-frame twists (+ gripper dims). :func:`describe_stack` summarises the result
as JSON-ready data, stored as each episode's ``metadata["stack"]`` and compared on load.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from hilserl_bench.wrappers import FlattenState, GripperPenalty, QuatToEuler, RelativeFrame, ScaleState


def wrap_learning_stack(env: gym.Env, official_adjoint_coupling: bool = False, noisy_state: bool = False) -> gym.Env:
    """Put the training wrappers on a raw env (or on a transparent wrapper around one).

    ``noisy_state`` puts :class:`~hilserl_bench.wrappers.noisy_task_state.NoisyTaskState` innermost (the
    ``noisy_state`` obs mode: task state with a per-episode, camera-sized estimation error).
    """
    if noisy_state:
        from hilserl_bench.wrappers.noisy_task_state import NoisyTaskState

        env = NoisyTaskState(env)
    env = RelativeFrame(env, official_adjoint_coupling=official_adjoint_coupling)
    env = QuatToEuler(env)
    if env.unwrapped.task.learned_gripper:
        env = GripperPenalty(env)
    return ScaleState(FlattenState(env))


def make_learning_env(task_id: str, obs_mode: str = "state", backend: str = "sim",
                      official_adjoint_coupling: bool = False, **overrides: Any) -> gym.Env:
    """``hilserl_bench.make(task_id, backend, obs_mode, **overrides)`` wrapped in the training stack.

    ``overrides`` go to ``make`` (``render_mode``, ``sim_config`` or task-config fields such as
    ``max_steps``); ``official_adjoint_coupling`` selects the official action-frame quirk.
    ``obs_mode="noisy_state"`` is state mode with the task state's estimation error added.
    """
    import hilserl_bench

    noisy = obs_mode == "noisy_state"
    raw = hilserl_bench.make(task_id, backend=backend, obs_mode="state" if noisy else obs_mode, **overrides)
    return wrap_learning_stack(raw, official_adjoint_coupling=official_adjoint_coupling, noisy_state=noisy)


def wrapper_chain(env: gym.Env) -> list[gym.Env]:
    """Wrappers from the outermost inwards (the raw env excluded)."""
    chain = []
    while isinstance(env, gym.Wrapper):
        chain.append(env)
        env = env.env
    return chain


def describe_stack(env: gym.Env) -> dict[str, Any]:
    """Task id, obs mode, state layout, action dim, cameras, wrappers and package version of ``env``.

    Wrappers whose class name starts with ``_`` (transparent taps used while recording) are
    left out so a recording stack describes itself exactly like the training stack.
    """
    import hilserl_bench

    raw = env.unwrapped
    chain = wrapper_chain(env)
    flatten = next((w for w in chain if isinstance(w, FlattenState)), None)
    if flatten is None:
        raise ValueError("describe_stack needs a stack with FlattenState (see make_learning_env)")
    relative = next((w for w in chain if isinstance(w, RelativeFrame)), None)
    scale = next((w for w in chain if isinstance(w, ScaleState)), None)
    noisy = any(type(w).__name__ == "NoisyTaskState" for w in chain)
    space = env.observation_space
    images = space.spaces.get("images") if isinstance(space, gym.spaces.Dict) else None
    cameras = list(images.spaces) if isinstance(images, gym.spaces.Dict) else []
    return {
        "task_id": raw.task.task_id,
        "obs_mode": "noisy_state" if noisy else getattr(raw, "obs_mode", "pixels" if cameras else "state"),
        "state_layout": [[key, sl.start, sl.stop] for key, sl in flatten.layout],
        "state_units": [round(float(u), 6) for u in scale.units] if scale is not None else None,
        "action_dim": int(env.action_space.shape[0]),
        "action_frame": "tcp" if relative is not None and raw.task.control_mode != "wrench" else "base",
        "official_adjoint_coupling": bool(relative is not None and relative.official_adjoint_coupling),
        "cameras": cameras,
        "image_shape": list(images[cameras[0]].shape) if cameras else None,
        "wrappers": [type(w).__name__ for w in chain if not type(w).__name__.startswith("_")],
        "control_hz": float(raw.task.config.control_hz),
        "max_steps": int(raw.task.config.max_steps),
        "package_version": hilserl_bench.__version__,
    }


def obs_spec(env_or_stack: gym.Env | dict[str, Any]) -> dict[str, Any]:
    """``{"state": D, "images": {cam: (H, W, 3)}}`` for :class:`~hilserl_bench.data.ReplayBuffer`."""
    stack = env_or_stack if isinstance(env_or_stack, dict) else describe_stack(env_or_stack)
    spec: dict[str, Any] = {"state": int(stack["state_layout"][-1][2])}
    if stack.get("cameras"):
        spec["images"] = {cam: tuple(stack["image_shape"]) for cam in stack["cameras"]}
    return spec
