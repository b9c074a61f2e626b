"""Import official HIL-SERL demo pickles (and other pickled array trees) without running their code.

Unpickling can call any importable function, so a downloaded pickle is loaded only through
:class:`RestrictedUnpickler`: it admits numpy's array/dtype/scalar reconstruction and plain
containers (list, dict, tuple, int, float, bool, str) and refuses every other global with
:class:`UnsafePickleError` *before* anything is called.

Official demo files (``examples/record_demos.py``) are a list of transitions ``{"observations",
"actions", "next_observations", "rewards", "masks", "dones", "infos"}`` whose observations are
``{"state": (h, D), <camera>: (h, H, W, 3)}`` with a history axis ``h`` (the chunking wrapper);
the newest entry is kept. The official ``done`` also fires on the time limit, so a done step
counts as terminated when its reward is positive or ``infos["succeed"]`` holds, else truncated.
Actions are stored as recorded (the official stack's TCP frame with its adjoint coupling).
"""

from __future__ import annotations

import builtins
import codecs
import importlib
import io
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hilserl_bench.data.episode_format import Episode, save_episode
from hilserl_bench.data.recorder import EpisodeBuilder, next_episode_index


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle asked for a global outside the allow-list; nothing from it was executed."""


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """Protocol-2 pickles rebuild bytes as ``_codecs.encode(text, "latin1")``; only that is allowed."""
    if encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError(f"refused _codecs.encode with encoding {encoding!r}")
    return codecs.encode(text, "latin1")


def _numpy_core(name: str) -> Any:
    for prefix in ("numpy._core", "numpy.core"):
        try:
            return importlib.import_module(f"{prefix}.{name}")
        except ImportError:
            continue
    raise ImportError(f"numpy has no core.{name}")


def _allowed_globals() -> dict[tuple[str, str], Any]:
    multiarray, numeric = _numpy_core("multiarray"), _numpy_core("numeric")
    allowed: dict[tuple[str, str], Any] = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
                                           ("_codecs", "encode"): _latin1_encode}
    for prefix in ("numpy._core", "numpy.core"):
        allowed[(f"{prefix}.multiarray", "_reconstruct")] = multiarray._reconstruct
        allowed[(f"{prefix}.multiarray", "scalar")] = multiarray.scalar
        allowed[(f"{prefix}.numeric", "_frombuffer")] = numeric._frombuffer
    for name in ("list", "dict", "tuple", "int", "float", "bool", "str"):
        allowed[("builtins", name)] = getattr(builtins, name)
    return allowed


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler whose ``find_class`` admits only numpy arrays and plain containers."""

    _ALLOWED = _allowed_globals()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(f"refused global {module}.{name}: only numpy arrays, dtypes, scalars and "
                                    "builtin list/dict/tuple/int/float/bool/str may be unpickled") from None


def loads_restricted(data: bytes) -> Any:
    """:func:`pickle.loads` through :class:`RestrictedUnpickler`."""
    return RestrictedUnpickler(io.BytesIO(data)).load()


def load_restricted_pickle(path: str | Path) -> Any:
    """Load a pickled tree of numpy arrays and plain containers (e.g. ``resnet10_params.pkl``) safely."""
    with open(path, "rb") as f:
        try:
            return RestrictedUnpickler(f).load()
        except UnsafePickleError as exc:
            raise UnsafePickleError(f"{path}: {exc}") from None


def _latest(value: Any, item_ndim: int) -> np.ndarray:
    arr = np.asarray(value)
    return arr[-1] if arr.ndim == item_ndim + 1 else arr


def _convert_obs(obs: Mapping[str, Any], where: str) -> dict[str, Any]:
    if not isinstance(obs, Mapping) or "state" not in obs or isinstance(obs["state"], Mapping):
        raise ValueError(f"{where}: observations must be a dict with a flat 'state' array (official SERLObsWrapper)")
    out: dict[str, Any] = {"state": _latest(obs["state"], 1).astype(np.float32).reshape(-1), "images": {}}
    for key, value in obs.items():
        if key != "state":
            frame = _latest(value, 3)
            if frame.ndim != 3 or frame.shape[-1] != 3:
                raise ValueError(f"{where}: observation {key!r} has shape {np.shape(value)}, expected (h,) H, W, 3")
            out["images"][key] = frame.astype(np.uint8)
    return out


def official_episodes(transitions: list[Mapping[str, Any]], metadata: Mapping[str, Any]) -> list[Episode]:
    """Split official transitions into episodes at ``dones`` (or where observations stop chaining)."""
    episodes: list[Episode] = []
    builder: EpisodeBuilder | None = None
    for i, t in enumerate(transitions):
        where = f"transition {i}"
        obs = _convert_obs(t["observations"], where)
        if builder is not None and not np.array_equal(builder.states[-1], obs["state"]):
            episodes.append(builder.build(metadata))
            builder = None
        if builder is None:
            builder = EpisodeBuilder(obs)
        info = dict(t.get("infos") or {})
        reward, done = float(t["rewards"]), bool(t.get("dones", float(t.get("masks", 1.0)) == 0.0))
        succeed = bool(info.get("succeed", reward > 0))
        info["succeed"] = succeed
        info["is_intervention"] = "intervene_action" in info
        terminated = done and (reward > 0 or succeed)
        builder.add(np.asarray(t["actions"], np.float32), _convert_obs(t["next_observations"], where), reward,
                    terminated, done and not terminated, info)
        if done:
            episodes.append(builder.build(metadata))
            builder = None
    if builder is not None:
        episodes.append(builder.build(metadata))
    return episodes


def default_official_stack(task_id: str, episode: Episode) -> dict[str, Any]:
    """Stack description of data from the official stack: one opaque state block, TCP frame, coupled adjoint."""
    cams = sorted(episode.images)
    return {"task_id": task_id, "obs_mode": "pixels" if cams else "state",
            "state_layout": [["official/state", 0, int(episode.state.shape[1])]],
            "action_dim": int(episode.actions.shape[1]), "action_frame": "tcp", "official_adjoint_coupling": True,
            "cameras": cams, "image_shape": list(episode.images[cams[0]].shape[1:]) if cams else None,
            "wrappers": ["official-hil-serl"]}


def import_official_demos(pickle_path: str | Path, out_dir: str | Path, task_id: str,
                          stack: Mapping[str, Any] | None = None) -> list[Path]:
    """Convert an official demo pickle into episode files in ``out_dir``; returns their paths.

    ``stack`` (a :func:`~hilserl_bench.data.describe_stack` result) states what the data
    means, e.g. our stack with ``FlattenState(official_alphabetical_order=True)``; its state
    and action sizes must match the file. Without it an opaque official layout is recorded,
    which :func:`~hilserl_bench.data.load_dataset` keeps apart from our own stacks.
    """
    transitions = load_restricted_pickle(pickle_path)
    if not isinstance(transitions, list) or not all(isinstance(t, Mapping) for t in transitions):
        raise ValueError(f"{pickle_path}: expected a list of transition dicts, got {type(transitions).__name__}")
    if not transitions:
        raise ValueError(f"{pickle_path}: holds no transitions")
    meta = {"task_id": task_id, "source": "official-import", "seed": None, "imported_from": Path(pickle_path).name}
    episodes = official_episodes(transitions, meta)
    resolved = dict(stack) if stack is not None else default_official_stack(task_id, episodes[0])
    dims = (int(resolved["state_layout"][-1][2]), int(resolved["action_dim"]))
    if dims != (episodes[0].state.shape[1], episodes[0].actions.shape[1]):
        raise ValueError(f"{pickle_path}: state/action dims {episodes[0].state.shape[1]}/"
                         f"{episodes[0].actions.shape[1]} do not match the given stack's {dims[0]}/{dims[1]}")
    out_dir = Path(out_dir)
    index = next_episode_index(out_dir, resolved)
    paths = []
    for k, episode in enumerate(episodes):
        episode.metadata["stack"] = resolved
        paths.append(save_episode(out_dir / f"episode_{index + k:06d}.npz", episode))
    return paths
