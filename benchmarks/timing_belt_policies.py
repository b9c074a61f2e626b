"""Scripts that should NOT solve the timing belt task, and the expert with a deliberate offset.

Used by ``benchmarks/timing_belt_checks.py`` (replica_quality.md, sections 1 and 4). Each is a
policy (``reset(rng)`` / ``act(obs)``) built on the expert, changing only what it assumes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hilserl_bench import geometry as geo
from hilserl_bench.backend import SceneState
from hilserl_bench.envs.experts.timing_belt import TimingBeltExpert


class OffsetExpert(TimingBeltExpert):
    """The expert, believing the fixture sits ``offset`` (m; fixture x = across, y = along the pulley line) off."""

    offset = np.zeros(2)

    def scene(self) -> SceneState:
        scene = super().scene()
        poses = dict(scene.poses)
        fixture = poses["belt_fixture"].copy()
        fixture[:3] = geo.pose_compose(fixture, np.array([*self.offset, 0.0, 0.0, 0.0, 0.0, 1.0]))[:3]
        poses["belt_fixture"] = fixture
        return SceneState(poses=poses, contacts=scene.contacts, penetration=scene.penetration)


class NaiveStraightDown(OffsetExpert):
    """Lower the belt where the fixture sits nominally (no looking), push in and lift, as the expert would."""

    def scene(self) -> SceneState:
        scene = super(OffsetExpert, self).scene()
        poses = dict(scene.poses)
        poses["belt_fixture"] = self.task.nominal_fixture
        return SceneState(poses=poses, contacts=scene.contacts, penetration=scene.penetration)


class NaiveNoPushIn(TimingBeltExpert):
    """Centre the belt and lower it to the grooves, then just lift out (no pushing its ends onto the hubs)."""

    def phase(self, obs: dict[str, Any]) -> str:
        phase = super().phase(obs)
        return "lift out" if phase == "push in" else phase
