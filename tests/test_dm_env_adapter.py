"""Every task as a dm_env.Environment: dm_env's own conformance mixin, plus episode ends and specs."""

from __future__ import annotations

import numpy as np
import pytest

dm_env = pytest.importorskip("dm_env", reason="needs the [dm-control] extra")
absltest = pytest.importorskip("absl.testing.absltest")

from dm_env import test_utils  # noqa: E402

import hilserl_bench  # noqa: E402
from hilserl_bench.dm_env_adapter import make  # noqa: E402


class RamInsertionConformance(test_utils.EnvironmentTestMixin, absltest.TestCase):
    """dm_env's interface contract, with actions that run past a time limit (FIRST after LAST)."""

    def make_object_under_test(self):
        return make("ram_insertion", obs_mode="state", seed=0, max_steps=8)

    def make_action_sequence(self):
        rng = np.random.default_rng(0)
        spec = self.environment.action_spec()
        for _ in range(30):
            yield rng.uniform(spec.minimum, spec.maximum).astype(spec.dtype)


class UsbInsertionConformance(RamInsertionConformance):
    """The learned-gripper task (7 action dims, a third camera)."""

    def make_object_under_test(self):
        return make("usb_insertion", obs_mode="state", seed=0, max_steps=8)


@pytest.mark.parametrize("task_id", hilserl_bench.tasks())
def test_specs_match_the_gymnasium_spaces(task_id: str) -> None:
    env = make(task_id, obs_mode="state", seed=0)
    try:
        gym_env = env.env
        assert env.action_spec().shape == gym_env.action_space.shape
        assert np.all(env.action_spec().minimum == -1) and np.all(env.action_spec().maximum == 1)
        names = set(env.observation_spec())
        assert any(n.startswith("state/") and n.endswith("tcp_pose") for n in names)
        assert any(n.startswith("task/") for n in names)
        first = env.reset()
        for name, spec in env.observation_spec().items():
            spec.validate(first.observation[name])
    finally:
        env.close()


def test_success_terminates_with_discount_zero_and_time_limit_truncates_with_one() -> None:
    from hilserl_bench.envs.experts import make_expert

    env = make("ram_insertion", obs_mode="state", seed=0)
    try:
        expert = make_expert(env.env)
        step = env.reset()
        expert.reset(np.random.default_rng(0))
        while not step.last():
            step = env.step(expert.act(env.env.unwrapped.last_obs))
        assert env.last_info["succeed"] and step.discount == 0.0 and step.reward > 0
        assert env.step(env.action_spec().generate_value()).first(), "step after LAST starts a new episode"
    finally:
        env.close()
    env = make("ram_insertion", obs_mode="state", seed=0, max_steps=3)
    try:
        env.reset()
        steps = [env.step(np.zeros(6, np.float32)) for _ in range(3)]
        assert [s.last() for s in steps] == [False, False, True] and steps[-1].discount == 1.0
    finally:
        env.close()
