"""Headless GL selection: user choice wins, EGL first, OSMesa second, a clear error last."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hilserl_bench import rendering


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Forget the cached selection and restore the GL environment variables afterwards."""
    monkeypatch.setattr(rendering, "_SELECTION", None)
    monkeypatch.delenv("MUJOCO_GL", raising=False)
    monkeypatch.delenv("PYOPENGL_PLATFORM", raising=False)
    return monkeypatch


def _no_probe() -> str | None:
    raise AssertionError("a preset MUJOCO_GL must not be probed over")


def test_preset_mujoco_gl_is_respected(fresh: pytest.MonkeyPatch) -> None:
    fresh.setenv("MUJOCO_GL", "osmesa")
    fresh.setattr(rendering, "probe_egl", _no_probe)
    assert rendering.select_gl_backend(refresh=True) == "osmesa"
    assert os.environ["MUJOCO_GL"] == "osmesa"
    assert os.environ["PYOPENGL_PLATFORM"] == "osmesa"
    assert rendering.gl_selection().source == "user"


def test_egl_is_chosen_on_this_machine(fresh: pytest.MonkeyPatch) -> None:
    assert rendering.probe_egl() is None, "EGL should work here (Mesa llvmpipe); run scripts/install.sh"
    assert rendering.select_gl_backend(refresh=True) == "egl"
    assert os.environ["MUJOCO_GL"] == "egl"
    assert os.environ["PYOPENGL_PLATFORM"] == "egl"
    assert rendering.require_renderer() == "egl"


def test_selection_is_cached(fresh: pytest.MonkeyPatch) -> None:
    calls = []
    fresh.setattr(rendering, "probe_egl", lambda: calls.append(1))
    assert rendering.select_gl_backend() == "egl"
    assert rendering.select_gl_backend() == "egl"
    assert len(calls) == 1


def test_falls_back_to_osmesa(fresh: pytest.MonkeyPatch) -> None:
    fresh.setattr(rendering, "probe_egl", lambda: "libEGL.so.1 not found")
    fresh.setattr(rendering, "probe_osmesa", lambda: None)
    assert rendering.select_gl_backend(refresh=True) == "osmesa"
    assert os.environ["MUJOCO_GL"] == "osmesa"
    assert "libEGL.so.1 not found" in rendering.gl_selection().reason


def test_no_backend_gives_a_clear_error(fresh: pytest.MonkeyPatch) -> None:
    fresh.setattr(rendering, "probe_egl", lambda: "libEGL.so.1 not found")
    fresh.setattr(rendering, "probe_osmesa", lambda: "libOSMesa.so not found")
    assert rendering.select_gl_backend(refresh=True) == ""
    assert "MUJOCO_GL" not in os.environ
    with pytest.raises(RuntimeError) as err:
        rendering.require_renderer()
    message = str(err.value)
    assert "libEGL.so.1 not found" in message and "libOSMesa.so not found" in message
    assert "apt-get install -y libegl1 libgl1" in message
    assert "apt-get install -y libosmesa6" in message
    assert "obs_mode='state'" in message


def test_forced_backend_that_cannot_load_is_reported(fresh: pytest.MonkeyPatch) -> None:
    fresh.setenv("MUJOCO_GL", "osmesa")
    fresh.setattr(rendering, "probe_osmesa", lambda: "libOSMesa.so not found")
    rendering.select_gl_backend(refresh=True)
    with pytest.raises(RuntimeError, match=r"MUJOCO_GL=osmesa is set but unusable .*apt-get install -y libosmesa6"):
        rendering.require_renderer()


def test_import_selects_backend_before_mujoco() -> None:
    """In a clean process ``import hilserl_bench`` makes MuJoCo pick the EGL context class."""
    env = {k: v for k, v in os.environ.items() if k not in ("MUJOCO_GL", "PYOPENGL_PLATFORM")}
    code = (
        "import os, hilserl_bench, mujoco; "
        "print(os.environ.get('MUJOCO_GL'), mujoco.GLContext.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["egl", "mujoco.egl"]


def test_mujoco_imported_first_is_explained() -> None:
    """MuJoCo imported before us already chose GLFW; asking for pixels says how to fix the order."""
    env = {k: v for k, v in os.environ.items() if k not in ("MUJOCO_GL", "PYOPENGL_PLATFORM")}
    code = (
        "import mujoco, hilserl_bench\n"
        "from hilserl_bench.rendering import require_renderer\n"
        "try:\n    require_renderer()\nexcept RuntimeError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert "Import hilserl_bench before mujoco" in out.stdout


def _run(code: str, tmp_path, **env_changes: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("MUJOCO_GL", "PYOPENGL_PLATFORM")}
    env.update(env_changes)
    return subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=env, capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)


_SEVERAL_RENDERERS_NO_CLOSE = (
    "import hilserl_bench\n"
    "e = hilserl_bench.make('ram_insertion', obs_mode='pixels', render_mode='rgb_array')\n"
    "e.reset(seed=0); e.render()\n"
    "e.close()\n"
    "e = hilserl_bench.make('ram_insertion', obs_mode='pixels', render_mode='rgb_array')\n"
    "obs, _ = e.reset(seed=0); frame = e.render()\n"
    "print('rendered', frame.shape, obs['images']['wrist_1'].shape if 'images' in obs else sorted(obs))\n"
)


@pytest.mark.parametrize("preset", ["egl", ""])
def test_scripts_render_with_several_renderers_and_exit_quietly(tmp_path, preset: str) -> None:
    """A user-set MUJOCO_GL=egl works like the probed one; no EGLError at exit without env.close()."""
    out = _run(_SEVERAL_RENDERERS_NO_CLOSE, tmp_path, **({"MUJOCO_GL": preset} if preset else {}))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "rendered (240, 320, 3)" in out.stdout
    assert "EGLError" not in out.stderr and "Traceback" not in out.stderr, out.stderr[-2000:]


_HIDE_OSMESA = '''
import ctypes, ctypes.util
_find, _init = ctypes.util.find_library, ctypes.CDLL.__init__
def _find_library(name):
    return None if "osmesa" in str(name).lower() else _find(name)
def _cdll_init(self, name, *args, **kwargs):
    if name and "osmesa" in str(name).lower():
        raise OSError(f"{name}: cannot open shared object file")
    _init(self, name, *args, **kwargs)
ctypes.util.find_library, ctypes.CDLL.__init__ = _find_library, _cdll_init
'''


def test_forced_osmesa_without_the_library_gives_the_one_line_error(tmp_path) -> None:
    """``import mujoco`` would die inside PyOpenGL; instead state works and pixels name the fix."""
    (tmp_path / "sitecustomize.py").write_text(_HIDE_OSMESA)
    code = (
        "import hilserl_bench\n"
        "from hilserl_bench.rendering import RendererUnavailable\n"
        "e = hilserl_bench.make('ram_insertion', obs_mode='state'); e.reset(seed=0); e.close(); print('state ok')\n"
        "try:\n    hilserl_bench.make('ram_insertion', obs_mode='pixels').reset(seed=0)\n"
        "except RendererUnavailable as exc:\n    print('ERROR', exc)\n"
    )
    out = _run(code, tmp_path, MUJOCO_GL="osmesa", PYTHONPATH=str(tmp_path))
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert lines[0] == "state ok" and len(lines) == 2, out.stdout
    assert lines[1].startswith("ERROR MUJOCO_GL=osmesa is set but unusable (libOSMesa.so not found)")
    assert "apt-get install -y libosmesa6" in lines[1] and "AttributeError" not in out.stderr
