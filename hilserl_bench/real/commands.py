"""Command configs for the CLI: ``serve-sim``, ``calibrate`` and ``bench env --backend real``.

Each is a frozen dataclass (tyro shows the field docstrings as ``--help``) with a
``run() -> int`` returning the exit code, so the CLI only maps names to classes.
:func:`bench_env_http` measures what HTTP costs: env steps/s through the emulator
on loopback against the same task on the sim backend, and the added latency per step.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import tyro

from hilserl_bench.real.config import DEFAULT_URL, write_task_pose


@dataclass(frozen=True)
class ServeSimCmd:
    """Serve a task's MuJoCo replica behind the real robot-server HTTP protocol (a dry-run target)."""

    task: str
    """Task id (see `hilserl-bench list`)."""
    host: str = "127.0.0.1"
    """Interface to bind; anything but loopback needs --allow-remote (the protocol has no authentication)."""
    port: int = 5000
    """TCP port (the official server's default is 5000); a dual-arm task serves its second arm on port + 1."""
    allow_remote: bool = False
    """Permit a non-loopback --host; anyone who can reach it can move the simulated robot."""
    deterministic: bool = False
    """Emulator-only step mode: each /getstate after a /pose advances exactly one control period."""
    max_catchup_s: float = 0.5
    """Real-time mode: the longest idle gap simulated at once; longer pauses are dropped."""
    verbose: bool = False
    """Log every request."""

    def run(self) -> int:
        from hilserl_bench.envs.emulator import EmulatorConfig
        from hilserl_bench.envs.emulator_app import is_loopback, serve_in_thread
        from hilserl_bench.envs.emulator_wrench import app_for, emulator_for
        from hilserl_bench.registry import task_class

        task_class(self.task)
        if not is_loopback(self.host):
            if not self.allow_remote:
                print(f"hilserl-bench: error: --host {self.host} is not loopback; the robot-server protocol has no "
                      "authentication, so pass --allow-remote to expose it anyway", file=sys.stderr)
                return 2
            print(f"WARNING: serving on {self.host}: anyone who can reach this port can command the emulator",
                  file=sys.stderr)
        mode = "step" if self.deterministic else "wall"
        core = emulator_for(self.task, EmulatorConfig(time_model=mode, max_catchup_s=self.max_catchup_s))
        servers = []
        try:
            for i in range(len(core.task.arms)):
                servers.append(serve_in_thread(app_for(core, i), self.host, self.port + i, verbose=self.verbose))
        except OSError as exc:
            for server in servers:
                server.stop()
            core.close()
            print(f"hilserl-bench: error: {exc}", file=sys.stderr)
            return 1
        urls = ", ".join(f"{arm}: {server.url}" for arm, server in zip(core.task.arms, servers, strict=True))
        print(f"emulating the {self.task} robot server(s) at {urls} (time model: {mode}); Ctrl-C stops it")
        try:
            while all(server.thread.is_alive() for server in servers):
                servers[0].thread.join(timeout=0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for server in servers:
                server.stop()
            core.close()
        return 0


@dataclass(frozen=True)
class CalibrateCmd:
    """Read the robot's current TCP pose from its server and store it as a task pose in the robot config."""

    task: str
    """Task id whose pose is written (tasks.<task>.<pose> in the config)."""
    robot_url: str = DEFAULT_URL
    """Robot server base URL."""
    robot_config: Annotated[Path, tyro.conf.arg(aliases=("--config",))] = Path("robot_config.json")
    """Robot config (JSON) to update; created when missing (the same --robot-config as every other command)."""
    pose: Literal["target_pose", "reset_pose"] = "target_pose"
    """Which pose to record: the success pose (default) or the nominal reset pose."""
    timeout_s: float = 2.0
    """HTTP timeout (s)."""

    def run(self) -> int:
        from hilserl_bench.real.client import RobotClient
        from hilserl_bench.registry import task_class

        task_class(self.task)
        client = RobotClient(self.robot_url, timeout_s=self.timeout_s)
        try:
            state, _ = client.read_state()
        finally:
            client.close()
        write_task_pose(self.robot_config, self.task, self.pose, state.pose, url=self.robot_url)
        shown = ", ".join(f"{v:.4f}" for v in state.pose)
        print(f"wrote tasks.{self.task}.{self.pose} = [{shown}] to {self.robot_config}")
        return 0


@dataclass(frozen=True)
class BenchEnvHttpCmd:
    """Env steps/s over HTTP (emulator on loopback, deterministic mode) against the sim backend."""

    task: str
    """Task id (see `hilserl-bench list`)."""
    steps: int = 100
    """Env steps timed per backend."""
    seed: int = 0
    """Reset seed and random-action seed."""
    pixels: bool = False
    """Pixel observations (camera frames cross HTTP too; needs OpenGL)."""
    json: bool = False
    """Print one JSON object instead of a table."""
    robot_url: str | None = None
    """Time this running robot server (e.g. `serve-sim --deterministic`) instead of a loopback emulator."""

    def run(self) -> int:
        if self.steps < 1:
            print(f"hilserl-bench: error: --steps must be >= 1, got {self.steps}", file=sys.stderr)
            return 2
        result = bench_env_http(self.task, self.steps, self.seed, self.pixels, self.robot_url)
        if self.json:
            from hilserl_bench.cli_checks import round_floats

            print(json.dumps(round_floats(result)))
        else:
            width = max(len(k) for k in result)
            for key, value in result.items():
                print(f"{key:<{width}}  {value:.3f}" if isinstance(value, float) else f"{key:<{width}}  {value}")
        return 0


def _time_steps(env: Any, steps: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    elapsed = 0.0
    for _ in range(steps):
        action = rng.uniform(-1, 1, env.action_space.shape)
        start = time.perf_counter()
        _, _, terminated, truncated, _ = env.step(action)
        elapsed += time.perf_counter() - start
        if terminated or truncated:
            env.reset()
    return elapsed


def bench_env_http(task: str, steps: int = 100, seed: int = 0, pixels: bool = False,
                   robot_url: str | None = None) -> dict[str, Any]:
    """Steps/s and per-step latency over HTTP (loopback emulator, step mode) vs the sim backend.

    With ``robot_url`` the HTTP side is that running server (an emulator started with
    ``serve-sim``), so the request count per step is not available and is omitted.
    """
    import hilserl_bench as hb
    from hilserl_bench.envs.emulator import EmulatorConfig
    from hilserl_bench.envs.emulator_app import serve_in_thread
    from hilserl_bench.envs.emulator_wrench import app_for, emulator_for

    obs_mode = "pixels" if pixels else "state"
    sim = hb.make(task, obs_mode=obs_mode)
    try:
        sim_s = _time_steps(sim, steps, seed)
    finally:
        sim.close()
    if robot_url is not None:
        env = hb.make(task, backend="real", obs_mode=obs_mode, robot_url=robot_url, config={"emulator": True})
        try:
            http_s = _time_steps(env, steps, seed)
        finally:
            env.close()
        return {"task": task, "steps": steps, "obs_mode": obs_mode, "robot_url": robot_url,
                "http_steps_per_s": steps / http_s, "sim_steps_per_s": steps / sim_s,
                "http_step_ms": 1e3 * http_s / steps, "sim_step_ms": 1e3 * sim_s / steps,
                "added_latency_ms": 1e3 * (http_s - sim_s) / steps}
    core = emulator_for(task, EmulatorConfig(time_model="step"))
    server = serve_in_thread(app_for(core))
    try:
        env = hb.make(task, backend="real", obs_mode=obs_mode, robot_url=server.url, config={"emulator": True})
        try:
            before = sum(core.requests.values())
            http_s = _time_steps(env, steps, seed)
            requests = sum(core.requests.values()) - before
        finally:
            env.close()
    finally:
        server.stop()
        core.close()
    return {"task": task, "steps": steps, "obs_mode": obs_mode, "http_steps_per_s": steps / http_s,
            "sim_steps_per_s": steps / sim_s, "http_step_ms": 1e3 * http_s / steps, "sim_step_ms": 1e3 * sim_s / steps,
            "added_latency_ms": 1e3 * (http_s - sim_s) / steps, "http_requests_per_step": requests / steps}
