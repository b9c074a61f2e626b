"""Read a legacy (non-zip) PyTorch ``state_dict`` file into numpy arrays, without torch and without trust.

A legacy ``torch.save`` file is five things back to back: a pickled magic number, a pickled
protocol version, pickled system info, the pickled object (whose tensors refer to storages by
persistent id), a pickled list of storage keys, and then each storage's raw bytes, each preceded
by its element count as a little-endian int64.

The object pickle is read by :class:`_StateDictUnpickler`, which admits exactly three kinds of
globals: ``torch._utils._rebuild_tensor_v2`` (mapped to a local function that records the view),
``collections.OrderedDict`` and the ``torch.<Type>Storage`` classes (mapped to numpy dtypes).
Any other global -- ``os.system``, ``builtins.eval``, a class with a malicious ``__reduce__`` --
raises :class:`UnsafePickleError` before anything runs.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16, "LongStorage": np.int64,
    "IntStorage": np.int32, "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class UnsafePickleError(pickle.UnpicklingError):
    """The file asks for a global outside the allowlist; nothing from it was executed."""


@dataclass(frozen=True)
class _StorageType:
    dtype: Any


@dataclass
class _Storage:
    dtype: Any
    numel: int
    data: np.ndarray | None = None


@dataclass
class _TensorView:
    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]
    extra: dict = field(default_factory=dict)

    def materialise(self) -> np.ndarray:
        data = self.storage.data
        if data is None:
            raise pickle.UnpicklingError("a tensor refers to a storage whose bytes are missing from the file")
        if not self.size:
            return np.array(data[self.offset])
        end = self.offset + sum((s - 1) * st for s, st in zip(self.size, self.stride, strict=True)) + 1
        if self.offset < 0 or end > len(data):
            raise pickle.UnpicklingError(f"tensor view {self.size}/{self.stride}+{self.offset} exceeds its storage")
        item = data.itemsize
        view = np.lib.stride_tricks.as_strided(data[self.offset:], self.size, tuple(s * item for s in self.stride))
        return np.array(view)


def _rebuild_tensor_v2(storage: _Storage, storage_offset: int, size: tuple, stride: tuple, *_: Any) -> _TensorView:
    if not isinstance(storage, _Storage):
        raise UnsafePickleError("_rebuild_tensor_v2 called on something that is not a storage")
    return _TensorView(storage, int(storage_offset), tuple(int(s) for s in size), tuple(int(s) for s in stride))


class _StateDictUnpickler(pickle.Unpickler):
    def __init__(self, file: Any) -> None:
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(STORAGE_DTYPES[name])
        raise UnsafePickleError(f"refusing to load global {module}.{name}: only tensors and dicts are allowed")

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise UnsafePickleError(f"unsupported persistent id {pid!r:.80}")
        storage_type, key, _location, numel = pid[1:5]
        if not isinstance(storage_type, _StorageType):
            raise UnsafePickleError("persistent storage of an unknown type")
        if key not in self.storages:
            self.storages[key] = _Storage(storage_type.dtype, int(numel))
        return self.storages[key]


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise UnsafePickleError(f"refusing to load global {module}.{name} in a torch file header")


def load_legacy_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """``{name: array}`` of a legacy ``torch.save(state_dict)`` file (see the module docstring)."""
    try:
        return _load(path)
    except (EOFError, struct.error, IndexError, TypeError, ValueError) as exc:
        raise pickle.UnpicklingError(f"{path}: not a readable legacy torch file: {exc}") from exc


def _load(path: str | Path) -> dict[str, np.ndarray]:
    f = io.BytesIO(Path(path).read_bytes())
    if _PlainUnpickler(f).load() != MAGIC_NUMBER:
        raise pickle.UnpicklingError(f"{path}: not a legacy torch file (bad magic number)")
    _PlainUnpickler(f).load()  # protocol version
    info = _PlainUnpickler(f).load()
    if isinstance(info, dict) and not info.get("little_endian", True):
        raise pickle.UnpicklingError(f"{path}: big-endian torch files are not supported")
    unpickler = _StateDictUnpickler(f)
    result = unpickler.load()
    keys = _PlainUnpickler(f).load()
    for key in keys:
        storage = unpickler.storages.get(key)
        if storage is None:
            raise pickle.UnpicklingError(f"{path}: storage {key!r} is listed but never used")
        (numel,) = struct.unpack("<q", f.read(8))
        itemsize = np.dtype(storage.dtype).itemsize
        raw = f.read(numel * itemsize)
        if len(raw) != numel * itemsize:
            raise pickle.UnpicklingError(f"{path}: truncated storage {key!r}")
        storage.data = np.frombuffer(raw, dtype=storage.dtype)
    if not isinstance(result, dict):
        raise pickle.UnpicklingError(f"{path}: holds a {type(result).__name__}, not a state dict")
    return {str(k): v.materialise() if isinstance(v, _TensorView) else np.asarray(v) for k, v in result.items()}
