"""Pictures of domain-randomised camera frames for the docs: nominal scene first, then randomised resets.

    python benchmarks/domain_randomisation_pictures.py --task ram_insertion --out docs/images
"""

from __future__ import annotations

import argparse
from pathlib import Path

import imageio.v3 as iio
import numpy as np

import hilserl_bench
from hilserl_bench.envs.domain_randomisation import DomainRandomisation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="ram_insertion")
    parser.add_argument("--draws", type=int, default=4)
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    args = parser.parse_args()
    env = hilserl_bench.make(args.task, obs_mode="pixels", image_size=args.image_size, render_mode="rgb_array")
    rows = []
    obs, _ = env.reset(seed=0)
    rows.append(np.concatenate([*obs["images"].values(), _overview(env, args.image_size)], axis=1))
    wrapped = DomainRandomisation(env)
    for seed in range(args.draws):
        obs, _ = wrapped.reset(seed=seed)
        rows.append(np.concatenate([*obs["images"].values(), _overview(env, args.image_size)], axis=1))
    wrapped.close()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"domain_randomisation_{args.task}.png"
    iio.imwrite(path, np.concatenate(rows, axis=0))
    print(f"wrote {path}: first row nominal, then {args.draws} randomised resets (cameras, then overview)")


def _overview(env, size: int) -> np.ndarray:
    frame = env.unwrapped.backend.render_overview()
    step = max(1, -(-max(frame.shape[:2]) // size))
    small = frame[::step, ::step][:size, :size]
    out = np.zeros((size, size, 3), np.uint8)
    out[:small.shape[0], :small.shape[1]] = small
    return out


if __name__ == "__main__":
    main()
