"""USB grasp-insertion: pick a USB-A plug lying free on the table and push it into a port.

Protocol (paper Appendix A, official config): 120 steps at 10 Hz, 6-D twist plus a
learned gripper (-1 close, +1 open, 3-way discrete in the learner), discount 0.98,
action scale (1.5 cm, 0.1 rad). The robot starts above the pick area, randomised by
the official +/-1 cm and +/-0.1 rad. The plug is placed uniformly +/-4 cm along the
port axis (x), +/-2 cm across it (y) and +/-10 deg in yaw around its nominal spot (the
paper's "2 cm, 10 deg" taken as a half-width, and doubled along x, the one direction
the closing fingers do not remove; :meth:`UsbInsertionConfig.narrow` keeps the
earlier +/-1 cm). The safety
box is the official one (target + [3, 6, 5] cm / - [3, 1, 3] cm, +/-0.1 rad roll and
pitch, +/-0.3 rad yaw) with three changes: its floor is 4.5 cm below the target
instead of 3 cm (our port's mouth is 4 cm above the table and the plug is picked at
table level), it reaches 11 cm instead of 3 cm in -x and 8 instead of 6 cm in +y, so
that every plug placement can be reached: the open hand with its two wrist cameras
spans about +/-5 cm in x and must clear the port block while picking, so the plug
lies 5.5 cm behind the insertion pose.

The receptacle leaves 0.25 mm (width) and 0.3 mm (height) per side around the
plug's shell and is keyed by its tongue (:mod:`hilserl_bench.envs.props.usb`), so the
plug must be found, grasped, carried right side up and brought in square to enter.
Capture range against the randomisation (``benchmarks/usb_replica_checks.py --only
capture``: the expert's push with a deliberate offset at the mouth, both signs, two
seeds): the plug still seats up to 0.75 mm off the axis across the width, 1.25 mm
across the height and 3 deg of yaw, against a placement of +/-40 mm along the port
axis, +/-20 mm across it and +/-10 deg. Across the axis and in yaw the closing fingers
centre and square the plug, so the placement along the axis is what a script must
perceive: a blind grasp only works within about -4..+12 mm of nominal (pads in front
of the grip's face hit the port face; pads behind the grip lose it), and a fixed
open-loop script planned on the nominal plug pose succeeds 16% of the time (17% when
it pushes to the stop; random actions 0%; 100 seeded episodes each).

Success (:meth:`UsbInsertion.evaluate`) accepts only what a real seated plug can
show: the shell tip 10 to 12.2 mm deep, at most 0.6 mm off the receptacle's axis and
3 deg from its direction, right side up, and no deeper plug/port interpenetration
than 0.5 mm. Whether the gripper still holds the plug is not part of success (the
official reward also checks it; a plug let go once seated stays in). A plug leaving
:meth:`UsbInsertion.workspace` (off the table area, through it, launched) ends the
episode as a failure with ``info["object_lost"]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from hilserl_bench import disturbances as dist
from hilserl_bench import geometry as geo
from hilserl_bench.backend import ResetPlan, SceneState
from hilserl_bench.benchmark_spec import TaskBenchmark
from hilserl_bench.envs.props import usb
from hilserl_bench.envs.props.usb import UsbPlugNames, UsbPortNames, add_usb_plug, add_usb_port
from hilserl_bench.registry import register
from hilserl_bench.regression_spec import RegressionThresholds
from hilserl_bench.robot_types import ImpedanceParams
from hilserl_bench.task import Evaluation, SafetyBox, Task, TaskConfig, Workspace

PORT_POSE = np.array([0.62, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
"""Table point below the receptacle mouth; x points into the port."""
PLUG_TIP_X = usb.GRIP[0] / 2 + usb.SHELL[0]
"""Shell tip along the plug's x axis, from the plug body origin (m)."""
GRASP_HEIGHT = 0.0105
"""TCP height when grasping the lying plug: pad bottoms 1.5 mm above the table."""
PLUG_NOMINAL = np.array([PORT_POSE[0] - 0.075, 0.045])
"""Nominal plug body position (x, y) on the table: inside the safety box, beside the port block."""
MIN_DEPTH = 0.010
"""Shell tip depth inside the receptacle for success (m; full insertion is 12 mm)."""
MAX_DEPTH = usb.HOLE_DEPTH + 0.0005
"""Deepest physically possible tip depth (shell on the back wall) plus contact tolerance (m)."""
MAX_LATERAL = 0.0006
"""Largest tip offset from the receptacle axis a seated plug can have (0.25-0.3 mm clearance + tolerance), m."""
MAX_MISALIGNMENT_DEG = 3.0
"""Largest angle between the plug and port axes a seated shell allows (0.5 mm play over 12 mm is 2.4-2.9 deg)."""
MIN_UPRIGHT = float(np.cos(np.deg2rad(10.0)))
"""Keying: the plug's top face (+z) must point within 10 deg of the port's up (upside down cannot enter)."""
MAX_PENETRATION = 0.0005
"""Deepest plug/port interpenetration a real seated state can show in simulation (contact tolerance), m."""
DOWN = np.array([np.pi, 0.0, 0.0])


@dataclass(frozen=True)
class UsbInsertionConfig(TaskConfig):
    """USB grasp-insertion preset (official code and paper numbers)."""

    max_steps: int = 120
    action_scale: tuple[float, float, float] = (0.015, 0.1, 1.0)
    random_xy: float = 0.01
    random_yaw: float = 0.1
    discount: float = 0.98
    plug_random_x: float = 0.04
    """Half-width (m) of the plug's uniform placement along the port axis (x) around its nominal spot."""
    plug_random_y: float = 0.02
    """Half-width (m) of the plug's uniform placement across the port axis (y; paper: 2 cm)."""
    plug_random_yaw: float = float(np.deg2rad(10.0))
    """Half-width (rad) of the plug's uniform yaw (paper: 10 deg)."""

    @classmethod
    def narrow(cls) -> UsbInsertionConfig:
        """The earlier +/-1 cm plug placement (official RANDOM_XY), which open-loop scripts solve 80% of the time."""
        return cls(plug_random_x=0.01, plug_random_y=0.01)


@register
class UsbInsertion(Task):
    """Grasp the USB plug from the table and insert it into the port."""

    task_id = "usb_insertion"
    description = "Pick a free USB-A plug from the table and insert it into a port (0.25 mm clearance)"
    benchmark = TaskBenchmark(paper_env_steps=50000, quick_env_steps=500, paper_hours=2.5, paper_success=1.0,
                              paper_bc_success=0.26, paper_cycle_time_s=6.7, paper_bc_cycle_time_s=13.4)
    cameras = ("wrist_1", "wrist_2", "side")
    disturbances = {
        "push_ee": dist.ForcePulse(bodies=("hand",), magnitude_n=(15.0, 25.0), duration_s=0.2, window_s=(0.5, 3.0)),
        "move_object": dist.MoveBody(body="usb_plug", distance_mm=(10.0, 30.0), window_s=(0.2, 1.0)),
        "lighting": dist.VisualChange(window_s=(0.5, 3.0)),
    }
    """Disturbance kinds (name -> spec) for `--disturb`; see hilserl_bench.disturbances and docs/robustness.md."""
    learned_gripper = True
    regression = RegressionThresholds(
        min_expert_success=0.8, max_random_success=0.0, min_bc_success=None, max_physics_ratio=4.0, episodes=5,
        bc_skip_reason="0/5 after 600 BC steps on 10 demos (a free plug to grasp, then insert)")
    config_cls = UsbInsertionConfig

    def __init__(self, config: TaskConfig | None = None) -> None:
        super().__init__(config)
        self._port: UsbPortNames | None = None
        self._plug: UsbPlugNames | None = None
        mouth = np.array(add_usb_port(mujoco.MjSpec(), PORT_POSE).mouth_pose)
        self.mouth_pose = mouth
        tcp_above_plug = GRASP_HEIGHT - usb.PLUG_REST_Z
        position = mouth[:3] + np.array([usb.SHELL[0] - PLUG_TIP_X + usb.GRASP_X, 0.0, tcp_above_plug])
        self._target = np.concatenate([position, geo.euler_to_quat(DOWN)])

    @property
    def target_pose(self) -> np.ndarray:
        return self._target.copy()

    @property
    def reset_pose(self) -> np.ndarray:
        return geo.pose_from_6d(geo.pose_to_6d(self._target) + np.array([-0.05, 0.035, 0.045, 0, 0, 0]))

    @property
    def safety_box(self) -> SafetyBox:
        six = geo.pose_to_6d(self._target)
        return SafetyBox(six - np.array([0.11, 0.01, 0.045, 0.1, 0.1, 0.3]),
                         six + np.array([0.03, 0.08, 0.05, 0.1, 0.1, 0.3]))

    @property
    def episode_params(self) -> ImpedanceParams:
        return ImpedanceParams(rotational_stiffness=150.0, rotational_damping=7.0)

    def plug_grasp_pose(self, plug: np.ndarray) -> np.ndarray:
        """TCP pose that grasps the lying plug (fingers across its width, behind the grip centre)."""
        yaw = geo.quat_to_euler(plug[3:])[2]
        grasp = geo.pose_compose(plug, np.array([usb.GRASP_X, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]))
        return np.concatenate([[grasp[0], grasp[1], GRASP_HEIGHT], geo.euler_to_quat(DOWN + [0.0, 0.0, yaw])])

    def reset_plan(self, rng: np.random.Generator) -> ResetPlan:
        tcp_pose = self.sample_reset_pose(rng)
        half = np.array([self.config.plug_random_x, self.config.plug_random_y])
        xy = PLUG_NOMINAL + rng.uniform(-half, half)
        yaw = rng.uniform(-self.config.plug_random_yaw, self.config.plug_random_yaw)
        plug = np.concatenate([xy, [usb.PLUG_REST_Z], geo.euler_to_quat(np.array([0.0, 0.0, yaw]))])
        return ResetPlan(tcp_pose=tcp_pose, gripper_closed=False, object_poses={"usb_plug": plug})

    def tip_in_port(self, scene: SceneState) -> tuple[np.ndarray, np.ndarray]:
        """Shell tip position relative to the mouth, and the plug's x axis, both in the port frame."""
        plug = scene.poses["usb_plug"]
        rot = geo.quat_to_mat(plug[3:])
        tip = plug[:3] + rot[:, 0] * PLUG_TIP_X
        port_rot = geo.quat_to_mat(self.mouth_pose[3:])
        return (tip - self.mouth_pose[:3]) @ port_rot, rot[:, 0] @ port_rot

    def evaluate(self, scene: SceneState | None, arms) -> Evaluation:
        """Seated: tip 10-12.2 mm deep, <= 0.6 mm off axis, <= 3 deg crooked, right side up, not interpenetrating.

        Each bound is what a real seated plug can show, so states a cheating physics
        could produce fail: a plug through the back of the receptacle (too deep), beside
        it (off axis), crooked (more than the shell's play allows), upside down (keyed:
        the real plug cannot enter that way) or sunk into the walls.
        """
        if scene is None:
            return Evaluation(False)
        tip, axis = self.tip_in_port(scene)
        misalignment = float(np.degrees(np.arccos(np.clip(axis[0], -1.0, 1.0))))
        plug_up = geo.quat_to_mat(scene.poses["usb_plug"][3:])[:, 2]
        upright = float(plug_up @ geo.quat_to_mat(self.mouth_pose[3:])[:, 2])
        lateral = float(np.max(np.abs(tip[1:])))
        inserted = bool(MIN_DEPTH <= tip[0] <= MAX_DEPTH and lateral <= MAX_LATERAL
                        and misalignment <= MAX_MISALIGNMENT_DEG and upright >= MIN_UPRIGHT
                        and scene.penetration <= MAX_PENETRATION)
        return Evaluation(inserted, {"insert_depth_mm": float(tip[0] * 1e3), "misalignment_deg": misalignment,
                                     "lateral_mm": lateral * 1e3, "plug_upright": upright})

    def workspace(self) -> Workspace:
        """The plug must stay on the table near the cell: 10 cm around the safety box, above the table top."""
        box = self.safety_box
        return Workspace(low=np.array([box.low[0] - 0.1, box.low[1] - 0.1, -0.005]),
                         high=np.array([box.high[0] + 0.1, box.high[1] + 0.1, box.high[2] + 0.15]),
                         bodies=("usb_plug",))

    def task_state(self, scene: SceneState, arms) -> dict[str, np.ndarray]:
        """Tip-to-mouth offset and plug rotation (port frame), and the plug grasp point relative to the TCP."""
        tip, _ = self.tip_in_port(scene)
        plug = scene.poses["usb_plug"]
        rotation = geo.quat_to_rotvec(geo.quat_mul(geo.quat_conj(self.mouth_pose[3:]), plug[3:]))
        return {
            "plug_tip_to_mouth": tip,
            "plug_rotation": rotation,
            "tcp_to_plug": self.plug_grasp_pose(plug)[:3] - arms[0].pose[:3],
        }

    def task_state_units(self) -> dict[str, float]:
        return {"plug_rotation": 0.05}

    def task_state_dims(self) -> dict[str, int]:
        return {"plug_tip_to_mouth": 3, "plug_rotation": 3, "tcp_to_plug": 3}

    def build_scene(self, spec: mujoco.MjSpec) -> None:
        self._port = add_usb_port(spec, PORT_POSE)
        self._plug = add_usb_plug(spec, np.array([PLUG_NOMINAL[0], PLUG_NOMINAL[1], usb.PLUG_REST_Z, 0, 0, 0, 1.0]))
        spec.worldbody.add_camera(name="side", pos=[0.56, -0.22, 0.17], xyaxes=[1, 0, 0, 0, 0.55, 0.84], fovy=55)

    def tracked_bodies(self) -> tuple[str, ...]:
        return ("usb_plug",)

    def tight_fit_geoms(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if self._port is None or self._plug is None:
            return ((), ())
        return (self._plug.fit_geoms, self._port.fit_geoms)
