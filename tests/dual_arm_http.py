"""One expert trajectory of a two-arm task in the simulator and over HTTP to two emulator ports.

Shared by the dual-arm tests that check the serve-sim path follows the simulator exactly. The real
backend's per-step limits (measured from the previous command, which a lagging arm trails) are
raised so that they never shorten a step: these tests are about the protocol.
"""

from __future__ import annotations

import numpy as np

import hilserl_bench
from hilserl_bench.envs.experts import make_expert


def sim_and_http_traces(task: str, steps: int, task_keys: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, dict]:
    """(simulator trace, HTTP trace, the emulator's request counts) of the seed-2 expert episode."""
    from hilserl_bench.envs.emulator import EmulatorConfig, EmulatorCore
    from hilserl_bench.envs.emulator_app import create_app, serve_in_thread

    core = EmulatorCore(task, EmulatorConfig(time_model="step"))
    servers = [serve_in_thread(create_app(core, i)) for i in range(2)]
    try:
        real = hilserl_bench.make(task, backend="real", obs_mode="state",
                                  robot_url={"left": servers[0].url, "right": servers[1].url},
                                  config={"emulator": True, "max_step_translation": 0.1, "max_step_rotation": 0.5})
        sim = hilserl_bench.make(task, obs_mode="state")
        traces = []
        for env in (sim, real):
            expert = make_expert(env)
            obs, _ = env.reset(seed=2)
            expert.reset(np.random.default_rng(2))
            trace = []
            for _ in range(steps):
                obs, *_ = env.step(expert.act(obs))
                trace.append(np.concatenate([obs["state"]["left/tcp_pose"], obs["state"]["right/tcp_pose"],
                                             *(obs["task"][k] for k in task_keys)]))
            traces.append(np.array(trace))
        real.close()
        sim.close()
        return traces[0], traces[1], dict(core.requests)
    finally:
        for server in servers:
            server.stop()
        core.close()
