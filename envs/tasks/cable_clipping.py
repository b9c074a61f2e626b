"""Cable clipping: press a USB cable, held by its plug, into a snap-in clip on the table.

Protocol (paper Appendix A): 120 steps at 10 Hz, 6-D twist plus a learned gripper
(-1 close, +1 open), discount 0.98, cameras wrist_1 and wrist_2, reset randomisation
"4 cm, 10 deg", read as +/-4 cm in x and y and +/-10 deg in yaw of the start pose
(the wider reading, as for SSD). The gripper starts closed on the plug of a 25 cm,
16-segment cable-plugin cable (:mod:`hilserl_bench.envs.props.cable`); the cable,
held straight at reset, drops onto the table beside the clip. Action scale (1.5 cm,
0.1 rad) as USB's official config.

The clip (:mod:`hilserl_bench.envs.props.cable_clip`) is a 20 mm channel with 0.1 mm
per side and two sprung lips that close its 4.2 mm mouth to 3.2 mm; the cable has to
be lined up over the channel (within about 1 mm, and in yaw within about 2 deg, since
the segment leaving the plug is rigid with it over 13 mm of the channel: measured by
``benchmarks/ssd_cable_checks.py``, against the +/-10 deg reset) and pressed with some
4 to 6 N so both lips give way and snap back over it. The plug is held with its back
face 3 mm past the clip's end, so the segments pressed in are the one leaving the plug
and the next (flexible) one; the rest of the cable lies free on the table.

Success (:meth:`CableClipping.evaluate`): along the whole channel (1 mm from each end)
the cable's centre line lies within 0.2 mm of the channel's centre plane (the 0.1 mm
clearance plus contact softness), below the
lips' flat bottoms, on the floor; both lips are closed (within 0.1 mm of their stops),
which with the cable beneath them means it stays in when the gripper lets go (the
lips' flat bottoms cannot be pushed open from below; ``benchmarks/ssd_cable_checks.py``
opens the gripper after each success and checks); and no cable-clip penetration
deeper than 0.5 mm.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from hilserl_bench import disturbances as dist
from hilserl_bench import geometry as geo
from hilserl_bench.backend import ResetPlan, SceneState
from hilserl_bench.benchmark_spec import TaskBenchmark
from hilserl_bench.envs.props import cable as usb_cable
from hilserl_bench.envs.props.cable_clip import CLIP_LENGTH, CableClipNames, add_cable_clip
from hilserl_bench.registry import register
from hilserl_bench.regression_spec import RegressionThresholds
from hilserl_bench.robot_types import ImpedanceParams, uniform_clips
from hilserl_bench.task import Evaluation, SafetyBox, Task, TaskConfig

CLIP_TABLE_POSE = np.array([0.50, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
"""Clip on the table; its channel runs along base x."""
PLUG_GAP = 0.003
"""The plug's back face this far past the clip's +x end when the cable is seated (m)."""
START_OFFSET = np.array([0.0, 0.07, 0.04])
"""Nominal start: TCP this far from the seated pose (m), the cable beside the clip."""
CENTRE_TOL, LIP_CLOSED, MAX_PENETRATION = 0.0002, 0.0001, 0.0005
CABLE = usb_cable.CableConfig()
CABLE_PREFIX = "usb_cable/"
PLUG = f"{CABLE_PREFIX}plug"


@dataclass(frozen=True)
class CableClippingConfig(TaskConfig):
    """Cable clipping preset (paper numbers; action scale as USB's official config)."""

    max_steps: int = 120
    action_scale: tuple[float, float, float] = (0.015, 0.1, 1.0)
    random_xy: float = 0.04
    random_yaw: float = float(np.deg2rad(10.0))
    discount: float = 0.98


@register
class CableClipping(Task):
    """Route the held USB cable over the clip and press it in past the lips."""

    task_id = "cable_clipping"
    description = "Press a held USB cable (16-segment cable plugin) into a snap-in clip past two sprung lips"
    benchmark = TaskBenchmark(paper_env_steps=28000, quick_env_steps=300, paper_hours=1.25, paper_success=1.0,
                              paper_bc_success=0.95, paper_cycle_time_s=4.2, paper_bc_cycle_time_s=7.2)
    cameras = ("wrist_1", "wrist_2")
    disturbances = {
        "push_ee": dist.ForcePulse(bodies=("hand",), magnitude_n=(15.0, 25.0), duration_s=0.2, window_s=(0.3, 1.5)),
        "push_cable": dist.CablePush(bodies=usb_cable.segment_names(CABLE_PREFIX, CABLE.segments)[3:10],
            magnitude_n=(1.0, 3.0), duration_s=0.1, window_s=(0.3, 1.5)),
        "lighting": dist.VisualChange(window_s=(0.3, 1.5)),
    }
    """Disturbance kinds (name -> spec) for `--disturb`; see hilserl_bench.disturbances and docs/robustness.md."""
    learned_gripper = True
    regression = RegressionThresholds(
        min_expert_success=0.8, max_random_success=0.0, min_bc_success=None, max_physics_ratio=3.0, episodes=5,
        bc_skip_reason="1/5 after 600 BC steps on 10 demos (5/5 at 1000 steps, more than the tier's budget)")
    config_cls = CableClippingConfig

    def __init__(self, config: TaskConfig | None = None) -> None:
        super().__init__(config)
        self._cable: usb_cable.CableNames | None = None
        self.clip: CableClipNames = add_cable_clip(mujoco.MjSpec(), CLIP_TABLE_POSE, CABLE.radius)
        self.clip_pose = np.array(self.clip.pose)
        plug_x = CLIP_LENGTH / 2 + PLUG_GAP + usb_cable.PLUG_SIZE[0] / 2
        self.seated_plug = geo.pose_compose(self.clip_pose, np.array([plug_x, 0.0, CABLE.radius, 0, 0, 0, 1.0]))
        self._tcp_in_plug = geo.pose_inverse(np.array(usb_cable.HELD_POSE_IN_TCP))
        self._target = self.tcp_for_plug(self.seated_plug)
        self._segment_names = usb_cable.segment_names(CABLE_PREFIX, CABLE.segments)
        self._line_cache: tuple[SceneState | None, np.ndarray] = (None, np.zeros((0, 3)))

    def tcp_for_plug(self, plug_pose: np.ndarray) -> np.ndarray:
        """TCP pose that holds the plug at ``plug_pose`` with the nominal grasp."""
        return geo.pose_compose(plug_pose, self._tcp_in_plug)

    @property
    def target_pose(self) -> np.ndarray:
        return self._target.copy()

    @property
    def reset_pose(self) -> np.ndarray:
        start = self.target_pose
        start[:3] += START_OFFSET
        return start

    @property
    def safety_box(self) -> SafetyBox:
        """Around the seated pose; its floor (TCP 10 mm above the table) lets a dropped plug be picked up."""
        six = geo.pose_to_6d(self._target)
        return SafetyBox(six - np.array([0.07, 0.05, 0.006, 0.15, 0.15, 0.45]),
                         six + np.array([0.07, 0.13, 0.09, 0.15, 0.15, 0.45]))

    @property
    def episode_params(self) -> ImpedanceParams:
        return ImpedanceParams(**uniform_clips((0.005,) * 6, (0.05,) * 6))

    def reset_plan(self, rng: np.random.Generator) -> ResetPlan:
        return ResetPlan(tcp_pose=self.sample_reset_pose(rng), gripper_closed=True,
                         held_objects={PLUG: np.array(usb_cable.HELD_POSE_IN_TCP)})

    # -- success ---------------------------------------------------------------------
    def centre_line(self, scene: SceneState, per_segment: int = 10) -> np.ndarray:
        """Points along the cable's axis (N x 3) in the clip frame, from the plug outward.

        Memoised on the scene object: evaluate() and task_state() read the same step.
        """
        if self._line_cache[0] is scene:
            return self._line_cache[1]
        s = (np.arange(per_segment) + 0.5) / per_segment * CABLE.length / CABLE.segments
        poses = np.array([scene.poses[name] for name in self._segment_names])
        x, y, z, w = poses[:, 3:].T
        axes = np.stack([1 - 2 * (y * y + z * z), 2 * (x * y + z * w), 2 * (x * z - y * w)], axis=1)
        points = (poses[:, None, :3] + s[None, :, None] * axes[:, None, :]).reshape(-1, 3)
        inv = geo.pose_inverse(self.clip_pose)
        line = points @ geo.quat_to_mat(inv[3:]).T + inv[:3]
        self._line_cache = (scene, line)
        return line

    def lip_openings(self, scene: SceneState) -> np.ndarray:
        """How far each lip is pushed out from its stop (m), +y lip first."""
        inv = geo.pose_inverse(self.clip_pose)
        out = []
        for sign, name in zip((1.0, -1.0), self.clip.lip_bodies, strict=True):
            y = geo.pose_compose(inv, scene.poses[name])[1]
            out.append(sign * y - self.clip.half_width)
        return np.array(out)

    def evaluate(self, scene: SceneState | None, arms) -> Evaluation:
        """Seated along the channel, below both closed lips, on the floor, without penetration."""
        if scene is None:
            return Evaluation(False)
        pts = self.centre_line(scene)
        inside = pts[np.abs(pts[:, 0]) <= CLIP_LENGTH / 2 - 0.001]
        lips = self.lip_openings(scene)
        r = CABLE.radius
        if len(inside) == 0:
            return Evaluation(False, {"cable_off_axis_mm": 99.0, "cable_height_mm": 99.0,
                                      "lip_open_mm": float(lips.max() * 1e3)})
        off_axis = float(np.abs(inside[:, 1]).max())
        top = float(inside[:, 2].max())
        covered = inside[:, 0].min() <= -CLIP_LENGTH / 2 + 0.003 and inside[:, 0].max() >= CLIP_LENGTH / 2 - 0.003
        seated = (off_axis <= CENTRE_TOL and top <= self.clip.lip_bottom - r + 0.0002
                  and inside[:, 2].min() >= r - 0.0005)
        closed = bool(np.all(lips <= LIP_CLOSED))
        success = bool(covered and seated and closed and scene.penetration <= MAX_PENETRATION)
        return Evaluation(success, {"cable_off_axis_mm": off_axis * 1e3, "cable_height_mm": (top - r) * 1e3,
                                    "lip_open_mm": float(lips.max() * 1e3)})

    def task_state(self, scene: SceneState, arms) -> dict[str, np.ndarray]:
        """Cable axis at the channel's ends and middle, lips, plug offsets, TCP to plug (privileged)."""
        pts = self.centre_line(scene)
        marks = []
        for x in (-CLIP_LENGTH / 2, 0.0, CLIP_LENGTH / 2):
            nearest = pts[np.argmin(np.abs(pts[:, 0] - x))]
            marks.append(nearest - np.array([x, 0.0, CABLE.radius]))
        plug = scene.poses[PLUG]
        rotation = geo.quat_to_rotvec(geo.quat_mul(geo.quat_conj(self.seated_plug[3:]), plug[3:]))
        return {
            "cable_at_clip": np.concatenate(marks),
            "clip_lips": self.lip_openings(scene),
            "plug_to_seat": plug[:3] - self.seated_plug[:3],
            "plug_rotation": rotation,
            "tcp_to_plug": self.tcp_for_plug(plug)[:3] - arms[0].pose[:3],
        }

    def task_state_units(self) -> dict[str, float]:
        return {"plug_rotation": 0.05, "clip_lips": 0.0005}

    def task_state_dims(self) -> dict[str, int]:
        return {"cable_at_clip": 9, "clip_lips": 2, "plug_to_seat": 3, "plug_rotation": 3, "tcp_to_plug": 3}

    # -- simulator only ----------------------------------------------------------------
    def build_scene(self, spec: mujoco.MjSpec) -> None:
        spec.option.jacobian = mujoco.mjtJacobian.mjJAC_DENSE
        self.clip = add_cable_clip(spec, CLIP_TABLE_POSE, CABLE.radius)
        start = geo.pose_compose(self.reset_pose, np.array(usb_cable.HELD_POSE_IN_TCP))
        self._cable = usb_cable.add_usb_cable(spec, start, prefix=CABLE_PREFIX, config=CABLE)

    def tracked_bodies(self) -> tuple[str, ...]:
        return (PLUG, *self._segment_names, *self.clip.lip_bodies)

    def tight_fit_geoms(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if self._cable is None:
            return ((), ())
        return (self._cable.segment_geoms, self.clip.fit_geoms)
