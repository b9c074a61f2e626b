"""Scripted RAM insertion: align above the slot, descend, press; back off and retry on a jam.

Reads only what the real robot knows: the configured target pose, the measured TCP
pose and the F/T estimate, so it runs unchanged on hardware.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hilserl_bench.envs.experts import register_expert
from hilserl_bench.envs.experts.base import Expert, servo_action

HOVER = 0.012
"""Stick bottom this far above full depth (m) while aligning: ~5 mm above the groove mouth."""
PRESS = 0.01
"""Equilibrium this far below the target while pressing; the safety box and the z reference limit cap the force."""


@register_expert("ram_insertion")
class RamInsertionExpert(Expert):
    """Align (xy within 0.4 mm, orientation within 3 mrad), descend and press; retry when jammed."""

    def reset(self, rng: np.random.Generator) -> None:
        super().reset(rng)
        self.phase = "align"
        self.jam_steps = 0

    def plan(self, obs: dict[str, Any]) -> np.ndarray:
        pose = np.asarray(obs["state"]["tcp_pose"], dtype=np.float64)
        force = np.asarray(obs["state"]["tcp_force"], dtype=np.float64)
        target = self.task.target_pose
        scale = self.task.config.action_scale
        hover = target.copy()
        hover[2] += HOVER
        if self.phase == "align":
            action = servo_action(pose, hover, scale)
            aligned = servo_action(pose, hover, (1e-3, 1e-3, 1.0))
            if np.all(np.abs(aligned[:2] * 1e-3) < 4e-4) and abs(pose[2] - hover[2]) < 2e-3 and \
                    np.all(np.abs(aligned[3:] * 1e-3) < 3e-3):
                self.phase = "press"
            return action
        press = target.copy()
        press[2] -= PRESS
        action = servo_action(pose, press, scale)
        stuck_high = pose[2] > target[2] + 0.004 and force[2] > 6.0
        self.jam_steps = self.jam_steps + 1 if stuck_high else 0
        if self.jam_steps >= 5:
            self.phase, self.jam_steps = "align", 0
        return action
