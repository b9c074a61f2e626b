"""Export demo episodes to the LeRobot v3.0 dataset layout, with pyarrow alone (no ``lerobot`` dependency).

Layout written under ``OUT`` (what ``LeRobotDataset`` v3.0 reads)::

    meta/info.json                                   schema, fps, path templates, totals
    meta/stats.json                                  min/max/mean/std/count per feature
    meta/tasks.parquet                               task string (index) -> task_index
    meta/episodes/chunk-000/file-000.parquet         one row per episode: length, tasks, row range,
                                                     video file and time range per camera
    data/chunk-000/file-000.parquet                  one row per step, every episode
    videos/observation.images.<cam>/chunk-000/file-000.mp4   every episode's frames (H.264)

One row per step ``t`` holds ``observation.state`` (obs_t, the flattened training state),
``action`` (a_t), ``next.reward``, ``next.done`` / ``next.terminated`` / ``next.truncated``,
``next.success``, ``complementary_info.is_intervention`` and
``complementary_info.discrete_penalty`` (the grasp penalty), plus LeRobot's index columns.
LeRobot has no row for the observation after the last action, so each episode keeps it
in its metadata row (``hilserl/final_state``) and as one trailing video frame that lies
outside the episode's time range; the episode's own metadata (stack description, seed,
source) is kept as JSON in ``hilserl/metadata``. :func:`load_lerobot` reads all of it
back into :class:`~hilserl_bench.data.Episode` objects (images up to video compression).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from hilserl_bench.data.episode_format import Episode, EpisodeFormatError, load_dataset

CODEBASE_VERSION = "v3.0"
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
EPISODES_PATH = "meta/episodes/chunk-000/file-000.parquet"
STEP_COLUMNS = {
    "next.reward": ("rewards", "float32"), "next.done": (None, "bool"), "next.terminated": ("terminated", "bool"),
    "next.truncated": ("truncated", "bool"), "next.success": ("succeed", "bool"),
    "complementary_info.is_intervention": ("intervened", "bool"),
    "complementary_info.discrete_penalty": ("grasp_penalty", "float32"),
}
"""LeRobot column -> (Episode field, dtype); ``next.done`` is terminated or truncated."""
INDEX_COLUMNS = {"timestamp": "float32", "frame_index": "int64", "episode_index": "int64", "index": "int64",
                 "task_index": "int64"}


def _image_key(cam: str) -> str:
    return f"observation.images.{cam}"


def export_lerobot(episodes: list[Episode], out: Path, task: str = "", overwrite: bool = False,
                   crf: int = 18) -> dict[str, Any]:
    """Write ``episodes`` as a LeRobot v3.0 dataset at ``out`` (atomically: a temp dir renamed into place)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not episodes:
        raise ValueError("no episodes to export")
    out = Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite to replace it")
    first = episodes[0]
    stack = first.metadata.get("stack", {})
    fps = float(stack.get("control_hz", 10.0))
    cams = sorted(first.images)
    task = task or str(first.metadata.get("task_id", stack.get("task_id", "hilserl task")))
    for ep in episodes:
        if sorted(ep.images) != cams or ep.state.shape[1] != first.state.shape[1] \
                or ep.actions.shape[1] != first.actions.shape[1]:
            raise EpisodeFormatError(f"{ep.path}: state, action or camera layout differs from {first.path}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        rows: dict[str, list[np.ndarray]] = {k: [] for k in ("observation.state", "action", *STEP_COLUMNS,
                                                               *INDEX_COLUMNS)}
        meta_rows: list[dict[str, Any]] = []
        start, frame_offset = 0, 0
        for i, ep in enumerate(episodes):
            n = ep.length
            rows["observation.state"].append(ep.state[:n].astype(np.float32))
            rows["action"].append(ep.actions.astype(np.float32))
            for col, (attr, dtype) in STEP_COLUMNS.items():
                value = (ep.terminated | ep.truncated) if attr is None else getattr(ep, attr)
                rows[col].append(np.asarray(value, dtype=dtype))
            rows["timestamp"].append((np.arange(n) / fps).astype(np.float32))
            rows["frame_index"].append(np.arange(n, dtype=np.int64))
            rows["episode_index"].append(np.full(n, i, dtype=np.int64))
            rows["index"].append(np.arange(start, start + n, dtype=np.int64))
            rows["task_index"].append(np.zeros(n, dtype=np.int64))
            meta = {"episode_index": i, "tasks": [task], "length": n, "data/chunk_index": 0, "data/file_index": 0,
                    "dataset_from_index": start, "dataset_to_index": start + n,
                    "meta/episodes/chunk_index": 0, "meta/episodes/file_index": 0,
                    "hilserl/final_state": ep.state[n].astype(np.float32).tolist(),
                    "hilserl/metadata": json.dumps(ep.metadata, sort_keys=True),
                    "hilserl/labels": None if ep.labels is None else ep.labels.astype(np.int8).tolist()}
            for cam in cams:
                meta.update({f"videos/{_image_key(cam)}/chunk_index": 0, f"videos/{_image_key(cam)}/file_index": 0,
                             f"videos/{_image_key(cam)}/from_timestamp": frame_offset / fps,
                             f"videos/{_image_key(cam)}/to_timestamp": (frame_offset + n) / fps})
            meta_rows.append(meta)
            start, frame_offset = start + n, frame_offset + n + 1
        columns = {k: np.concatenate(v) for k, v in rows.items()}
        table = pa.table({k: _arrow_column(v) for k, v in columns.items()})
        _write(tmp / DATA_PATH.format(chunk_index=0, file_index=0), lambda p: pq.write_table(table, p))
        _write(tmp / EPISODES_PATH, lambda p: pq.write_table(pa.Table.from_pylist(meta_rows), p))
        _write(tmp / "meta/tasks.parquet", lambda p: _tasks_frame([task]).to_parquet(p))
        features = _features(columns, first, cams, fps)
        stats = {k: _stats(v) for k, v in columns.items()}
        for cam in cams:
            frames = [ep.images[cam] for ep in episodes]
            path = tmp / VIDEO_PATH.format(video_key=_image_key(cam), chunk_index=0, file_index=0)
            _write(path, lambda p, f=frames: _encode(p, f, fps, crf))
            stats[_image_key(cam)] = _image_stats(frames)
        info = {"codebase_version": CODEBASE_VERSION, "robot_type": "franka", "total_episodes": len(episodes),
                "total_frames": int(start), "total_tasks": 1, "chunks_size": 1000, "data_files_size_in_mb": 100,
                "video_files_size_in_mb": 200, "fps": fps, "splits": {"train": f"0:{len(episodes)}"},
                "data_path": DATA_PATH, "video_path": VIDEO_PATH if cams else None, "features": features}
        (tmp / "meta/info.json").write_text(json.dumps(info, indent=2))
        (tmp / "meta/stats.json").write_text(json.dumps(stats, indent=2))
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"out": str(out), "episodes": len(episodes), "frames": int(start), "cameras": cams, "fps": fps}


def _arrow_column(values: np.ndarray):
    import pyarrow as pa

    if values.ndim == 1:
        return pa.array(values)
    flat = pa.array(values.reshape(-1))
    return pa.FixedSizeListArray.from_arrays(flat, values.shape[1])


def _write(path: Path, writer) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    writer(path)


def _tasks_frame(tasks: list[str]):
    import pandas as pd

    return pd.DataFrame({"task_index": np.arange(len(tasks), dtype=np.int64)}, index=pd.Index(tasks, name="task"))


def _features(columns: dict[str, np.ndarray], first: Episode, cams: list[str], fps: float) -> dict[str, Any]:
    layout = first.metadata.get("stack", {}).get("state_layout") or []
    names = {"observation.state": [f"{key}[{j - a}]" for key, a, b in layout for j in range(a, b)] or None,
             "action": [f"a{j}" for j in range(first.actions.shape[1])]}
    features: dict[str, Any] = {}
    for cam in cams:
        h, w, c = first.images[cam].shape[1:]
        features[_image_key(cam)] = {
            "dtype": "video", "shape": [h, w, c], "names": ["height", "width", "channels"],
            "info": {"video.height": h, "video.width": w, "video.codec": "h264", "video.pix_fmt": "yuv420p",
                     "video.is_depth_map": False, "video.fps": fps, "video.channels": c, "has_audio": False}}
    for key, values in columns.items():
        shape = [1] if values.ndim == 1 else [int(values.shape[1])]
        features[key] = {"dtype": str(values.dtype), "shape": shape, "names": names.get(key)}
    return features


def _stats(values: np.ndarray) -> dict[str, list]:
    data = values.reshape(len(values), -1).astype(np.float64)
    return {"min": data.min(0).tolist(), "max": data.max(0).tolist(), "mean": data.mean(0).tolist(),
            "std": data.std(0).tolist(), "count": [len(values)]}


def _image_stats(frames: list[np.ndarray]) -> dict[str, list]:
    """Per-channel stats of pixel values in [0, 1], shaped (3, 1, 1) as LeRobot stores them."""
    pixels = np.concatenate([f.reshape(-1, f.shape[-1]) for f in frames]).astype(np.float64) / 255.0
    shaped = lambda v: v.reshape(-1, 1, 1).tolist()  # noqa: E731
    return {"min": shaped(pixels.min(0)), "max": shaped(pixels.max(0)), "mean": shaped(pixels.mean(0)),
            "std": shaped(pixels.std(0)), "count": [int(sum(len(f) for f in frames))]}


def _encode(path: Path, episodes: list[np.ndarray], fps: float, crf: int) -> None:
    import imageio.v2 as imageio

    with imageio.get_writer(path, format="FFMPEG", fps=fps, codec="libx264", pixelformat="yuv420p",
                            macro_block_size=2, ffmpeg_params=["-g", "2", "-crf", str(crf)]) as writer:
        for frames in episodes:
            for frame in frames:
                writer.append_data(frame)


def _decode(path: Path) -> np.ndarray:
    import imageio.v2 as imageio

    with imageio.get_reader(path, format="FFMPEG") as reader:
        return np.stack([frame for frame in reader.iter_data()])


def load_lerobot(root: str | Path) -> list[Episode]:
    """Read a dataset written by :func:`export_lerobot` back into episodes (images decoded from the mp4s)."""
    import pyarrow.parquet as pq

    root = Path(root)
    info = json.loads((root / "meta/info.json").read_text())
    if info.get("codebase_version") != CODEBASE_VERSION:
        raise EpisodeFormatError(f"{root}: codebase_version {info.get('codebase_version')!r}, expected v3.0")
    fps = float(info["fps"])
    cams = [k[len("observation.images."):] for k, f in info["features"].items() if f["dtype"] == "video"]
    data = pq.read_table(root / info["data_path"].format(chunk_index=0, file_index=0)).to_pydict()
    videos = {cam: _decode(root / info["video_path"].format(video_key=_image_key(cam), chunk_index=0,
                                                              file_index=0)) for cam in cams}
    episodes = []
    for meta in sorted(pq.read_table(root / EPISODES_PATH).to_pylist(), key=lambda m: m["episode_index"]):
        lo, hi = meta["dataset_from_index"], meta["dataset_to_index"]

        def col(key: str, lo: int = lo, hi: int = hi) -> np.ndarray:
            return np.asarray(data[key][lo:hi])

        state = np.vstack([col("observation.state"), [meta["hilserl/final_state"]]]).astype(np.float32)
        fields = {attr: col(key).astype(dtype) for key, (attr, dtype) in STEP_COLUMNS.items() if attr is not None}
        images = {}
        for cam in cams:
            first = round(meta[f"videos/{_image_key(cam)}/from_timestamp"] * fps)
            images[cam] = videos[cam][first:first + hi - lo + 1]
            if len(images[cam]) != hi - lo + 1:
                raise EpisodeFormatError(f"{root}: video of {cam} ends before episode {meta['episode_index']}")
        labels = meta.get("hilserl/labels")
        episodes.append(Episode(state=state, actions=col("action").astype(np.float32), images=images,
                                metadata=json.loads(meta["hilserl/metadata"]),
                                labels=None if labels is None else np.asarray(labels, dtype=np.int8), **fields))
    return episodes


@dataclass(frozen=True)
class ExportCmd:
    """Export recorded demo episodes (.npz) to another dataset format."""

    demos: Path
    """Directory of episode files (from `hilserl-bench record`)."""
    out: Path
    """Output dataset directory (must not exist unless --overwrite)."""
    format: Literal["lerobot"] = "lerobot"
    """Target format: LeRobot v3.0 (parquet + mp4, readable by LeRobotDataset)."""
    overwrite: bool = False
    """Replace an existing --out directory."""

    def run(self) -> int:
        summary = export_lerobot(load_dataset(self.demos), self.out, overwrite=self.overwrite)
        print(f"wrote {summary['episodes']} episodes ({summary['frames']} frames, cameras {summary['cameras']}, "
              f"{summary['fps']:g} fps) as LeRobot {CODEBASE_VERSION} to {summary['out']}")
        return 0
