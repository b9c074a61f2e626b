"""Atomic, resumable checkpoints of a whole training run (no pickle).

A checkpoint is a directory ``ckpt_<episodes>/`` holding ``arrays.npz`` (agent
parameters, optimiser states and RNG keys as flat arrays), one ``<name>.npz`` per
replay buffer and ``meta.json`` (counters, numpy RNG states, per-episode metrics,
the run config). It is written under a temporary name and renamed into place, then
the ``latest`` pointer file is replaced atomically; only then are older checkpoints
removed. A process killed at any moment therefore leaves either the previous or the
new checkpoint complete, never a torn one, and ``latest`` always names a whole one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hilserl_bench.errors import UserFacingError

LATEST = "latest"
FORMAT_VERSION = 1


class CheckpointError(UserFacingError):
    """A checkpoint that cannot be used (corrupt, another task, another format)."""


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def file_mode() -> int:
    """Mode of a new file under the process umask: ``mkstemp`` makes 0600 files, colleagues should read results."""
    return 0o666 & ~_UMASK


def dir_mode() -> int:
    """Mode of a new folder under the process umask (``mkdtemp`` makes 0700 folders)."""
    return 0o777 & ~_UMASK


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write JSON next to ``path`` and rename it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(payload, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, file_mode())
    os.replace(tmp, path)


def save_checkpoint(run_dir: Path, tag: int, arrays: dict[str, np.ndarray], meta: dict[str, Any],
                    buffer_writers: dict[str, Callable[[Path], None]], keep: int = 2) -> Path:
    """Write checkpoint ``tag`` atomically and point ``latest`` at it."""
    run_dir = Path(run_dir)
    final = run_dir / f"ckpt_{tag:08d}"
    tmp = Path(tempfile.mkdtemp(dir=run_dir, prefix=f".ckpt_{tag:08d}."))
    try:
        os.chmod(tmp, dir_mode())
        with open(tmp / "arrays.npz", "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp / "arrays.npz", file_mode())
        for name, write in buffer_writers.items():
            write(tmp / f"{name}.npz")
            os.chmod(tmp / f"{name}.npz", file_mode())
        write_json_atomic(tmp / "meta.json", {"format_version": FORMAT_VERSION, **meta})
        _fsync_dir(tmp)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    write_json_atomic(run_dir / LATEST, {"checkpoint": final.name})
    _fsync_dir(run_dir)
    older = sorted(p for p in run_dir.glob("ckpt_*") if p.is_dir() and p != final)
    for stale in older[: max(0, len(older) - (keep - 1))]:
        shutil.rmtree(stale, ignore_errors=True)
    for litter in run_dir.glob(".ckpt_*"):
        shutil.rmtree(litter, ignore_errors=True)
    return final


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint ``latest`` names, or None for a fresh run."""
    pointer = Path(run_dir) / LATEST
    if not pointer.exists():
        return None
    try:
        name = json.loads(pointer.read_text())["checkpoint"]
    except (json.JSONDecodeError, KeyError) as err:
        raise CheckpointError(f"{pointer} is corrupt ({err}); delete it to start over") from err
    path = Path(run_dir) / name
    if not (path / "meta.json").exists():
        raise CheckpointError(f"{pointer} names {name}, which is missing or incomplete")
    return path


def load_checkpoint(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """(arrays, meta) of a checkpoint directory; buffers are loaded by their owners."""
    try:
        meta = json.loads((path / "meta.json").read_text())
        with np.load(path / "arrays.npz", allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, json.JSONDecodeError) as err:
        raise CheckpointError(f"checkpoint {path} is unreadable: {err}") from err
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"checkpoint {path} has format {meta.get('format_version')}, expected {FORMAT_VERSION}")
    return arrays, meta


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """JSON-able state of a numpy Generator."""
    return rng.bit_generator.state


def restore_rng(state: dict[str, Any]) -> np.random.Generator:
    """A numpy Generator continuing from a saved state."""
    rng = np.random.default_rng()
    rng.bit_generator.state = state
    return rng
