"""RAM capture range on the compliant test rig: how far off across the slot, and in yaw, a 10 N push still seats.

Uses the rigid-mount rig of ``tests/test_props_fit.py`` (a gravity-compensated hand with the
Franka episode impedance, the stick mounted on it, pressing 10 N straight down) and prints,
for each offset, whether both bottom corners end within 1 mm of their seats and the deepest
tight-fit penetration. The task docstring compares the edges with the reset randomisation.

    python benchmarks/ram_capture_range.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_props_fit import MM, _ram_push, _seat_errors  # noqa: E402

LATERAL_MM = (0.8, 1.0, 1.1, 1.2, 1.3, 1.6, 2.0)
YAW_DEG = (0.2, 0.4, 0.5, 0.6, 0.8, 1.0)


def main() -> None:
    print(f"{'offset':<14}{'seated':>8}{'max pen mm':>12}")
    for kind, values in (("lateral mm", LATERAL_MM), ("yaw deg", YAW_DEG)):
        for value in values:
            kwargs = {"dy": value * MM} if kind == "lateral mm" else {"yaw": np.radians(value)}
            _, data, slot, ram, pen = _ram_push(10.0, **kwargs)
            seated = bool(np.all(_seat_errors(data, slot, ram) < 1 * MM))
            print(f"{kind} {value:<4}{seated!s:>8}{pen / MM:>12.3f}")


if __name__ == "__main__":
    main()
