"""The /update_param dicts of the official HIL-SERL task configs, as they are sent on the wire.

Kept verbatim in value (integer literals included) so parity tests and
``benchmarks/emulator_parity.py`` send exactly what an unmodified official client
sends. Some values lie outside the real controller's ranges (the precision dict's
rotational clips of 0.5 rad, range 0 to 0.1); the real parameter server clamps them,
and so does the emulator. Sources: tasks.md ("official code constants") and the
released task configs (RAM insertion, USB pickup-insertion).
"""

from __future__ import annotations

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
