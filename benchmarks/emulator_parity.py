"""Emulator parity: whole RAM episodes driven over HTTP exactly as the official client drives a real server.

No hilserl_bench client code is in the loop: `hilserl-bench serve-sim` runs in its own
process and this script talks to it with plain ``requests`` in the official client's
call order (robot_server.md, "the client loop"). Per episode: /clearerr + /pose at the
measured pose, /update_param with the official precision dict, /jointreset every N
episodes, lift 10 cm and an interpolated move (1 s at 10 Hz) to the randomised reset
pose built with the official Euler helper, /update_param with the compliance dict,
then 10 Hz steps of clip-to-box, /clearerr, /pose, sleep, /getstate. Actions come from
the RAM expert, which reads only tcp_pose, tcp_force and the target, as a person or
policy on the real client would. The emulator-only /sim/scene_state reports what the
client cannot see: where the held stick is and whether the task's success test passes.

    python benchmarks/emulator_parity.py --episodes 5
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import requests
import tyro

from hilserl_bench import geometry as geo
from hilserl_bench.backend import SceneState
from hilserl_bench.envs.experts.ram_insertion import RamInsertionExpert
from hilserl_bench.envs.tasks.ram_insertion import RamInsertion
from hilserl_bench.real.official import RAM_COMPLIANCE, RAM_PRECISION, official_euler_helper
from hilserl_bench.robot_types import ArmState

OFFICIAL_RESET_OFFSET = np.array([0.0, 0.0, 0.05, 0.0, 0.05, 0.0])
"""RESET_POSE - TARGET_POSE in the official RAM config (Euler as written there)."""


@dataclass(frozen=True)
class Args:
    """Options of the parity session."""

    episodes: int = 5
    """RAM episodes to run."""
    jointreset_every: int = 1
    """Send /jointreset before every N-th episode's reset (the official JOINT_RESET_PERIOD)."""
    seed: int = 0
    """Seed of the reset randomisation (+/-2 cm xy, +/-0.05 rad yaw, as the official client)."""
    url: str = ""
    """Use a server already running there instead of starting serve-sim."""
    json: bool = False
    """Print the report as one JSON object."""


@dataclass
class Session:
    """The official client's side: its requests, with the HTTP answers recorded."""

    url: str
    answers: dict[str, list[int]] = field(default_factory=dict)
    clamped: set[str] = field(default_factory=set)

    def post(self, endpoint: str, body: Any = None) -> requests.Response:
        answer = requests.post(self.url + endpoint, json=body, timeout=120)
        self.answers.setdefault(endpoint, []).append(answer.status_code)
        self.clamped.update(filter(None, answer.headers.get("X-Clamped-Params", "").split(",")))
        return answer

    def state(self) -> dict[str, Any]:
        return self.post("getstate").json()

    def send_pose(self, pose: np.ndarray) -> None:
        self.post("clearerr")
        self.post("pose", {"arr": np.asarray(pose, dtype=np.float32).tolist()})

    def interpolate_move(self, goal: np.ndarray, seconds: float = 1.0, hz: float = 10.0) -> None:
        """Straight-line interpolation of the 7-vector (quaternion included), one /pose per tick."""
        start = np.asarray(self.state()["pose"])
        for pose in np.linspace(start, goal, max(1, int(seconds * hz))):
            self.send_pose(pose)
            time.sleep(1.0 / hz)

    def stick_in_tcp_mm(self) -> float:
        """Distance (mm) of the held stick's centre from the TCP, from the emulator's privileged state."""
        tcp = np.asarray(self.state()["pose"])
        stick = np.asarray(self.post("sim/scene_state").json()["poses"]["ram_stick"])
        return float(1e3 * np.linalg.norm(stick[:3] - tcp[:3]))


def official_reset_pose(task: RamInsertion, rng: np.random.Generator) -> np.ndarray:
    """The official client's randomised reset: Euler offsets added as written, then its pitch-flipping helper."""
    six = geo.pose_to_6d(task.target_pose) + OFFICIAL_RESET_OFFSET
    six[:2] += rng.uniform(-task.config.random_xy, task.config.random_xy, 2)
    six[5] += rng.uniform(-task.config.random_yaw, task.config.random_yaw)
    return np.concatenate([six[:3], official_euler_helper(six[3:])])


def clip_to_box(task: RamInsertion, pose: np.ndarray) -> np.ndarray:
    """The official safety-box clip: xyz, and Euler angles with roll clipped on its absolute value."""
    box, six = task.safety_box, geo.pose_to_6d(pose)
    six[:3] = np.clip(six[:3], box.low[:3], box.high[:3])
    sign = np.sign(six[3]) or 1.0
    six[3] = sign * np.clip(abs(six[3]), box.low[3], box.high[3])
    six[4:] = np.clip(six[4:], box.low[4:], box.high[4:])
    return geo.pose_from_6d(six)


def run_episode(session: Session, task: RamInsertion, expert: RamInsertionExpert, rng: np.random.Generator,
                joint_reset: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    session.send_pose(np.asarray(session.state()["pose"]))
    session.post("update_param", RAM_PRECISION)
    time.sleep(0.5)
    lifted = np.asarray(session.state()["pose"]) + np.array([0, 0, 0.10, 0, 0, 0, 0])
    session.interpolate_move(lifted)
    if joint_reset:
        before, held_before = session.state(), session.stick_in_tcp_mm()
        started = time.monotonic()
        session.post("jointreset")
        after = session.state()
        out.update(jointreset_wall_s=time.monotonic() - started,
                   jointreset_sim_s=after["time"] - before["time"],
                   jointreset_stick_shift_mm=session.stick_in_tcp_mm() - held_before)
        time.sleep(0.5)
    goal = official_reset_pose(task, rng)
    session.interpolate_move(goal)
    session.post("update_param", RAM_COMPLIANCE)
    session.post("clearerr")
    state = session.state()
    out["reset_pitch_rad"] = float(geo.quat_to_euler(np.asarray(state["pose"])[3:])[1])
    out["reset_stick_to_tcp_mm"] = session.stick_in_tcp_mm()
    expert.reset(rng)
    scale, success, steps, penetration = task.config.action_scale, False, 0, 0.0
    while steps < task.config.max_steps and not success:
        tick = time.monotonic()
        pose = np.asarray(state["pose"])
        action = expert.act({"state": {"tcp_pose": pose, "tcp_force": np.asarray(state["force"])}})
        nxt = np.concatenate([pose[:3] + action[:3] * scale[0],
                              geo.quat_mul(geo.euler_to_quat(action[3:6] * scale[1]), pose[3:])])
        session.send_pose(clip_to_box(task, nxt))
        time.sleep(max(0.0, 0.1 - (time.monotonic() - tick)))
        state, steps = session.state(), steps + 1
        scene = session.post("sim/scene_state").json()
        penetration = max(penetration, scene["step_penetration"])
        arm = ArmState(**{k: np.asarray(state[k]) for k in ("pose", "vel", "force", "torque", "q", "dq")},
                       gripper_pos=state["gripper_pos"])
        poses = {k: np.asarray(v) for k, v in scene["poses"].items()}
        success = task.evaluate(SceneState(poses=poses, penetration=scene["penetration"]), (arm,)).success
    out.update(success=bool(success), steps=steps, max_penetration_mm=1e3 * penetration)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serve_sim() -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "hilserl_bench.cli", "serve-sim", "--task", "ram_insertion", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(600):
        try:
            requests.post(url + "getstate", timeout=1)
            return proc, url
        except requests.ConnectionError:
            if proc.poll() is not None:
                raise RuntimeError(f"serve-sim exited: {proc.stderr.read().decode()[-2000:]}") from None
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("serve-sim did not answer within 60 s")


def main(args: Args) -> dict[str, Any]:
    proc, url = (None, args.url) if args.url else start_serve_sim()
    try:
        session, task, rng = Session(url), RamInsertion(), np.random.default_rng(args.seed)
        expert = RamInsertionExpert(SimpleNamespace(task=task))
        every = args.jointreset_every
        episodes = [run_episode(session, task, expert, rng, every > 0 and i % every == 0)
                    for i in range(args.episodes)]
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)

    def stat(key: str) -> list[float]:
        return [round(float(e[key]), 3) for e in episodes if key in e]

    return {
        "episodes": len(episodes), "successes": sum(e["success"] for e in episodes),
        "http_status": {k: sorted(set(v)) for k, v in session.answers.items()},
        "clamped_by_server": sorted(session.clamped),
        "jointreset_sim_s": stat("jointreset_sim_s"), "jointreset_wall_s": stat("jointreset_wall_s"),
        "jointreset_stick_shift_mm": stat("jointreset_stick_shift_mm"),
        "reset_pitch_rad": stat("reset_pitch_rad"), "reset_stick_to_tcp_mm": stat("reset_stick_to_tcp_mm"),
        "steps": stat("steps"), "max_penetration_mm": stat("max_penetration_mm"),
    }


if __name__ == "__main__":
    options = tyro.cli(Args)
    report = main(options)
    if options.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:28s} {value}")
