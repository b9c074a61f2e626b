"""The ``--backend / --robot-url / --robot-config`` options every CLI command shares.

One dataclass, nested into each command's config, so switching a rollout, a recording,
a training run or an evaluation from the simulator to a real arm is one flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal


@dataclass(frozen=True)
class BackendOptions:
    """Which robot runs the task."""

    backend: Literal["sim", "real"] = "sim"
    """`sim`: the MuJoCo replica; `real`: robot servers over HTTP (a real Franka, or `hilserl-bench serve-sim`)."""
    robot_url: str | None = None
    """Real backend: the robot server's base URL, e.g. http://127.0.0.1:5000/ (overrides the config file's)."""
    robot_config: Path | None = None
    """Real backend: robot config file (URLs, cameras, crops, calibrated poses); see docs/real_robot.md."""
    emulator: bool = False
    """Real backend: the server is `hilserl-bench serve-sim` (enables its /sim/ cameras and privileged state)."""

    def make_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``hilserl_bench.make`` (nothing extra for the simulator)."""
        if self.backend == "sim":
            if self.robot_url is not None or self.robot_config is not None or self.emulator:
                raise ValueError("--robot-url / --robot-config / --emulator only apply with --backend real")
            return {"backend": "sim"}
        if self.robot_url is None and self.robot_config is None:
            raise ValueError("--backend real needs --robot-url URL or --robot-config FILE "
                             "(dry-run against `hilserl-bench serve-sim --task T` first)")
        kwargs: dict[str, Any] = {"backend": "real"}
        if self.robot_url is not None:
            kwargs["robot_url"] = self.robot_url
        if self.robot_config is not None:
            if self.emulator:
                raise ValueError("--emulator with --robot-config: set \"emulator\": true in the config file instead")
            kwargs["config"] = str(self.robot_config)
        elif self.emulator:
            kwargs["config"] = {"emulator": True}
        return kwargs
