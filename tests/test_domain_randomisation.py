"""Domain randomisation: draws follow the reset seed, stay in range, change the frames, and undo on close."""

from __future__ import annotations

import numpy as np

import hilserl_bench
from hilserl_bench.envs.domain_randomisation import DomainRandomisation, DomainRandomisationConfig


def test_draws_follow_the_seed_stay_in_range_and_are_undone():
    env = hilserl_bench.make("ram_insertion", obs_mode="pixels", image_size=32)
    model = env.unwrapped.backend.model
    nominal_obs, _ = env.reset(seed=0)
    nominal_mass, nominal_rgba = model.body_mass.copy(), model.geom_rgba.copy()
    wrapped = DomainRandomisation(env, DomainRandomisationConfig())
    a, _ = wrapped.reset(seed=0)
    mass_a = model.body_mass.copy()
    b, _ = wrapped.reset(seed=1)
    again, _ = wrapped.reset(seed=0)
    np.testing.assert_array_equal(model.body_mass, mass_a)
    np.testing.assert_array_equal(a["images"]["wrist_1"], again["images"]["wrist_1"])
    assert not np.array_equal(a["images"]["wrist_1"], b["images"]["wrist_1"])
    assert not np.array_equal(a["images"]["wrist_1"], nominal_obs["images"]["wrist_1"])
    props = wrapped._prop_bodies
    assert len(props) > 0
    ratio = mass_a[props] / nominal_mass[props]
    assert np.all((ratio >= 0.8 - 1e-9) & (ratio <= 1.2 + 1e-9)) and not np.allclose(ratio, 1.0)
    robot = model.geom_contype == 2
    np.testing.assert_array_equal(model.geom_rgba[robot], nominal_rgba[robot])
    wrapped.close()
    np.testing.assert_array_equal(model.body_mass, nominal_mass)
    np.testing.assert_array_equal(model.geom_rgba, nominal_rgba)
