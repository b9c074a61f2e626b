"""Finding Ray and a cluster for ``--mode ray``, each failure one line that says the fix.

Ray is an optional extra (``pip install 'hilserl-bench[ray]'``). ``ray.init(address=...)``
against an address where nothing listens retries for minutes, so a ``host:port`` address
is probed with a plain TCP connect first. Every process Ray starts gets
``XLA_PYTHON_CLIENT_PREALLOCATE=false``: JAX otherwise takes 75% of a GPU's memory in each
process, and an actor and a learner sharing a GPU would starve each other.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from hilserl_bench.errors import UserFacingError

RAY_VERSION = "2.58.0"
JAX_ENV = {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
"""Environment of every Ray worker (and of this process) so that several JAX processes can share one GPU."""


class RayUnavailableError(UserFacingError):
    """Ray is not installed, or the cluster named by --ray-address cannot be reached."""


def require_ray() -> Any:
    """The ``ray`` module, or a one-line error saying how to install it."""
    try:
        import ray
    except ImportError as err:
        raise RayUnavailableError(f"--mode ray needs Ray, which is not installed: pip install 'hilserl-bench[ray]' "
                                  f"(or pip install ray=={RAY_VERSION}); --mode async needs nothing extra") from err
    return ray


def _host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of ``host:port`` or ``ray://host:port``; ``None`` for ``auto`` and other forms Ray resolves."""
    bare = address.split("://", 1)[-1]
    host, sep, port = bare.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]") or "127.0.0.1", int(port)


def check_reachable(address: str, timeout_s: float = 3.0) -> None:
    """Fail in seconds, not minutes, when nothing listens at ``address``."""
    target = _host_port(address)
    if target is None:
        return
    try:
        socket.create_connection(target, timeout=timeout_s).close()
    except OSError as err:
        raise RayUnavailableError(
            f"--ray-address {address}: no Ray cluster answers at {target[0]}:{target[1]} ({err.strerror or err}); "
            f"start one there with `ray start --head --port={target[1]}`, or leave --ray-address out to run Ray "
            "on this machine") from err


def connect(address: str | None, actors: int) -> bool:
    """Join the cluster at ``address`` or start Ray here; returns whether this call started it (and must stop it)."""
    ray = require_ray()
    os.environ.update(JAX_ENV)
    if ray.is_initialized():
        return False
    runtime_env = {"env_vars": dict(JAX_ENV)}
    if address is None:
        # One CPU per actor and one for the learner even on a smaller machine: they then share its cores.
        ray.init(num_cpus=max(os.cpu_count() or 1, actors + 1), include_dashboard=False, runtime_env=runtime_env,
                 logging_level="WARNING")
        return True
    check_reachable(address)
    try:
        ray.init(address=address, runtime_env=runtime_env, logging_level="WARNING")
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as err:
        raise RayUnavailableError(f"--ray-address {address}: cannot join the Ray cluster ({str(err).splitlines()[0]}); "
                                  "check the address `ray start --head` printed, or leave --ray-address out") from err
    return False
