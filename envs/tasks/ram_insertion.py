"""RAM insertion: press a grasped DDR4 stick into a motherboard DIMM slot.

Protocol (paper Appendix A and the official config): 100 steps at 10 Hz, 6-D twist
with the gripper held closed, discount 0.97, the stick already in the hand at reset.
The slot sits at the configured target pose. The start pose is the official
``RESET_POSE = TARGET + [0, 0, 5 cm, 0, 0.05 rad pitch, 0]``, randomised by +/-2 cm
in x and y and +/-0.05 rad in yaw. We use the official code's ranges rather than the
paper's 4 cm / 6 deg because the official safety box is only +/-2 cm wide in y, so
the paper's range would start episodes outside the box. The safety box and the
compliance parameters (reference limits x 7.5, y 1.6, z 5.5, -x 2, -y 1.6, -z 5 mm;
rotation x 0.01, y 0.025, z 0.005 rad each way) are the official ones, and the start
pitch is the -0.05 rad the official client actually commands (its Euler helper
negates pitch; see :attr:`RamInsertion.reset_pose`).

The stick is held by friction (70 N grasp on its heat spreader), not welded. The
groove leaves 0.25 mm per side, so the stick must be aligned to within about a
millimetre (chamfers) and a few milliradians of yaw to enter, and the spring contact
bed at the bottom needs more than ~4 N of pressing before both ends are within
1 mm of full depth. Capture range against the reset randomisation: on the rigid-mount
test rig a 10 N push seats a stick up to 1.1 mm off across the slot (1.2 mm stays out)
and up to 0.4 degrees off in yaw (0.5 stays out) (``python benchmarks/ram_capture_range.py``),
against +/-20 mm and +/-2.9 degrees of reset randomisation. The robot's friction grasp and
compliance widen this a little: pushing straight down from the start succeeds in 1 of 100
seeded episodes (``benchmarks/penetration.py``, policy ``push``).

Success (:meth:`RamInsertion.evaluate`) is the physical goal and refuses states no real
stick can reach: both bottom-edge ends within 1 mm above and 0.5 mm below full depth,
inside the groove across (clearance + 0.5 mm) and along it (end clearance + 0.5 mm),
upright and facing the key (stick z and x within 5 degrees of the slot's; 0.5 mm of play
over the 6 mm of straight groove wall allows 4.8 degrees of lean), and no tight-fit
contact deeper than 0.5 mm. The stick is keyed like a DDR4 module (notch off centre,
ridge in the slot), so a reversed stick stops 2.7 mm short of the seat. The 0.5 mm
contact tolerance sits above what seated expert states show (<= 0.34 mm below the seat,
<= 0.30 mm penetration over 30 seeded episodes with and without noise) and below the
1 mm bound for any policy.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from hilserl_bench import disturbances as dist
from hilserl_bench import geometry as geo
from hilserl_bench.backend import ResetPlan, SceneState
from hilserl_bench.benchmark_spec import TaskBenchmark
from hilserl_bench.envs.props.motherboard import DimmSlotConfig, DimmSlotNames, add_motherboard
from hilserl_bench.envs.props.ram_stick import HELD_POSE_IN_TCP, RAM_HEIGHT, RAM_LENGTH, RamStickNames, add_ram_stick
from hilserl_bench.registry import register
from hilserl_bench.regression_spec import RegressionThresholds
from hilserl_bench.robot_types import ImpedanceParams, uniform_clips
from hilserl_bench.task import Evaluation, SafetyBox, Task, TaskConfig

BOARD_POSE = np.array([0.5, 0.02, 0.0, 0.0, 0.0, 0.0, 1.0])
"""Motherboard centre on the table; its DIMM slot then lies along base x through (0.5, 0)."""
SEAT_TOLERANCE = 0.001
"""Both ends of the stick's bottom edge must be at most this far above full depth (m)."""
CONTACT_TOLERANCE = 0.0005
"""How far contacts may interpenetrate and a seated part may sit past a surface (m)."""
MAX_TILT = np.radians(5.0)
"""Largest angle between the stick's z (and x) axis and the slot's for a seated stick (rad)."""
SLOT = DimmSlotConfig()
DOWN = np.array([np.pi, 0.0, 0.0])
SLOT_DEPTH = SLOT.depth


@dataclass(frozen=True)
class RamInsertionConfig(TaskConfig):
    """RAM insertion preset (official code numbers)."""

    max_steps: int = 100
    action_scale: tuple[float, float, float] = (0.01, 0.06, 1.0)
    random_xy: float = 0.02
    random_yaw: float = 0.05
    discount: float = 0.97


@register
class RamInsertion(Task):
    """Insert the grasped RAM stick into the DIMM slot until both ends are seated."""

    task_id = "ram_insertion"
    description = "Press a grasped RAM stick into a DIMM slot (0.25 mm clearance, spring contact bed)"
    benchmark = TaskBenchmark(paper_env_steps=32000, quick_env_steps=300, paper_hours=1.5, paper_success=1.0,
                              paper_bc_success=0.29, paper_cycle_time_s=4.8, paper_bc_cycle_time_s=8.3)
    cameras = ("wrist_1", "wrist_2")
    disturbances = {
        "push_ee": dist.ForcePulse(bodies=("hand",), magnitude_n=(15.0, 25.0), duration_s=0.2, window_s=(0.3, 1.2)),
        "move_target": dist.MoveBody(body="dimm_slot", distance_mm=(2.0, 5.0), window_s=(0.3, 1.2)),
        "shift_in_grasp": dist.ShiftInGrasp(body="ram_stick", distance_mm=(1.0, 3.0), axes=(0, 2), window_s=(0.3, 1.2)),
        "lighting": dist.VisualChange(window_s=(0.3, 1.2)),
    }
    """Disturbance kinds (name -> spec) for `--disturb`; see hilserl_bench.disturbances and docs/robustness.md."""
    learned_gripper = False
    regression = RegressionThresholds(
        min_expert_success=0.8, max_random_success=0.0, min_bc_success=0.6, max_physics_ratio=3.5, episodes=5)
    config_cls = RamInsertionConfig

    def __init__(self, config: TaskConfig | None = None) -> None:
        super().__init__(config)
        self._slot: DimmSlotNames | None = None
        self._stick: RamStickNames | None = None
        self._target = self._compute_target()
        self._corners_cache: tuple[SceneState | None, np.ndarray] = (None, np.zeros((2, 3)))

    # -- geometry ---------------------------------------------------------------------
    def _compute_target(self) -> np.ndarray:
        """TCP pose with the stick fully seated: build the props once in a scratch spec to read them."""
        spec = mujoco.MjSpec()
        slot = add_motherboard(spec, BOARD_POSE)
        seat = np.array(slot.entry_pose, dtype=np.float64)
        grasp_above_bottom = HELD_POSE_IN_TCP[2] + RAM_HEIGHT / 2
        position = seat[:3] + np.array([0.0, 0.0, -slot.depth + grasp_above_bottom])
        return np.concatenate([position, geo.euler_to_quat(DOWN)])

    @property
    def target_pose(self) -> np.ndarray:
        return self._target.copy()

    @property
    def reset_pose(self) -> np.ndarray:
        """The official ``TARGET + [0, 0, 5 cm, 0, +0.05, 0]`` as the real robot reaches it.

        The official client turns that Euler vector into a quaternion with its own
        helper, which negates pitch, so the arm tilts to -0.05 rad in the standard
        x-y-z convention (:func:`~hilserl_bench.geometry.euler_to_quat_official`).
        """
        six = geo.pose_to_6d(self._target) + np.array([0.0, 0.0, 0.05, 0.0, 0.05, 0.0])
        return np.concatenate([six[:3], geo.euler_to_quat_official(six[3:])])

    @property
    def safety_box(self) -> SafetyBox:
        six = geo.pose_to_6d(self._target)
        return SafetyBox(six - np.array([0.03, 0.02, 0.01, 0.01, 0.1, 0.4]),
                         six + np.array([0.03, 0.02, 0.05, 0.01, 0.1, 0.4]))

    @property
    def episode_params(self) -> ImpedanceParams:
        return ImpedanceParams(**uniform_clips((0.0075, 0.0016, 0.0055, 0.002, 0.0016, 0.005),
                                               (0.01, 0.025, 0.005, 0.01, 0.025, 0.005)))

    # -- episode logic ------------------------------------------------------------------
    def reset_plan(self, rng: np.random.Generator) -> ResetPlan:
        tcp_pose = self.sample_reset_pose(rng)
        return ResetPlan(tcp_pose=tcp_pose, gripper_closed=True,
                         held_objects={"ram_stick": np.array(HELD_POSE_IN_TCP)})

    def _corners_in_slot(self, scene: SceneState) -> np.ndarray:
        """Stick bottom-edge end points (2 x 3) in the slot frame; z = -depth when seated.

        Memoised on the scene object: evaluate() and task_state() read the same step.
        """
        if self._corners_cache[0] is scene:
            return self._corners_cache[1]
        stick, slot = scene.poses["ram_stick"], scene.poses["dimm_slot"]
        half = np.array([[-RAM_LENGTH / 2, 0.0, -RAM_HEIGHT / 2], [RAM_LENGTH / 2, 0.0, -RAM_HEIGHT / 2]])
        world = stick[:3] + half @ geo.quat_to_mat(stick[3:]).T
        corners = (world - slot[:3]) @ geo.quat_to_mat(slot[3:])
        self._corners_cache = (scene, corners)
        return corners

    def evaluate(self, scene: SceneState | None, arms) -> Evaluation:
        """Seated: both bottom-edge ends at full depth inside the groove, upright, keyed, no deep contact.

        Every check reads the stick's pose in the slot frame (and the simulator's current
        tight-fit penetration); see the module docstring for the tolerances.
        """
        if scene is None:
            return Evaluation(False)
        corners = self._corners_in_slot(scene)
        height_above_seat = corners[:, 2] + SLOT_DEPTH
        rotation = geo.quat_to_mat(scene.poses["dimm_slot"][3:]).T @ geo.quat_to_mat(scene.poses["ram_stick"][3:])
        tilt = float(np.arccos(np.clip(rotation[2, 2], -1.0, 1.0)))
        heading = float(np.arccos(np.clip(rotation[0, 0], -1.0, 1.0)))
        checks = (
            np.all((height_above_seat <= SEAT_TOLERANCE) & (height_above_seat >= -CONTACT_TOLERANCE)),
            np.all(np.abs(corners[:, 1]) <= SLOT.clearance + CONTACT_TOLERANCE),
            np.all(np.abs(corners[:, 0]) <= RAM_LENGTH / 2 + SLOT.end_clearance + CONTACT_TOLERANCE),
            tilt <= MAX_TILT and heading <= MAX_TILT,
            scene.penetration <= CONTACT_TOLERANCE,
        )
        return Evaluation(bool(all(checks)), {
            "seat_gap_left_mm": float(height_above_seat[0] * 1e3),
            "seat_gap_right_mm": float(height_above_seat[1] * 1e3),
            "lateral_offset_mm": float(np.abs(corners[:, 1]).max() * 1e3),
            "tilt_deg": float(np.degrees(tilt)),
            "heading_deg": float(np.degrees(heading)),
        })

    def task_state(self, scene: SceneState, arms) -> dict[str, np.ndarray]:
        """Stick-to-seat offset and rotation (slot frame), and the TCP's offset to the target (base frame)."""
        corners = self._corners_in_slot(scene)
        slot, stick = scene.poses["dimm_slot"], scene.poses["ram_stick"]
        offset = corners.mean(axis=0) + np.array([0.0, 0.0, SLOT_DEPTH])
        rotation = geo.quat_to_rotvec(geo.quat_mul(geo.quat_conj(slot[3:]), stick[3:]))
        return {
            "ram_to_seat": offset,
            "ram_rotation": rotation,
            "tcp_to_target": self._target[:3] - arms[0].pose[:3],
        }

    def task_state_units(self) -> dict[str, float]:
        return {"ram_rotation": 0.05}

    def task_state_dims(self) -> dict[str, int]:
        return {"ram_to_seat": 3, "ram_rotation": 3, "tcp_to_target": 3}

    # -- simulator only -------------------------------------------------------------------
    def build_scene(self, spec: mujoco.MjSpec) -> None:
        self._slot = add_motherboard(spec, BOARD_POSE)
        self._stick = add_ram_stick(spec, np.array([0.5, 0.3, 0.05, 0, 0, 0, 1.0]))
        spec.worldbody.add_camera(name="side", pos=[0.5, -0.32, 0.16], xyaxes=[1, 0, 0, 0, 0.45, 0.89], fovy=50)

    def tracked_bodies(self) -> tuple[str, ...]:
        return ("ram_stick", "dimm_slot")

    def tight_fit_geoms(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if self._slot is None or self._stick is None:
            return ((), ())
        return (self._stick.fit_geoms, self._slot.fit_geoms)
