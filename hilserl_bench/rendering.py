"""Pick a headless OpenGL backend for MuJoCo before MuJoCo is imported.

MuJoCo reads ``MUJOCO_GL`` once, when ``mujoco`` is first imported, and falls back to
GLFW, which needs a display. Servers and CI machines have none, so rendering fails
there with errors that do not say what to install. :func:`select_gl_backend` runs
first (from ``hilserl_bench/__init__.py``): it keeps a user's ``MUJOCO_GL``, else
probes EGL and then OSMesa with ctypes alone (no ``mujoco`` import) and sets
``MUJOCO_GL`` and ``PYOPENGL_PLATFORM``. When nothing works it leaves them unset and
remembers why; :func:`require_renderer`, called only when pixels are requested, turns
that into an error naming the missing library and the command that installs it.
State-only use never needs OpenGL and never fails here.

A user's ``egl``/``osmesa`` is probed once, here, before MuJoCo loads: with
``MUJOCO_GL=osmesa`` and no libOSMesa, ``import mujoco`` itself dies inside PyOpenGL,
so an unusable preset is dropped from the environment (state-only use keeps working)
and pixels raise the one-line error. Probing later, after MuJoCo initialised its EGL
display, would be harmful (see :func:`probe_egl`). Finally, MuJoCo terminates its EGL
display in an ``atexit`` hook that runs before the garbage collector frees renderers,
so scripts that never call ``env.close()`` printed EGLError tracebacks at exit; the
first :func:`require_renderer` registers a later hook that closes live renderers first.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import gc
import os
import sys
from dataclasses import dataclass

EGL_FIX = "apt-get install -y libegl1 libgl1"
OSMESA_FIX = "apt-get install -y libosmesa6"
_EGL_NAMES = ("libEGL.so.1", "libEGL.so")
_OSMESA_NAMES = ("libOSMesa.so", "libOSMesa.so.8", "libOSMesa.so.6")
_EGL_PLATFORM_DEVICE_EXT = 0x313F


@dataclass(frozen=True)
class GLSelection:
    """Outcome of :func:`select_gl_backend`."""

    backend: str
    """Value of ``MUJOCO_GL`` in effect ("egl", "osmesa", a user's choice), or "" when none is usable."""
    source: str
    """"user" (``MUJOCO_GL`` was preset), "probe" (chosen here) or "none"."""
    reason: str
    """Why this backend, or why none: the probe failures in order."""
    requested: str = ""
    """The user's ``MUJOCO_GL`` when it was preset, even if it proved unusable (then ``backend`` is "")."""


_SELECTION: GLSelection | None = None
_EXIT_HOOK_ARMED = False


class RendererUnavailable(RuntimeError):
    """No usable headless OpenGL; the message names the library and the install command."""


def _load_first(names: tuple[str, ...]) -> ctypes.CDLL | None:
    for name in names:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def probe_egl() -> str | None:
    """``None`` when an EGL device display initialises the way MuJoCo's EGL context does it, else why not.

    MuJoCo asks for a device display (``EGL_EXT_platform_device``), not the default
    display, so that is what is probed; on Mesa this also works without a GPU. The
    display is left initialised: device displays are per-device singletons, so
    ``eglTerminate`` here would also terminate a display MuJoCo already uses, and its
    next ``eglChooseConfig`` fails with EGL_NOT_INITIALIZED (the old bug behind a
    user-set ``MUJOCO_GL=egl`` failing on the second renderer).
    """
    egl = _load_first(_EGL_NAMES)
    if egl is None:
        return "libEGL.so.1 not found"
    get_proc = egl.eglGetProcAddress
    get_proc.restype = ctypes.c_void_p
    get_proc.argtypes = [ctypes.c_char_p]
    query_ptr = get_proc(b"eglQueryDevicesEXT")
    display_ptr = get_proc(b"eglGetPlatformDisplayEXT")
    if not query_ptr or not display_ptr:
        return "libEGL lacks EGL_EXT_device_enumeration / EGL_EXT_platform_device"
    query_devices = ctypes.CFUNCTYPE(ctypes.c_uint, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p),
                                     ctypes.POINTER(ctypes.c_int))(query_ptr)
    platform_display = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_uint, ctypes.c_void_p,
                                        ctypes.c_void_p)(display_ptr)
    devices = (ctypes.c_void_p * 16)()
    count = ctypes.c_int(0)
    if not query_devices(16, devices, ctypes.byref(count)) or count.value == 0:
        return "EGL reports no devices (is the Mesa or vendor EGL driver installed?)"
    egl.eglInitialize.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    for i in range(count.value):
        display = platform_display(_EGL_PLATFORM_DEVICE_EXT, devices[i], None)
        if display and egl.eglInitialize(display, None, None):
            return None
    return f"none of {count.value} EGL device(s) could be initialised"


def probe_osmesa() -> str | None:
    """``None`` when libOSMesa loads (the library PyOpenGL's osmesa platform opens), else why not."""
    return None if _load_first(_OSMESA_NAMES) is not None else "libOSMesa.so not found"


def select_gl_backend(refresh: bool = False) -> str:
    """Set ``MUJOCO_GL`` / ``PYOPENGL_PLATFORM`` for headless rendering and return the backend.

    Idempotent: the first result is cached (``refresh=True`` probes again). A preset
    ``MUJOCO_GL`` always wins. Returns "" when no headless backend is usable; the
    reason is kept for :func:`require_renderer`.
    """
    global _SELECTION
    if _SELECTION is not None and not refresh:
        return _SELECTION.backend
    late = " (mujoco was imported before hilserl_bench; MUJOCO_GL set now has no effect)" \
        if "mujoco" in sys.modules else ""
    preset = os.environ.get("MUJOCO_GL", "").strip().lower()
    if preset:
        probe = _FORCED.get(preset)
        why = globals()[probe[0]]() if probe is not None else None
        if why is None:
            if probe is not None:
                os.environ.setdefault("PYOPENGL_PLATFORM", preset)
            _SELECTION = GLSelection(preset, "user", f"MUJOCO_GL={preset} was set by the user{late}", preset)
            return preset
        if not late:  # MuJoCo's import would crash on it; drop it so state-only use still works
            os.environ.pop("MUJOCO_GL", None)
            if os.environ.get("PYOPENGL_PLATFORM", "").lower() == preset:
                os.environ.pop("PYOPENGL_PLATFORM")
        _SELECTION = GLSelection("", "user", f"{why}{late}", preset)
        return ""
    failures = []
    for backend, probe in (("egl", probe_egl), ("osmesa", probe_osmesa)):
        why = probe()
        if why is None:
            os.environ["MUJOCO_GL"] = backend
            os.environ["PYOPENGL_PLATFORM"] = backend
            tried = f" after {'; '.join(failures)}" if failures else ""
            _SELECTION = GLSelection(backend, "probe", f"{backend} usable{tried}{late}")
            return backend
        failures.append(f"{backend}: {why}")
    _SELECTION = GLSelection("", "none", "; ".join(failures) + late)
    return ""


def gl_selection() -> GLSelection:
    """The cached selection (probing now if :func:`select_gl_backend` has not run)."""
    select_gl_backend()
    assert _SELECTION is not None
    return _SELECTION


def _mujoco_context_backend() -> str | None:
    """Which GL context class an already imported mujoco settled on ("egl", "osmesa", "glfw"), if any."""
    mujoco = sys.modules.get("mujoco")
    context = getattr(mujoco, "GLContext", None)
    return None if context is None else context.__module__.rsplit(".", 1)[-1]


def require_renderer() -> str:
    """Return the usable backend or raise ``RuntimeError`` saying what to install.

    Called by code paths that produce pixels (pixel observations, ``render()``,
    videos, README pictures). A user-forced ``egl`` or ``osmesa`` is checked with the
    same probe so a missing library is reported before MuJoCo fails obscurely.
    """
    selection = gl_selection()
    loaded = _mujoco_context_backend()
    if selection.source == "probe" and loaded not in (None, selection.backend):
        raise RendererUnavailable(
            f"mujoco was imported before hilserl_bench and picked its {loaded!r} OpenGL context, which needs a "
            f"display. Import hilserl_bench before mujoco, or start Python with MUJOCO_GL={selection.backend}."
        )
    if selection.source == "user" and not selection.backend:
        fix = _FORCED[selection.requested][1]
        raise RendererUnavailable(
            f"MUJOCO_GL={selection.requested} is set but unusable ({selection.reason}). "
            f"Fix: `{fix}`, or unset MUJOCO_GL to let hilserl_bench pick a backend."
        )
    if selection.source in ("probe", "user"):
        _arm_exit_hook(selection.backend)
        return selection.backend
    raise RendererUnavailable(
        f"Rendering pixels needs headless OpenGL, and none is usable ({selection.reason}). "
        f"Fix: `{EGL_FIX}` (EGL, preferred) or `{OSMESA_FIX}` (OSMesa fallback), then start a new "
        "Python process; or use obs_mode='state' without render_mode for state-only runs. "
        "To force a backend, set MUJOCO_GL=egl or MUJOCO_GL=osmesa before importing hilserl_bench."
    )


_FORCED = {"egl": ("probe_egl", EGL_FIX), "osmesa": ("probe_osmesa", OSMESA_FIX)}
"""Forced backends we can check before MuJoCo loads: the probe (looked up by name) and the fix."""


def _arm_exit_hook(backend: str) -> None:
    """Make sure renderers are closed at exit before MuJoCo terminates its EGL display.

    ``atexit`` runs hooks last-registered-first, and MuJoCo registers its
    ``eglTerminate`` when it creates its first EGL context. Creating (and freeing) one
    small context here first puts that hook in place, so the one registered after it
    runs earlier and closes every live renderer while the display is still valid.
    """
    global _EXIT_HOOK_ARMED
    if _EXIT_HOOK_ARMED or backend != "egl":
        return
    _EXIT_HOOK_ARMED = True
    import mujoco

    mujoco.GLContext(1, 1).free()
    atexit.register(_close_live_renderers)


def _close_live_renderers() -> None:
    """Close every MuJoCo renderer still alive (errors ignored: the process is ending)."""
    mujoco = sys.modules.get("mujoco")
    renderer_cls = getattr(mujoco, "Renderer", None)
    if renderer_cls is None:
        return
    for obj in gc.get_objects():
        if isinstance(obj, renderer_cls):
            with contextlib.suppress(Exception):
                obj.close()
