"""``bench learner --obs-mode pixels``: image-learner speed, encoder throughput and frame memory.

* ``updates_per_s``: full RLPD learner steps (``critic_actor_ratio`` critic steps with the paper's
  encoder, one actor + temperature step, random-crop augmentation, all in one jitted call, critic
  steps unrolled as conv updates must be on CPU) at ``batch`` with 2 and 3 cameras;
* ``encoder_images_per_s``: forward passes of the frozen ResNet-10 alone;
* ``bytes_per_transition``: what a :class:`~hilserl_bench.data.ReplayBuffer` filled with episodes
  really stores per transition (frames once per step, shared by obs and next_obs) against the
  naive layout that keeps both frames of every transition.

Convolutions are slow on a CPU (seconds per update at batch 256 and 128x128); run this on the GPU
machine for real numbers (``JAX_PLATFORMS=cuda``), and use small ``--batch``/``--image-size`` here.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import jax
import numpy as np

from hilserl_bench.baselines.augmentation import Augmented
from hilserl_bench.baselines.image_encoder import PixelEncoder
from hilserl_bench.baselines.presets import PRESETS
from hilserl_bench.baselines.resnet10 import ResNet10
from hilserl_bench.baselines.rlpd import RLPDAgent

CAMERA_NAMES = ("wrist_1", "wrist_2", "side")
STATE_DIM, ACTION_DIM = 19, 7


def _obs(rng: np.random.Generator, lead: tuple[int, ...], cams: tuple[str, ...], size: int) -> dict[str, Any]:
    return {"state": rng.normal(size=(*lead, STATE_DIM)).astype(np.float32),
            "images": {c: rng.integers(0, 256, (*lead, size, size, 3), dtype=np.uint8) for c in cams}}


def bench_pixel_updates(n_cameras: int, image_size: int, batch: int, steps: int) -> dict[str, float]:
    """Compile time and learner steps/s of the hilserl-preset RLPD agent on pixel batches."""
    rng = np.random.default_rng(0)
    cams = CAMERA_NAMES[:n_cameras]
    preset = PRESETS["hilserl"]
    config = dataclasses.replace(preset, sac=dataclasses.replace(preset.sac, scan_updates=False))
    u = config.sac.critic_actor_ratio
    agent = RLPDAgent.create(jax.random.PRNGKey(0), _obs(rng, (1,), cams, image_size), ACTION_DIM, config,
                             PixelEncoder(cams))
    agent = Augmented(agent, jax.random.PRNGKey(1), 4)
    data = jax.device_put({"observations": _obs(rng, (u, batch), cams, image_size),
                           "next_observations": _obs(rng, (u, batch), cams, image_size),
                           "actions": rng.uniform(-1, 1, (u, batch, ACTION_DIM)).astype(np.float32),
                           "rewards": np.zeros((u, batch), np.float32), "masks": np.ones((u, batch), np.float32),
                           "grasp_penalty": np.zeros((u, batch), np.float32)})
    start = time.perf_counter()
    agent = jax.block_until_ready(agent.update(data)[0])
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(steps):
        agent, _ = agent.update(data)
    jax.block_until_ready(agent)
    dt = (time.perf_counter() - start) / steps
    return {"cameras": n_cameras, "compile_s": compile_s, "updates_per_s": 1 / dt, "critic_steps_per_s": u / dt}


def bench_encoder(image_size: int, batch: int, steps: int) -> dict[str, float]:
    """Images/s through the frozen ResNet-10 (forward only)."""
    net = ResNet10()
    x = np.random.default_rng(0).integers(0, 256, (batch, image_size, image_size, 3), dtype=np.uint8)
    params = net.init(jax.random.PRNGKey(0), x[:1])
    forward = jax.jit(lambda p, x: net.apply(p, x))
    jax.block_until_ready(forward(params, x))
    start = time.perf_counter()
    for _ in range(steps):
        out = forward(params, x)
    jax.block_until_ready(out)
    return {"batch": batch, "images_per_s": batch * steps / (time.perf_counter() - start)}


def frame_memory(n_cameras: int, image_size: int = 128, episode_steps: int = 100, capacity: int = 2000) -> dict:
    """Bytes per transition of a filled :class:`ReplayBuffer` (and of episode files) vs the naive layout."""
    from hilserl_bench.data.episode_format import Episode
    from hilserl_bench.data.replay_buffer import ReplayBuffer

    cams = CAMERA_NAMES[:n_cameras]
    shape = (image_size, image_size, 3)
    buf = ReplayBuffer(capacity, {"state": STATE_DIM, "images": {c: shape for c in cams}}, ACTION_DIM)
    t = episode_steps
    truncated = np.zeros(t, bool)
    truncated[-1] = True
    episode = Episode(state=np.zeros((t + 1, STATE_DIM), np.float32), actions=np.zeros((t, ACTION_DIM), np.float32),
                      rewards=np.zeros(t, np.float32), terminated=np.zeros(t, bool), truncated=truncated,
                      intervened=np.zeros(t, bool), succeed=np.zeros(t, bool), grasp_penalty=np.zeros(t, np.float32),
                      images={c: np.zeros((t + 1, *shape), np.uint8) for c in cams})
    while buf.n_inserted < capacity:
        buf.insert_episode(episode)
    frame = int(np.prod(shape))
    per_transition_frames = n_cameras * frame * buf.frames_stored / len(buf)
    other = sum(a.nbytes for a in buf.arrays.values()) / buf.capacity
    naive = 2 * n_cameras * frame + other
    return {"cameras": n_cameras, "image_size": image_size, "episode_steps": episode_steps,
            "stored_bytes_per_transition": per_transition_frames + other,
            "allocated_bytes_per_transition": (sum(f.nbytes for f in buf.frames.values()) + other * capacity)
            / capacity, "naive_bytes_per_transition": naive,
            "episode_file_frame_bytes_per_step": n_cameras * frame * (t + 1) / t,
            "gb_at_200k_stored": (per_transition_frames + other) * 200_000 / 1e9, "gb_at_200k_naive": naive * 2e5 / 1e9}


def bench_pixels(image_size: int = 128, batch: int = 256, steps: int = 3, cameras: tuple[int, ...] = (2, 3)) -> dict:
    """Everything above, as one JSON-able dict."""
    return {"device": jax.devices()[0].platform, "image_size": image_size, "batch": batch,
            "updates": [bench_pixel_updates(n, image_size, batch, steps) for n in cameras],
            "encoder": bench_encoder(image_size, min(batch, 64), steps),
            "memory": [frame_memory(n, image_size) for n in cameras]}


def format_pixels(result: dict) -> str:
    """A short table."""
    lines = [f"device {result['device']}, batch {result['batch']}, {result['image_size']}px frames"]
    for r in result["updates"]:
        lines.append(f"{r['cameras']} cameras: {r['updates_per_s']:.3f} updates/s "
                     f"({r['critic_steps_per_s']:.3f} critic steps/s), compile {r['compile_s']:.1f} s")
    lines.append(f"frozen ResNet-10 forward: {result['encoder']['images_per_s']:.1f} images/s")
    for m in result["memory"]:
        lines.append(f"{m['cameras']} cameras: {m['stored_bytes_per_transition'] / 1e3:.1f} KB/transition stored vs "
                     f"{m['naive_bytes_per_transition'] / 1e3:.1f} KB naive; 200k transitions: "
                     f"{m['gb_at_200k_stored']:.1f} GB vs {m['gb_at_200k_naive']:.1f} GB")
    return "\n".join(lines)
