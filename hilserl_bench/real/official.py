"""The /update_param dicts of the official HIL-SERL task configs, as they are sent on the wire.

Kept verbatim in value (integer literals included) so parity tests and
``benchmarks/emulator_parity.py`` send exactly what an unmodified official client
sends. Some values lie outside the real controller's ranges (the precision dict's
rotational clips of 0.5 rad, range 0 to 0.1); the real parameter server clamps them,
and so does the emulator. Sources: tasks.md ("official code constants") and the
released task configs (RAM insertion, USB pickup-insertion). :func:`official_euler_helper`
reproduces the client's Euler-to-quaternion helper used for reset poses.
"""

from __future__ import annotations

import numpy as np

from hilserl_bench import geometry as geo

_AXES = ("x", "y", "z", "neg_x", "neg_y", "neg_z")


def _dict(stiffness: tuple[float, float, float, float], translational: tuple[float, ...],
          rotational: tuple[float, ...]) -> dict[str, float]:
    k_t, d_t, k_r, d_r = stiffness
    out: dict[str, float] = {"translational_stiffness": k_t, "translational_damping": d_t,
                             "rotational_stiffness": k_r, "rotational_damping": d_r, "translational_Ki": 0}
    out.update({f"translational_clip_{a}": v for a, v in zip(_AXES, translational, strict=True)})
    out.update({f"rotational_clip_{a}": v for a, v in zip(_AXES, rotational, strict=True)})
    out["rotational_Ki"] = 0
    return out


RAM_COMPLIANCE = _dict((2000, 89, 150, 7), (0.0075, 0.0016, 0.0055, 0.002, 0.0016, 0.005),
                       (0.01, 0.025, 0.005, 0.01, 0.025, 0.005))
"""RAM insertion episodes: reference limits x 7.5, y 1.6, z 5.5, -x 2, -y 1.6, -z 5 mm."""
RAM_PRECISION = _dict((2000, 89, 250, 9), (0.1,) * 6, (0.5,) * 6)
"""RAM insertion resets: 10 cm / 0.5 rad clips (the rotational ones are clamped to 0.1 by the server)."""
USB_COMPLIANCE = _dict((2000, 89, 150, 7), (0.006, 0.0059, 0.0035, 0.005, 0.005, 0.0035),
                       (0.02, 0.02, 0.015, 0.02, 0.02, 0.015))
"""USB pickup-insertion episodes."""
USB_PRECISION = _dict((2000, 89, 150, 7), (0.01,) * 6, (0.03,) * 6)
"""USB pickup-insertion resets."""

OFFICIAL_PARAMS = {"ram_compliance": RAM_COMPLIANCE, "ram_precision": RAM_PRECISION,
                   "usb_compliance": USB_COMPLIANCE, "usb_precision": USB_PRECISION}
"""Every dict by name."""


def official_euler_helper(euler: np.ndarray) -> np.ndarray:
    """The quaternion the official client's Euler helper puts on the wire, sign included.

    Rebuilt from its definition rather than from :func:`~hilserl_bench.geometry.euler_to_quat_official`
    (which it equals up to sign, a standard x-y-z Euler with pitch negated): the
    rotation Rz(pi - e0) Ry(e1) Rx(e2) as a scalar-first quaternion with a non-negative
    scalar, whose four numbers are then read as x-y-z-w by the server.
    """
    a, b, c = np.asarray(euler, dtype=np.float64)
    rot = (geo.quat_to_mat(geo.euler_to_quat([0.0, 0.0, np.pi - a])) @ geo.quat_to_mat(geo.euler_to_quat([0.0, b, 0.0]))
           @ geo.quat_to_mat(geo.euler_to_quat([c, 0.0, 0.0])))
    x, y, z, w = geo.mat_to_quat(rot)
    scalar_first = np.array([w, x, y, z])
    return -scalar_first if scalar_first[0] < 0 else scalar_first
