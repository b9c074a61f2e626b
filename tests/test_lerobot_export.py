"""LeRobot v3.0 export: layout, schema, and a round trip back to episodes."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hilserl_bench.cli import main
from hilserl_bench.data import Episode, EpisodeFormatError, save_episode
from hilserl_bench.data.lerobot_export import export_lerobot, load_lerobot

STACK = {"task_id": "ram_insertion", "control_hz": 10.0, "state_layout": [["tcp_pose", 0, 3], ["gripper", 3, 4]],
         "action_dim": 6}


def _episode(steps: int, seed: int, cams=("wrist_1", "wrist_2"), labels: bool = False) -> Episode:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:32, 0:48]
    frames = {cam: np.stack([np.stack([(xx * 4 + 9 * t + 40 * k) % 256, (yy * 6 + 5 * t) % 256,
                                       np.full_like(xx, 60 * k + 20)], -1) for t in range(steps + 1)]).astype(np.uint8)
              for k, cam in enumerate(cams)}
    flags = rng.random((4, steps)) < 0.3
    return Episode(
        state=rng.normal(size=(steps + 1, 4)).astype(np.float32),
        actions=rng.uniform(-1, 1, (steps, 6)).astype(np.float32),
        rewards=rng.random(steps).astype(np.float32), terminated=flags[0], truncated=flags[1],
        intervened=flags[2], succeed=flags[3], grasp_penalty=-0.02 * flags[0].astype(np.float32), images=frames,
        metadata={"task_id": "ram_insertion", "seed": seed, "source": "expert", "stack": STACK, "format_version": 1},
        labels=rng.integers(-1, 2, steps + 1).astype(np.int8) if labels else None)


def test_layout_and_schema_follow_lerobot_v3(tmp_path):
    episodes = [_episode(5, 0), _episode(7, 1)]
    out = tmp_path / "ds"
    summary = export_lerobot(episodes, out)
    assert summary["frames"] == 12 and summary["cameras"] == ["wrist_1", "wrist_2"]
    info = json.loads((out / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["total_episodes"] == 2 and info["total_frames"] == 12
    assert info["features"]["observation.images.wrist_1"]["dtype"] == "video"
    assert info["features"]["observation.images.wrist_1"]["shape"] == [32, 48, 3]
    assert info["features"]["observation.state"]["names"][:2] == ["tcp_pose[0]", "tcp_pose[1]"]
    data = pq.read_table(out / "data/chunk-000/file-000.parquet")
    state_type = data.schema.field("observation.state").type
    assert data.num_rows == 12 and pa.types.is_fixed_size_list(state_type) and state_type.list_size == 4
    assert state_type.value_type == pa.float32()
    videos = {"observation.images.wrist_1", "observation.images.wrist_2"}
    assert set(info["features"]) - videos == set(data.column_names)
    assert data.column("index").to_pylist() == list(range(12))
    assert data.column("frame_index").to_pylist() == [*range(5), *range(7)]
    meta = pq.read_table(out / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert [(m["dataset_from_index"], m["dataset_to_index"], m["length"]) for m in meta] == [(0, 5, 5), (5, 12, 7)]
    assert meta[1]["videos/observation.images.wrist_2/from_timestamp"] == pytest.approx(0.6)
    assert meta[1]["videos/observation.images.wrist_2/to_timestamp"] == pytest.approx(1.3)
    tasks = pq.read_table(out / "meta/tasks.parquet").to_pandas()
    assert tasks.loc["ram_insertion", "task_index"] == 0
    stats = json.loads((out / "meta/stats.json").read_text())
    assert np.asarray(stats["observation.images.wrist_1"]["mean"]).shape == (3, 1, 1)
    assert stats["action"]["count"] == [12] and len(stats["action"]["mean"]) == 6
    assert list(tmp_path.iterdir()) == [out], "no temp directory left behind"


def test_round_trip_restores_every_array(tmp_path):
    episodes = [_episode(5, 0, labels=True), _episode(9, 1)]
    export_lerobot(episodes, tmp_path / "ds")
    back = load_lerobot(tmp_path / "ds")
    assert len(back) == 2
    for ep, got in zip(episodes, back, strict=True):
        for key in ("state", "actions", "rewards", "terminated", "truncated", "intervened", "succeed",
                    "grasp_penalty"):
            np.testing.assert_array_equal(getattr(got, key), getattr(ep, key), err_msg=key)
            assert getattr(got, key).dtype == getattr(ep, key).dtype, key
        assert got.metadata == ep.metadata
        assert (got.labels is None) == (ep.labels is None)
        if ep.labels is not None:
            np.testing.assert_array_equal(got.labels, ep.labels)
        for cam, frames in ep.images.items():
            assert got.images[cam].shape == frames.shape
            error = np.abs(got.images[cam].astype(float) - frames).mean()
            assert error < 4.0, f"{cam}: mean abs error {error:.2f} after H.264"


def test_refuses_existing_output_and_mixed_layouts(tmp_path):
    out = tmp_path / "ds"
    export_lerobot([_episode(3, 0)], out)
    with pytest.raises(FileExistsError, match="--overwrite"):
        export_lerobot([_episode(3, 0)], out)
    export_lerobot([_episode(4, 2)], out, overwrite=True)
    assert json.loads((out / "meta/info.json").read_text())["total_frames"] == 4
    with pytest.raises(EpisodeFormatError, match="differs"):
        export_lerobot([_episode(3, 0), _episode(3, 1, cams=("wrist_1",))], tmp_path / "other")


def test_cli_export(tmp_path, capsys):
    demos = tmp_path / "demos"
    for i in range(2):
        save_episode(demos / f"ep_{i:03d}.npz", _episode(4 + i, i, cams=("wrist_1",)))
    assert main(["export", "--format", "lerobot", "--demos", str(demos), "--out", str(tmp_path / "ds")]) == 0
    assert "wrote 2 episodes (9 frames" in capsys.readouterr().out
    assert [ep.length for ep in load_lerobot(tmp_path / "ds")] == [4, 5]
