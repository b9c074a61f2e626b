"""Human-in-the-loop: typed device events, the intervention wrapper, teleop recording, labels, views.

Every device here is fake or has its library monkeypatched: no hardware, display or terminal needed.
"""

from __future__ import annotations

import os
import sys
import time
import types
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import hilserl_bench as hb
from hilserl_bench.backend_options import BackendOptions
from hilserl_bench.data.episode_format import episode_files, load_episode
from hilserl_bench.data.learning_env import make_learning_env, wrap_learning_stack, wrapper_chain
from hilserl_bench.devices import (
    CombinedDevice,
    DeviceDisconnectedError,
    DeviceNotFoundError,
    EpisodeFailure,
    EpisodeSuccess,
    FakeClock,
    FakeDevice,
    Gamepad,
    GripperCommand,
    InterventionToggle,
    Keyboard,
    ResetRequest,
    SpaceMouse,
    SpaceMouseConfig,
    Twist,
)
from hilserl_bench.devices.events import call_with_timeout
from hilserl_bench.devices.fake import hold, idle, twist
from hilserl_bench.devices.keyboard import split_keys
from hilserl_bench.labels import FAILURE, SUCCESS, FrameLabels, classifier_targets, with_labels
from hilserl_bench.live_view import CameraView, NullView, ViewStatus, ViewUnavailable, make_live_view, tile_frames
from hilserl_bench.teleop import RecordDeviceCmd, Session, record_with_device
from hilserl_bench.training.scripted_intervention import ScriptedIntervention, SupervisorConfig
from hilserl_bench.wrappers import RelativeFrame
from hilserl_bench.wrappers._arms import ArmSlot
from hilserl_bench.wrappers.human_intervention import (
    HumanIntervention,
    HumanInterventionConfig,
    assemble_action,
    human_intervention_env,
)

NO_PACING = HumanInterventionConfig(realtime=False)


class _Tap(gym.Wrapper):
    """Remembers the action the raw env executed."""

    def step(self, action):
        self.executed = np.array(action, dtype=np.float64)
        return self.env.step(action)


def _human(task: str, script, config=NO_PACING, clock=None, **kw):
    raw = hb.make(task, obs_mode="state", max_steps=40)
    tap = _Tap(raw)
    env = HumanIntervention(tap, FakeDevice(script, **kw), config, clock=clock or FakeClock())
    env.device.connect()
    env.reset(seed=0)
    return env, tap


# -- the intervention wrapper --------------------------------------------------------------
def test_device_action_replaces_policy_exactly_while_active():
    script = idle(2) + hold([twist(x=0.5, yaw=-0.3)], 2) + [[twist(x=0.01)]] + [[GripperCommand(0, "close")]] + idle(2)
    env, tap = _human("usb_insertion", script)
    policy = np.full(7, 0.2, dtype=np.float32)
    moved, closed = np.array([0.5, 0, 0, 0, 0, -0.3, 0]), np.array([0, 0, 0, 0, 0, 0, -1.0])
    expected = [None, None, moved, moved, None, closed, None, None]  # x=0.01 is inside the deadzone
    for want in expected:
        info = env.step(policy)[4]
        assert info["is_intervention"] == (want is not None)
        if want is None:
            np.testing.assert_array_equal(tap.executed, policy)
            assert "intervene_action" not in info and "teleop_action" not in info
        else:
            np.testing.assert_array_equal(tap.executed, want)
            for key in ("intervene_action", "teleop_action"):
                assert info[key].dtype == np.float32 and np.array_equal(info[key], want.astype(np.float32))


def test_toggle_keeps_control_with_the_device_at_rest():
    script = [[InterventionToggle(True)]] + idle(2) + [[InterventionToggle(False)]] + idle(1)
    env, tap = _human("ram_insertion", script)
    flags = [env.step(np.ones(6, np.float32))[4]["is_intervention"] for _ in script]
    assert flags == [True, True, True, False, False]


def test_hold_time_after_last_input_with_injected_clock():
    clock = FakeClock()
    env, _ = _human("ram_insertion", [[twist(z=1.0)]] + idle(7), HumanInterventionConfig(hold_s=0.5, realtime=False),
                    clock)
    flags = []
    for k in range(8):
        clock.now = 0.1 * k
        flags.append(env.step(np.zeros(6, np.float32))[4]["is_intervention"])
    assert flags == [True, True, True, True, True, False, False, False]
    env0, _ = _human("ram_insertion", [[twist(z=1.0)]] + idle(2))
    assert [env0.step(np.zeros(6, np.float32))[4]["is_intervention"] for _ in range(3)] == [True, False, False]


def test_realtime_pacing_sleeps_to_the_control_period():
    clock = FakeClock()
    env, _ = _human("ram_insertion", idle(3), HumanInterventionConfig(), clock)
    env.sleep = clock.sleep
    for _ in range(3):
        env.step(np.zeros(6, np.float32))
    assert clock.now == pytest.approx(2 * env.unwrapped.control_dt)


def test_dual_arm_assembly_order_left_then_right():
    slots = (ArmSlot("left", "left/", slice(0, 6), 6), ArmSlot("right", "right/", slice(7, 13), 13))
    events = [Twist(1, (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)), GripperCommand(0, "close"), Twist(0, (1, 0, 0, 0, 0, -1)),
              GripperCommand(1, "open"), Twist(0, (0.5, 0, 0, 0, 0, 0)), ResetRequest()]
    out = assemble_action(events, slots, 14)
    np.testing.assert_allclose(out.action, [1, 0, 0, 0, 0, -1, -1, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 1])
    assert out.active and out.episode_events == [ResetRequest()]
    with pytest.raises(ValueError, match="arm 2"):
        assemble_action([Twist(2, (0,) * 6)], slots, 14)


def test_two_spacemice_map_axes_and_drive_arms_in_order(monkeypatch):
    states = [types.SimpleNamespace(x=0.1, y=0.2, z=0.3, roll=0.4, pitch=0.5, yaw=0.6, buttons=[1, 0]),
              types.SimpleNamespace(x=-0.1, y=0.0, z=0.0, roll=0.0, pitch=0.0, yaw=0.0, buttons=[0, 1])]
    fake = _fake_pyspacemouse(states)
    monkeypatch.setitem(sys.modules, "pyspacemouse", fake)
    with SpaceMouse(arms=2) as mouse:
        events = _poll_until(mouse, 4)
    assert events[:2] == [Twist(0, (-0.2, 0.1, 0.3, -0.4, -0.5, -0.6)), GripperCommand(0, "close")]
    assert events[2:] == [Twist(1, (-0.0, -0.1, 0.0, -0.0, -0.0, -0.0)), GripperCommand(1, "open")]
    assert fake.closed == 2
    slots = (ArmSlot("left", "left/", slice(0, 6), 6), ArmSlot("right", "right/", slice(7, 13), 13))
    action = assemble_action(events, slots, 14).action
    np.testing.assert_allclose(action[[0, 6, 8, 13]], [-0.2, -1, -0.1, 1])
    with SpaceMouse(arms=2, config=SpaceMouseConfig(swap_arms=True)) as mouse:
        assert _poll_until(mouse, 4)[0] == Twist(0, (-0.0, -0.1, 0.0, -0.0, -0.0, -0.0))


def test_device_disconnect_mid_episode_keeps_the_data(tmp_path: Path):
    cmd = RecordDeviceCmd(task="ram_insertion", device="keyboard", obs_mode="state", out=tmp_path / "demos")
    device = FakeDevice(hold([twist(x=0.3)], 3), disconnect_after=4)
    with pytest.raises(DeviceDisconnectedError, match="incomplete"):
        record_with_device(cmd, input_device=device, realtime=False)
    assert device.closed == 1
    assert episode_files(tmp_path / "demos") == []
    (partial,) = episode_files(tmp_path / "demos" / "incomplete")
    episode = load_episode(partial)
    assert episode.length == 4 and episode.metadata["incomplete"] and episode.intervened.tolist()[:3] == [True] * 3

    session = Session("ram_insertion", "fake", "state", BackendOptions(), NO_PACING,
                      input_device=FakeDevice(idle(2), disconnect_after=2))
    try:
        with pytest.raises(DeviceDisconnectedError):
            session.play(seed=0, episode=0)
        assert len(session.builder.steps["actions"]) == 2 and len(session.builder.states) == 3
    finally:
        session.close()


def test_record_keeps_human_success_and_drops_resets(tmp_path: Path):
    script = hold([twist(x=0.4)], 2) + [[ResetRequest()]] + hold([twist(y=-0.4)], 2) + idle(1) + [[EpisodeSuccess()]]
    cmd = RecordDeviceCmd(task="ram_insertion", device="keyboard", obs_mode="state", out=tmp_path, episodes=1)
    (path,) = record_with_device(cmd, input_device=FakeDevice(script), realtime=False)
    episode = load_episode(path)
    assert episode.metadata["source"] == "human" and episode.metadata["success"] and episode.metadata["seed"] == 1
    assert episode.intervened.tolist() == [True, True, False, False]
    assert np.all(episode.actions[2:] == 0) and np.linalg.norm(episode.actions[0]) == pytest.approx(0.4, abs=1e-6)


# -- human and scripted interventions look the same to learners ----------------------------
def test_human_and_scripted_interventions_have_identical_info_keys_and_dtypes():
    scripted = ScriptedIntervention(make_learning_env("usb_insertion", obs_mode="state"), None,
                                    SupervisorConfig(warmup_steps=0, disagreement_threshold=-1.0,
                                                     disagreement_steps=1), seed=0)
    scripted.expert = _ConstantExpert()
    scripted.reset(seed=0)
    s_info = scripted.step(np.zeros(7, np.float32))[4]
    raw = hb.make("usb_insertion", obs_mode="state")
    human = HumanIntervention(raw, FakeDevice(hold([twist(x=0.5, roll=0.2), GripperCommand(0, "open")], 2)),
                              NO_PACING)
    human.device.connect()
    stack = wrap_learning_stack(human)
    stack.reset(seed=0)
    frame = next(w for w in wrapper_chain(stack) if isinstance(w, RelativeFrame))
    expected = frame.to_tcp(np.array([0.5, 0, 0, 0.2, 0, 0, 1.0]))
    h_info = stack.step(np.zeros(7, np.float32))[4]
    assert set(h_info) == set(s_info)
    for key in ("intervene_action", "teleop_action", "is_intervention"):
        assert type(h_info[key]) is type(s_info[key])
        assert np.asarray(h_info[key]).dtype == np.asarray(s_info[key]).dtype
        assert np.shape(h_info[key]) == np.shape(s_info[key])
    np.testing.assert_allclose(h_info["intervene_action"], expected, atol=1e-6)
    stack.close()
    assert human.device.closed == 1


class _ConstantExpert:
    def reset(self, rng):
        pass

    def act(self, obs):
        return np.array([0.3, 0, 0, 0, 0, 0, 1.0])


def test_human_intervention_env_places_the_wrapper_over_the_raw_env(monkeypatch):
    device = FakeDevice()
    monkeypatch.setattr("hilserl_bench.devices.make_device", lambda *a, **k: device)
    env = human_intervention_env(hb.make("ram_insertion", obs_mode="state"), "spacemouse")
    chain = wrapper_chain(env)
    assert isinstance(chain[-1], HumanIntervention) and isinstance(chain[-2], RelativeFrame)
    assert device.connected
    env.close()
    assert device.closed == 1
    with pytest.raises(ValueError, match="directly over the raw env"):
        HumanIntervention(make_learning_env("ram_insertion", obs_mode="state"), FakeDevice())


# -- devices: life cycle and missing hardware ----------------------------------------------
def test_device_life_cycle_and_combined_devices():
    device = FakeDevice([[EpisodeSuccess()]])
    with pytest.raises(RuntimeError, match="connect"):
        device.poll()
    with device:
        assert device.poll() == [EpisodeSuccess()] and device.poll() == []
    assert device.closed == 1 and not device.connected
    first, missing = FakeDevice(), FakeDevice(present=False)
    with pytest.raises(DeviceNotFoundError, match="no device present"):
        CombinedDevice([first, missing]).connect()
    assert first.closed == 1
    with CombinedDevice([FakeDevice([[twist(x=1)]]), FakeDevice([[ResetRequest()]])]) as both:
        assert both.poll() == [twist(x=1), ResetRequest()]


def test_open_timeout_never_hangs():
    start = time.monotonic()
    with pytest.raises(DeviceNotFoundError, match="did not finish"):
        call_with_timeout(lambda: time.sleep(2), 0.05, "slow device")
    assert time.monotonic() - start < 1


def _fake_pyspacemouse(states=(), error: str | None = None, count: int | None = None):
    module = types.ModuleType("pyspacemouse")
    module.closed = 0

    class Handle:
        def __init__(self, state):
            self.state = state

        def read(self):
            return self.state

        def close(self):
            module.closed += 1

    def open(device_index=0, axis_convention=None, nonblocking=True):
        if error:
            raise RuntimeError(error)
        return Handle(states[device_index])

    module.open = open
    module.get_connected_devices = lambda: ["SpaceMouse Compact"] * (len(states) if count is None else count)
    return module


def _poll_until(device, n: int):
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        events = device.poll()
        if len(events) >= n:
            return events
        time.sleep(0.005)
    raise AssertionError("the reader thread produced no state")


@pytest.mark.parametrize(("module", "hint"), [
    (None, r"pip install 'hilserl-bench\[spacemouse\]'"),
    (_fake_pyspacemouse(error="HID API is probably not installed. See https://x"), "libhidapi-hidraw0"),
    (_fake_pyspacemouse(error="No connected or supported devices found."), "/dev/hidraw"),
])
def test_spacemouse_errors_explain_what_is_missing(monkeypatch, module, hint):
    monkeypatch.setitem(sys.modules, "pyspacemouse", module)
    with pytest.raises(DeviceNotFoundError, match=hint):
        SpaceMouse().connect()
    monkeypatch.setitem(sys.modules, "pyspacemouse", _fake_pyspacemouse([object()], count=1))
    with pytest.raises(DeviceNotFoundError, match="two devices, 1 found"):
        SpaceMouse(arms=2).connect()


def test_spacemouse_read_error_is_a_disconnect(monkeypatch):
    module = _fake_pyspacemouse([types.SimpleNamespace(x=0, y=0, z=0, roll=0, pitch=0, yaw=0, buttons=[0, 0])])
    monkeypatch.setitem(sys.modules, "pyspacemouse", module)
    with SpaceMouse() as mouse:
        _poll_until(mouse, 1)
        mouse._readers[0].handle.read = lambda: (_ for _ in ()).throw(OSError("Failed to read from HID device"))
        deadline = time.monotonic() + 2
        with pytest.raises(DeviceDisconnectedError, match="stopped answering"):
            while time.monotonic() < deadline:
                mouse.poll()
                time.sleep(0.005)


def test_gamepad_errors(monkeypatch):
    monkeypatch.setitem(sys.modules, "pygame", None)
    with pytest.raises(DeviceNotFoundError, match=r"hilserl-bench\[gamepad\]"):
        Gamepad().connect()
    monkeypatch.delitem(sys.modules, "pygame")
    pytest.importorskip("pygame")
    with pytest.raises(DeviceNotFoundError, match="listed by pygame"):
        Gamepad().connect()


def test_keyboard_needs_a_terminal_and_reads_keys_from_one():
    read_fd, write_fd = os.pipe()
    try:
        with pytest.raises(DeviceNotFoundError, match="not a terminal"):
            Keyboard(fd=read_fd).connect()
    finally:
        os.close(read_fd)
        os.close(write_fd)
    assert split_keys("wD\x1b[A\x1b\r\x7f ") == ["w", "d", "escape", "enter", "backspace", " "]
    import pty

    master, slave = pty.openpty()
    try:
        with Keyboard(fd=slave) as keys:
            assert keys.poll() == []
            os.write(master, b"wwac \n\x7f\x1b")
            time.sleep(0.05)
            events = keys.poll()
    finally:
        os.close(master)
        os.close(slave)
    assert events[0] == Twist(0, (1.0, 1.0, 0, 0, 0, 0))
    assert [type(e).__name__ for e in events[1:]] == ["GripperCommand", "InterventionToggle", "EpisodeSuccess",
                                                      "EpisodeFailure", "ResetRequest"]


# -- labels and live view ---------------------------------------------------------------------
def test_frame_labels_mark_the_frame_on_screen():
    labels = FrameLabels()
    for info in ({}, {"human_success": True}, {"human_success": True}, {}, {"human_failure": True}):
        labels.add_step(info)
    np.testing.assert_array_equal(labels.array(), [0, SUCCESS, SUCCESS, 0, FAILURE, 0])
    assert labels.array().dtype == np.int8 and labels.counts() == {"success": 2, "failure": 1, "unlabelled": 3}
    index, target = classifier_targets(labels.array(), include_unlabelled=False)
    assert index.tolist() == [1, 2, 4] and target.tolist() == [1, 1, 0]
    auto = FrameLabels(auto_success=True)
    auto.add_step({"succeed": True})
    assert auto.array().tolist() == [0, 1]
    with pytest.raises(ValueError, match="shape"):
        with_labels(types.SimpleNamespace(state=np.zeros((6, 3))), np.zeros(5, np.int8))


def test_record_with_labels(tmp_path: Path):
    script = idle(1) + [[EpisodeSuccess()], [EpisodeSuccess()], [EpisodeFailure()], [ResetRequest()]]
    cmd = RecordDeviceCmd(task="ram_insertion", device="keyboard", obs_mode="state", out=tmp_path, episodes=1,
                          label=True)
    (path,) = record_with_device(cmd, input_device=FakeDevice(script), realtime=False)
    episode = load_episode(path)
    assert episode.labels.tolist() == [0, 1, 1, -1, 0, 0] and episode.labels.dtype == np.int8


def test_live_view_is_optional_and_explains_missing_display(monkeypatch):
    raw = hb.make("ram_insertion", obs_mode="state")
    assert isinstance(make_live_view(raw, enabled=False), NullView)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if sys.platform.startswith("linux"):
        with pytest.raises(ViewUnavailable, match="without --view"):
            make_live_view(raw, enabled=True)
    assert tile_frames({"a": np.zeros((64, 64, 3), np.uint8), "b": np.zeros((32, 48, 3), np.uint8)}, 128).shape \
        == (128, 128 + 192, 3)
    cv2 = types.SimpleNamespace(error=RuntimeError, FONT_HERSHEY_SIMPLEX=0, LINE_AA=16, WND_PROP_VISIBLE=4, shown=[],
                                putText=lambda img, text, *a: cv2.shown.append(text), waitKey=lambda ms: -1,
                                imshow=lambda name, img: cv2.shown.append(img.shape),
                                getWindowProperty=lambda *a: 1.0, destroyWindow=lambda name: None)
    monkeypatch.setitem(sys.modules, "cv2", cv2)
    monkeypatch.setenv("DISPLAY", ":0")
    view = CameraView(types.SimpleNamespace(last_obs={"images": {"wrist": np.zeros((128, 128, 3), np.uint8)}}))
    view.open()
    view.update(ViewStatus(episode=2, step=7, intervening=True))
    assert cv2.shown == ["episode 2  step 7  HUMAN", (256, 256, 3)] and view.running
    view.close()
