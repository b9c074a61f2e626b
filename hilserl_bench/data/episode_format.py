"""On-disk episode format, version 2: one ``.npz`` per episode, readable with numpy alone, no pickle.

An episode of ``T`` steps holds (``np.load(path, allow_pickle=False)``):

=================  ===================  =======  ==================================================
key                shape                dtype    meaning
=================  ===================  =======  ==================================================
``state``          (T+1, D)             float32  flattened state of obs_0 .. obs_T (next_obs of
                                                 step t is obs_{t+1}: every frame stored once)
``images/<cam>``   (T+1, H, W, 3)       uint8    camera frames of obs_0 .. obs_T (pixels mode only)
``task_state``     (T+1, K)             float32  optional (v2): the privileged task-state columns of
                                                 the state-mode stack (scaled), recorded beside images
                                                 in simulation; metadata ``state_stack`` describes
                                                 ``[state | task_state]`` so one demo set serves both
                                                 observation modes (:func:`load_dataset`)
``actions``        (T, A)               float32  executed action in the policy (TCP) frame:
                                                 ``intervene_action`` on intervened steps
``rewards``        (T,)                 float32  env reward
``terminated``     (T,)                 bool     success ended the episode (the critic's mask is 0)
``truncated``      (T,)                 bool     time limit ended the episode (bootstrap)
``intervened``     (T,)                 bool     a person or script overrode the policy
``succeed``        (T,)                 bool     ``info["succeed"]`` after the step
``grasp_penalty``  (T,)                 float32  ``info["grasp_penalty"]`` (0 without a gripper)
``metadata``       ()                   str      JSON: format_version, task_id, stack
                                                 (:func:`~hilserl_bench.data.describe_stack`), seed,
                                                 source (expert|human|policy|official-import),
                                                 success, created (UTC ISO time), free extras
=================  ===================  =======  ==================================================

Version 1 files (no ``task_state``) are read unchanged. Files are zip-deflated
(``np.savez_compressed``) and written atomically: a hidden temp file
``.<name>.<random>.tmp`` in the same directory, fsync, ``os.replace``, so a reader never sees a
half-written episode; loaders ignore the temp names (:data:`TEMP_GLOB`).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_VERSION = 2
"""2 added the optional ``task_state`` array and ``state_stack`` metadata; version 1 files stay readable."""
TEMP_GLOB = ".*.tmp"
"""Names of in-flight temp files (left only by a killed writer); loaders ignore them."""
EPISODE_GLOB = "*.npz"
SOURCES = ("expert", "human", "policy", "official-import")
STEP_KEYS = {"actions": np.float32, "rewards": np.float32, "terminated": np.bool_, "truncated": np.bool_,
             "intervened": np.bool_, "succeed": np.bool_, "grasp_penalty": np.float32}
COMPAT_KEYS = ("task_id", "state_layout", "state_units", "action_dim", "cameras", "action_frame",
               "official_adjoint_coupling")
"""Stack-description entries that must match for episodes to be mixed or trained on."""


class EpisodeFormatError(ValueError):
    """An episode file (or dataset) is unreadable or does not fit; the message names the file."""


@dataclass
class Episode:
    """One episode in memory; see the module docstring for each array."""

    state: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    intervened: np.ndarray
    succeed: np.ndarray
    grasp_penalty: np.ndarray
    images: dict[str, np.ndarray] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    labels: np.ndarray | None = None
    """Optional per-frame success labels (T+1,) int8: 1 success, -1 failure, 0 unlabelled (reward-classifier data)."""
    task_state: np.ndarray | None = None
    """Optional (T+1, K) scaled privileged task state beside images (see :func:`as_state_episode`)."""
    path: Path | None = None
    """Where it was loaded from (``None`` for an episode built in memory)."""

    @property
    def length(self) -> int:
        """Number of steps ``T``."""
        return int(self.actions.shape[0])

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array under its file key (without ``metadata``)."""
        out = {"state": self.state, **{k: getattr(self, k) for k in STEP_KEYS}}
        out.update({f"images/{cam}": frames for cam, frames in self.images.items()})
        if self.labels is not None:
            out["labels"] = self.labels
        if self.task_state is not None:
            out["task_state"] = self.task_state
        return out


_UMASK = os.umask(0)
os.umask(_UMASK)  # mkstemp makes 0600 files; written episodes get the usual umask-derived mode


def atomic_savez(path: str | Path, arrays: Mapping[str, np.ndarray], compress: bool = True) -> Path:
    """``np.savez[_compressed]`` to a hidden temp file, fsync, then ``os.replace`` onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            (np.savez_compressed if compress else np.savez)(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return path


def save_episode(path: str | Path, episode: Episode) -> Path:
    """Validate and write ``episode`` atomically; stamps ``format_version`` into its metadata."""
    meta = {**episode.metadata, "format_version": FORMAT_VERSION}
    arrays = {k: np.asarray(v, dtype=STEP_KEYS.get(k)) for k, v in episode.arrays().items()}
    arrays["state"] = np.asarray(episode.state, dtype=np.float32)
    if "task_state" in arrays:
        arrays["task_state"] = np.asarray(arrays["task_state"], dtype=np.float32)
    _validate(Path(path), arrays, meta)
    arrays["metadata"] = np.array(json.dumps(meta, sort_keys=True))
    return atomic_savez(path, arrays)


def load_episode(path: str | Path) -> Episode:
    """Read and validate one episode; any problem raises :class:`EpisodeFormatError` naming the file."""
    path = Path(path)
    try:
        npz = np.load(path, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise EpisodeFormatError(f"{path}: a single .npy array, not an episode archive")
        with npz:
            arrays = {k: npz[k] for k in npz.files}
    except (FileNotFoundError, EpisodeFormatError):
        raise
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, KeyError) as exc:
        raise EpisodeFormatError(f"{path}: not a readable episode file (corrupt or truncated?): {_reason(exc)}; "
                                 "delete it or record it again") from exc
    if "metadata" not in arrays:
        raise EpisodeFormatError(f"{path}: missing key 'metadata'")
    try:
        meta = json.loads(str(arrays.pop("metadata")))
    except json.JSONDecodeError as exc:
        raise EpisodeFormatError(f"{path}: metadata is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict):
        raise EpisodeFormatError(f"{path}: metadata must be a JSON object")
    _validate(path, arrays, meta)
    images = {k[len("images/"):]: v for k, v in arrays.items() if k.startswith("images/")}
    return Episode(state=arrays["state"], images=images, metadata=meta, path=path, labels=arrays.get("labels"),
                   task_state=arrays.get("task_state"), **{k: arrays[k] for k in STEP_KEYS})


def as_state_episode(episode: Episode) -> Episode:
    """The state-mode view of a pixels episode recorded with ``task_state``: images dropped, task columns appended.

    The pixels stack's state layout is a prefix of the state-mode layout (same keys, same
    units), so ``[state | task_state]`` is exactly what the state-mode stack would have stored.
    """
    stack = episode.metadata.get("state_stack")
    if episode.task_state is None or not stack:
        raise EpisodeFormatError(f"{episode.path}: recorded without task state; record state demos for state mode")
    meta = {**episode.metadata, "stack": stack}
    meta.pop("state_stack")
    return Episode(state=np.concatenate([episode.state, episode.task_state], axis=1), images={}, metadata=meta,
                   path=episode.path, labels=episode.labels, **{k: getattr(episode, k) for k in STEP_KEYS})


def serves_state_mode(metadata: Mapping[str, Any]) -> bool:
    """Whether an episode's metadata says it carries the state-mode columns beside its images."""
    return bool(metadata.get("state_stack"))


def read_metadata(path: str | Path) -> dict[str, Any]:
    """Only the metadata of an episode file (cheap: no arrays are decoded)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            return json.loads(str(npz["metadata"]))
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, KeyError, TypeError) as exc:
        raise EpisodeFormatError(f"{path}: cannot read episode metadata: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    """Why numpy could not read a file, without numpy's advice to load with ``allow_pickle``.

    Episode files never hold pickles; loading an untrusted pickle runs arbitrary code, so
    a file that numpy takes for one is reported as not an episode archive.
    """
    text = str(exc)
    if "pickle" in text.lower():
        return "not a numpy .npz archive"
    return text or type(exc).__name__


def _validate(path: Path, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
    def fail(problem: str) -> EpisodeFormatError:
        return EpisodeFormatError(f"{path}: {problem}")

    version = meta.get("format_version")
    if not isinstance(version, int):
        raise fail(f"metadata has no integer format_version (got {version!r})")
    if version > FORMAT_VERSION:
        raise fail(f"format version {version} is newer than this hilserl-bench reads ({FORMAT_VERSION}); upgrade")
    if version < 1:
        raise fail(f"unknown format version {version}")
    for key in ("state", *STEP_KEYS):
        if key not in arrays:
            raise fail(f"missing key {key!r}")
    unknown = [k for k in arrays if k not in STEP_KEYS and k not in ("state", "labels", "task_state")
               and not k.startswith("images/")]
    if unknown:
        raise fail(f"unexpected keys {unknown}")
    state, actions = arrays["state"], arrays["actions"]
    if state.ndim != 2 or state.dtype != np.float32:
        raise fail(f"'state' must be (T+1, D) float32, got {state.shape} {state.dtype}")
    steps = state.shape[0] - 1
    if steps < 1:
        raise fail("an episode needs at least one step")
    if actions.shape[:1] != (steps,) or actions.ndim != 2:
        raise fail(f"'actions' has shape {actions.shape}, expected ({steps}, A) to match 'state' {state.shape}")
    for key, dtype in STEP_KEYS.items():
        if key != "actions" and arrays[key].shape != (steps,):
            raise fail(f"{key!r} has shape {arrays[key].shape}, expected ({steps},)")
        if arrays[key].dtype != dtype:
            raise fail(f"{key!r} has dtype {arrays[key].dtype}, expected {np.dtype(dtype)}")
    for key, frames in arrays.items():
        if key.startswith("images/") and (frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[0] != steps + 1
                                          or frames.shape[-1] != 3):
            raise fail(f"{key!r} must be ({steps + 1}, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    labels = arrays.get("labels")
    if labels is not None and (labels.shape != (steps + 1,) or labels.dtype != np.int8
                               or not np.isin(labels, (-1, 0, 1)).all()):
        raise fail(f"'labels' must be ({steps + 1},) int8 in {{-1, 0, 1}}, got {labels.shape} {labels.dtype}")
    task_state = arrays.get("task_state")
    if task_state is not None:
        if version < 2:
            raise fail("'task_state' needs format version 2")
        if task_state.ndim != 2 or task_state.shape[0] != steps + 1 or task_state.dtype != np.float32:
            raise fail(f"'task_state' must be ({steps + 1}, K) float32, got {task_state.shape} {task_state.dtype}")
        state_layout = (meta.get("state_stack") or {}).get("state_layout")
        if not state_layout or state_layout[-1][2] != state.shape[1] + task_state.shape[1]:
            raise fail("'task_state' needs a metadata 'state_stack' whose layout covers state + task_state")
    stack = meta.get("stack") or {}
    if "action_dim" in stack and stack["action_dim"] != actions.shape[1]:
        raise fail(f"actions have {actions.shape[1]} dims but the stack says {stack['action_dim']}")
    layout = stack.get("state_layout")
    if layout and layout[-1][2] != state.shape[1]:
        raise fail(f"state has {state.shape[1]} dims but the stack's layout ends at {layout[-1][2]}")


def stack_mismatches(actual: Mapping[str, Any], expect: Mapping[str, Any]) -> list[str]:
    """Human-readable differences in :data:`COMPAT_KEYS` present in ``expect`` (JSON-normalised)."""
    norm = lambda v: json.loads(json.dumps(v))  # noqa: E731  (tuples -> lists, as read back from disk)
    return [f"{k} is {norm(actual.get(k))!r}, expected {norm(expect[k])!r}"
            for k in COMPAT_KEYS if k in expect and norm(actual.get(k)) != norm(expect[k])]


def episode_files(directory: str | Path) -> list[Path]:
    """Episode files in ``directory``, sorted by name, temp files excluded."""
    return sorted(p for p in Path(directory).glob(EPISODE_GLOB) if not p.name.startswith("."))


def load_dataset(directory: str | Path, expect: Mapping[str, Any] | None = None) -> list[Episode]:
    """Every episode in ``directory``, checked against ``expect`` (a stack description) or each other."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: no such dataset directory")
    files = episode_files(directory)
    if not files:
        raise EpisodeFormatError(f"{directory}: no episode files ({EPISODE_GLOB})")
    episodes = []
    for path in files:
        episode = load_episode(path)
        if (expect is not None and expect.get("obs_mode") == "state" and episode.task_state is not None
                and episode.metadata.get("stack", {}).get("obs_mode") == "pixels"):
            episode = as_state_episode(episode)
        reference = expect if expect is not None else episodes[0].metadata.get("stack", {}) if episodes else None
        if reference is not None:
            problems = stack_mismatches(episode.metadata.get("stack", {}), reference)
            if problems:
                raise EpisodeFormatError(f"{path}: does not fit {'the expected stack' if expect else files[0].name}: "
                                         + "; ".join(problems))
        episodes.append(episode)
    return episodes


def to_dataframe(episode: Episode):
    """Per-step scalar columns (step, rewards, flags, grasp_penalty, action_<i>) as a pandas DataFrame."""
    import pandas as pd

    columns: dict[str, Any] = {"step": np.arange(episode.length)}
    columns.update({k: getattr(episode, k) for k in STEP_KEYS if k != "actions"})
    columns.update({f"action_{i}": episode.actions[:, i] for i in range(episode.actions.shape[1])})
    return pd.DataFrame(columns)
