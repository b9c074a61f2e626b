"""The close-up pictures and videos (the main job's mp4s, render-readme) work for every registered task."""

import numpy as np
import pytest

import hilserl_bench
from hilserl_bench.pictures import PictureConfig, composite


@pytest.mark.parametrize("task_id", hilserl_bench.tasks())
def test_composite_picture_renders_for_every_task(task_id: str) -> None:
    env = hilserl_bench.make(task_id, obs_mode="state", render_mode="rgb_array")
    try:
        env.reset(seed=0)
        env.step(np.zeros(env.action_space.shape))
        frame = composite(env, PictureConfig())
        assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
        assert frame.std() > 5.0, "a blank picture"
    finally:
        env.close()
