"""Idle gripper commands become "stay" in recorded expert demos; the rule matches the env's."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hilserl_bench.data.episode_format import load_dataset
from hilserl_bench.data.gripper_labels import effective_gripper, stay_when_idle
from hilserl_bench.data.recorder import record_episodes


def test_stay_when_idle_follows_the_close_open_keep_rule():
    action = np.array([0.3, -1.0, 0.9, -0.4])
    # dims 1 and 2 are grippers: arm A open (close changes it), arm B open (open is idle)
    np.testing.assert_array_equal(stay_when_idle(action, [1, 2], [True, True]), [0.3, -1.0, 0.0, -0.4])
    np.testing.assert_array_equal(stay_when_idle(action, [1, 2], [False, False]), [0.3, 0.0, 0.9, -0.4])
    assert effective_gripper(-0.5, True) is False and effective_gripper(0.49, False) is False
    assert effective_gripper(0.5, False) is True and effective_gripper(0.0, True) is True


def test_recorded_usb_demo_holds_all_three_gripper_actions(tmp_path: Path):
    record_episodes("usb_insertion", episodes=1, out_dir=tmp_path, seed=0, obs_mode="state")
    (episode,) = load_dataset(tmp_path)
    assert episode.metadata["success"]
    gripper = episode.actions[:, 6]
    assert set(np.unique(gripper)) <= {-1.0, 0.0, 1.0}
    closes = int((gripper == -1.0).sum())
    assert 1 <= closes <= 3, f"the expert closes once (a command per step while the fingers move): {closes}"
    assert (gripper == 0.0).mean() > 0.8, "every other step leaves the gripper as it is: stay"
