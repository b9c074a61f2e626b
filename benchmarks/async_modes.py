"""Benchmark of the training modes: throughput, wall time to a success target, and 10 Hz over HTTP.

1. Learning runs (RLPD + demos + scripted interventions, the HIL-SERL recipe) of ``--task`` in
   sync, async and ray with each of ``--actors``, every run given the same ``--wall-s`` of wall
   time (then stopped with SIGTERM, as a person would). From each run's metrics.csv: env steps/s
   and learner updates/s once the learner is running (from its first update to the last committed
   episode), each actor's own speed while playing (steps / episode wall time), what the run reached
   in its wall budget, and the time at which the success of the last
   20 episodes first reached ``--target`` (the paper's 95%), or "not reached" with the best value.
2. Control loop against the emulator over HTTP: `hilserl-bench serve-sim` in real time (a separate
   process, like a robot server), training with ``--backend real`` in sync and in async with the
   learner running; late 10 Hz ticks (``overruns``) per episode, and the latest tick.

Prints a table (``--json``: one object) and writes ``--results`` (committed under benchmarks/results/).

    python benchmarks/async_modes.py --wall-s 300                      # learning runs, then HTTP
    python benchmarks/async_modes.py --no-learning --no-http --collect   # ray collection, idle learner
    python benchmarks/async_modes.py --reanalyse                         # the table from the run folders
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import requests
import tyro

from hilserl_bench.cli_checks import round_floats
from hilserl_bench.data.recorder import record_episodes
from hilserl_bench.rollout import atomic_output

WINDOW = 20


@dataclass(frozen=True)
class AsyncModesBench:
    """Measure sync, async and ray training; see the module docstring."""

    task: str = "ram_insertion"
    """Task id."""
    wall_s: float = 240.0
    """Wall time of each learning run (start-up included)."""
    actors: tuple[int, ...] = (1, 2, 4)
    """Ray actor counts to run."""
    target: float = 0.95
    """Success over the last 20 episodes whose first time is reported."""
    http_env_steps: int = 400
    """Env steps of each HTTP run (10 Hz: 40 s)."""
    num_demos: int = 10
    """Expert demos recorded for the runs."""
    publish_every: int = 50
    """Learner steps between parameter pushes in async and ray (HIL-SERL's 50)."""
    seed: int = 0
    """Seed of every run."""
    learning: bool = True
    """Run part 1."""
    collect: bool = False
    """Also run ray with each of --actors and an idle learner (--start-training above any budget): collection
    throughput alone, without the learner's compilation and updates."""
    collect_wall_s: float = 240.0
    """Wall time of each --collect run."""
    http: bool = True
    """Run part 2."""
    http_modes: tuple[str, ...] = ("sync", "async")
    """Modes of part 2 (rows of other modes already in --results are kept)."""
    out: Path = Path("runs/bench_async_modes")
    """Demos and runs (git-ignored); removed run folders are started afresh."""
    results: Path = Path("benchmarks/results/async_modes.json")
    """Result file."""
    json: bool = False
    """Print one JSON object instead of the table."""
    reanalyse: bool = False
    """Recompute the learning rows of --results from the run folders already in --out (runs nothing; keeps the
    HTTP rows of --results)."""


def _train_cmd(cfg: AsyncModesBench, demos: Path, run: Path, mode: str, actors: int, *extra: str) -> list[str]:
    cmd = [sys.executable, "-m", "hilserl_bench.cli", "train", "--task", cfg.task, "--demos", str(demos),
           "--interventions", "scripted", "--seed", str(cfg.seed), "--out", str(run), "--mode", mode,
           "--checkpoint-every", "20", *extra]
    if mode != "sync":
        cmd += ["--publish-every", str(cfg.publish_every)]
    if mode == "ray":
        cmd += ["--actors", str(actors)]
    return cmd


def _run_for(cmd: list[str], wall_s: float, log: Path) -> float:
    """Run ``cmd`` until it ends or ``wall_s`` passes (then SIGTERM, as Ctrl-C would); returns its wall time."""
    start = time.monotonic()
    with open(log, "w") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            proc.wait(timeout=wall_s)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return time.monotonic() - start


def _clock(metrics: pd.DataFrame) -> pd.Series:
    """Seconds since training started at each committed episode: sync sums episode wall times (the learner
    trains inside them), async and ray log the learner's clock."""
    return metrics["time_s"] if "time_s" in metrics else metrics["wall_time_s"].cumsum()


def learning_row(run: Path, label: str, wall_s: float, target: float) -> dict[str, Any]:
    """Throughput and success figures of one run's metrics.csv (a run that committed no episode: zeros)."""
    if not (run / "metrics.csv").exists():
        return {"run": label, "wall_s": wall_s, "episodes": 0, "env_steps": 0, "learner_steps": 0,
                "best_success_20": None, "time_to_target_s": None, "steps_to_target": None}
    metrics = pd.read_csv(run / "metrics.csv")
    t = _clock(metrics)
    done = metrics["env_steps"] + metrics["steps"]
    rolling = metrics["success"].astype(float).rolling(WINDOW).mean()
    warm = metrics.index[metrics["learner_steps"] > 0] if metrics["learner_steps"].max() > 0 else metrics.index
    row: dict[str, Any] = {"run": label, "wall_s": wall_s, "episodes": len(metrics), "env_steps": int(done.iloc[-1]),
                           "learner_steps": int(metrics["learner_steps"].iloc[-1])}
    if len(warm) >= 2 and t.iloc[-1] > t[warm[0]]:
        span = t.iloc[-1] - t[warm[0]]
        row["env_steps_per_s"] = (done.iloc[-1] - done[warm[0]]) / span
        row["updates_per_s"] = (metrics["learner_steps"].iloc[-1] - metrics["learner_steps"][warm[0]]) / span
    reached = rolling >= target
    row["best_success_20"] = float(rolling.max()) if rolling.notna().any() else None
    row["time_to_target_s"] = float(t[reached].iloc[0]) if reached.any() else None
    row["steps_to_target"] = int(done[reached].iloc[0]) if reached.any() else None
    row["actor_steps_per_s"] = float(metrics["steps"].sum() / metrics["wall_time_s"].sum())
    if "actor" in metrics:
        row["episodes_per_actor"] = {int(k): int(v) for k, v in metrics["actor"].value_counts().sort_index().items()}
    return row


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_row(cfg: AsyncModesBench, demos: Path, mode: str) -> dict[str, Any]:
    """Overruns per episode of a real-backend run against a real-time emulator in its own process."""
    port = _free_port()
    run = cfg.out / f"http_{mode}"
    server = subprocess.Popen([sys.executable, "-m", "hilserl_bench.cli", "serve-sim", "--task", cfg.task,
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            try:
                requests.post(f"http://127.0.0.1:{port}/getstate", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.5)
        cmd = _train_cmd(cfg, demos, run, mode, 1, "--backend", "real", "--robot-url", f"http://127.0.0.1:{port}/",
                         "--emulator", "--obs-mode", "state", "--env-steps", str(cfg.http_env_steps))
        _run_for(cmd, 1200, cfg.out / f"http_{mode}.log")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    metrics = pd.read_csv(run / "metrics.csv")
    training = metrics[metrics["learner_steps"] > 0]
    return {"run": f"http {mode}", "episodes": len(metrics), "steps": int(metrics["steps"].sum()),
            "overruns_per_episode": metrics["overruns"].tolist(),
            "mean_overruns_while_learning": float(training["overruns"].mean()) if len(training) else None,
            "late_tick_fraction": float(metrics["overruns"].sum() / metrics["steps"].sum()),
            "max_overrun_s": float(metrics["max_overrun_s"].max()),
            "learner_steps": int(metrics["learner_steps"].max())}


def format_table(result: dict[str, Any]) -> str:
    lines = [f"{'run':<16} {'env steps/s':>11} {'updates/s':>9} {'actor steps/s':>13} {'env steps':>9} "
             f"{'episodes':>8} {'best 20-ep success':>18} {'time to target':>14}"]
    for r in [*result.get("learning", []), *result.get("collect", [])]:
        ttt = f"{r['time_to_target_s']:.0f} s" if r.get("time_to_target_s") is not None else "not reached"
        best = f"{r['best_success_20']:.2f}" if r.get("best_success_20") is not None else "-"
        lines.append(f"{r['run']:<16} {r.get('env_steps_per_s', float('nan')):>11.1f} "
                     f"{r.get('updates_per_s', float('nan')):>9.1f} {r.get('actor_steps_per_s', float('nan')):>13.1f} "
                     f"{r['env_steps']:>9} {r['episodes']:>8} "
                     f"{best:>18} {ttt:>14}")
    for r in result.get("http", []):
        lines.append(f"{r['run']}: {r['episodes']} episodes, late 10 Hz ticks per episode {r['overruns_per_episode']} "
                     f"({100 * r['late_tick_fraction']:.1f}% of ticks), latest {1000 * r['max_overrun_s']:.0f} ms")
    return "\n".join(lines)


LEARNING_RUNS = {"sync": "sync", "async": "async", "ray x1": "rayx1", "ray x2": "rayx2", "ray x4": "rayx4"}


def reanalyse(cfg: AsyncModesBench) -> dict[str, Any]:
    """The result file with its learning rows recomputed from the runs in ``--out``."""
    result = json.loads(cfg.results.read_text()) if cfg.results.exists() else {}
    result.update(task=cfg.task, wall_s=cfg.wall_s, target=cfg.target)
    result["learning"] = [learning_row(cfg.out / folder, label, cfg.wall_s, cfg.target)
                          for label, folder in LEARNING_RUNS.items() if (cfg.out / folder).is_dir()]
    result["collect"] = [learning_row(cfg.out / f"collect{n}", f"ray x{n} collect", cfg.collect_wall_s, cfg.target)
                         for n in cfg.actors if (cfg.out / f"collect{n}").is_dir()]
    return result


def main(cfg: AsyncModesBench) -> dict[str, Any]:
    if cfg.reanalyse:
        result = reanalyse(cfg)
        with atomic_output(cfg.results) as tmp:
            tmp.write_text(json.dumps(round_floats(result, 4), indent=1) + "\n")
        return result
    cfg.out.mkdir(parents=True, exist_ok=True)
    demos = cfg.out / "demos"
    if not demos.exists():
        record_episodes(cfg.task, episodes=cfg.num_demos, out_dir=demos, seed=0, obs_mode="state")
    result: dict[str, Any] = {"task": cfg.task, "wall_s": cfg.wall_s, "target": cfg.target,
                              "cpus": os.cpu_count(), "load_avg_at_start": os.getloadavg()[0]}
    if cfg.learning:
        rows = []
        for mode, actors in [("sync", 1), ("async", 1), *[("ray", n) for n in cfg.actors]]:
            label = mode if mode != "ray" else f"ray x{actors}"
            run = cfg.out / label.replace(" ", "")
            wall = _run_for(_train_cmd(cfg, demos, run, mode, actors), cfg.wall_s, cfg.out / f"{run.name}.log")
            rows.append(learning_row(run, label, wall, cfg.target))
        result["learning"] = rows
    if cfg.collect:
        rows = []
        for actors in cfg.actors:
            run = cfg.out / f"collect{actors}"
            cmd = _train_cmd(cfg, demos, run, "ray", actors, "--start-training", "1000000000")
            wall = _run_for(cmd, cfg.collect_wall_s, cfg.out / f"{run.name}.log")
            rows.append(learning_row(run, f"ray x{actors} collect", wall, cfg.target))
        result["collect"] = rows
    if cfg.http:
        if cfg.results.exists() and not cfg.learning:
            result["learning"] = json.loads(cfg.results.read_text()).get("learning", [])
        kept = json.loads(cfg.results.read_text()).get("http", []) if cfg.results.exists() else []
        fresh = [http_row(cfg, demos, mode) for mode in cfg.http_modes]
        result["http"] = [r for r in kept if r["run"] not in {f["run"] for f in fresh}] + fresh
    result["load_avg_at_end"] = os.getloadavg()[0]
    with atomic_output(cfg.results) as tmp:
        tmp.write_text(json.dumps(round_floats(result, 4), indent=1) + "\n")
    return result


if __name__ == "__main__":
    config = tyro.cli(AsyncModesBench)
    out = main(config)
    print(json.dumps(round_floats(out, 4)) if config.json else format_table(out))
