"""IKEA shelf: side panel 1, side panel 2 and the top panel fitted on 8 mm dowels, one stage per task.

All three stages share one cell (:func:`IkeaShelfStage.build_scene`): a base board fixed on the
table, two side panels and a top panel (:mod:`hilserl_bench.envs.props.ikea_shelf`). Each
stage's reset starts from the assembled state of the stages before it: side panel 2 starts with
side panel 1 standing on its dowels, the top panel with both. :meth:`IkeaShelfStage.carry_over`
replaces those nominal assembled poses with the poses a previous stage actually left (the chain,
``hilserl_bench/ikea_chain.py``). Parts not yet used lie on the table's far edge.

The stage's panel starts in both hands and stays there: the action is a 12-D twist, six per
arm, with no gripper dimension. **How it is held: a weld, not friction.** Each TCP is welded to its
grasp point on the panel (an equality constraint, solref 0.02: a few mm of give under the arms'
tens of newtons) and the fingers stay open around the board. A friction pinch was built and
measured first: with both grippers closing at 70 N on the 16 mm board, the pads went up to 11 mm
into the board when the arms carried it (``left/right_finger_pad`` against ``side_panel_2_grip0``,
one physics step), deeper than 1 mm in 4 of 8 seeded expert episodes on each side panel; welding the
TCPs and opening the fingers brought the expert's deepest tight-fit penetration from 10 mm to
0.03 mm. What differs from the real cell: the grasp cannot slip or be lost.
The base board's joints run along world y, so each side panel stands across the cell facing the
arms and each hand holds the end on its own side: side panels at their top edge, 8.5 cm either
side of the middle; the top panel at the middle of its two ends (between the side panels). The
two Pandas stand 0.6 m apart (the paper's cells are 0.6 to 0.9 m); the farthest grasp is then
0.67 m from its arm's base.

Protocol. Side panels: 100 steps, discount 0.98, cameras ``left/wrist_1``, ``right/wrist_1``,
``side``; the panel (and the hands with it) starts 3 cm above its seat, shifted uniformly by
+/-4 cm in x and y and turned +/-1 degree in yaw. Top panel: 150 steps, discount 0.97, three
side views, +/-1.5 cm in x and y. The paper's "8 cm xy, 1 deg" and "3 cm" are read as the full
width of the range, as its RAM "4 cm, 6 deg" matches the official code's +/-2 cm, +/-0.05 rad;
the yaw is kept at +/-1 degree (twice that reading) because yaw is what a dowel pair resists.

Capture range (``benchmarks/ikea_checks.py --only-capture``): the geometric lead is 1.25 mm
(1 mm chamfer + 0.25 mm clearance), but the dowel's round end (4 mm radius) and the compliance
of the arms and grasp welds widen it: pressing with the dowels 4 mm off along the joint still
seats side panel 1 (2 of 2 episodes), 5 mm in 1 of 2, 6 mm never. Against the +/-4 cm reset
offset a motion that does not look where the panel is misses the holes (blind replay and naive
press 0 of 10 on each side panel; on the top panel, +/-1.5 cm, the blind replay lands 1 of 10).

Success (:meth:`IkeaShelfStage.evaluate`) reads the parts' poses: every dowel of the stage's joint
entered to full depth (its tip within 1 mm short of and at most 0.5 mm past full depth), inside
its hole (within the clearance + 0.5 mm across), and the panel flush (every corner of its contact
face within 1 mm above and 0.5 mm below the face it sits on). The top panel also needs both side
panels still seated.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from hilserl_bench import disturbances as dist
from hilserl_bench import geometry as geo
from hilserl_bench.backend import ResetPlan, SceneState
from hilserl_bench.benchmark_spec import TaskBenchmark
from hilserl_bench.envs.cell import DualArmCellConfig
from hilserl_bench.envs.dual_arm_task import DOWN, DualArmTask
from hilserl_bench.envs.props import ikea_shelf as shelf
from hilserl_bench.registry import register
from hilserl_bench.regression_spec import RegressionThresholds
from hilserl_bench.task import Evaluation, TaskConfig

BASE_POSE = np.array([0.5, 0.0, 0.0, *geo.euler_to_quat([0.0, 0.0, np.pi / 2])])
"""The base board turned so its joints run along world y: side panel 1 (0.37 m out) and side panel 2
(0.63 m out) face the arms, and each hand holds the end of a panel on its own side of the cell."""
IDENTITY = np.array([0.0, 0.0, 0.0, 1.0])
DEPTH_SHORT, DEPTH_PAST, FLUSH_ABOVE, FLUSH_BELOW = 0.001, 0.0005, 0.001, 0.0005
LATERAL = shelf.CLEARANCE + 0.0005
SIDE_GRASP_X, SIDE_GRASP_DOWN = 0.085, 0.010
TOP_GRASP_IN = 0.012
SIDE_YAW = 0.0
TOP_FLIP = (0.0, np.pi)
"""Turn of each hand about its approach axis on the top panel: the right hand upside down keeps its wrist mid-range."""
HOLD_SOLREF = (0.02, 1.0)
"""The grasp welds' softness: a few mm of give under the arms' tens of newtons, like a pinch."""
STORAGE = {
    "side_panel_1": np.array([0.85, 0.42, shelf.BOARD / 2, *geo.euler_to_quat([np.pi / 2, 0, 0])]),
    "side_panel_2": np.array([0.85, -0.22, shelf.BOARD / 2, *geo.euler_to_quat([np.pi / 2, 0, 0])]),
    "top_panel": np.array([0.85, 0.0, shelf.BOARD, *geo.euler_to_quat([np.pi, 0, 0])]),
}
"""Where unused parts lie: on their faces at the table's far edge (the top panel dowels up)."""


def _pose(xyz, quat=IDENTITY) -> np.ndarray:
    return np.concatenate([np.asarray(xyz, dtype=np.float64), quat])


def side_seat(part: str) -> np.ndarray:
    """World pose of a side panel standing fully on its dowels."""
    sign = 1.0 if part == "side_panel_1" else -1.0
    return geo.pose_compose(BASE_POSE, _pose([0.0, sign * shelf.SIDE_Y, shelf.BASE_TOP]))


def top_seat(side1: np.ndarray, side2: np.ndarray) -> np.ndarray:
    """Top panel pose seated on two side panels standing at ``side1`` / ``side2`` (their top edges' middle)."""
    tops = [geo.pose_compose(p, _pose([0.0, 0.0, shelf.SIDE_HEIGHT]))[:3] for p in (side1, side2)]
    yaw = float(np.mean([geo.quat_to_euler(p[3:])[2] for p in (side1, side2)]))
    return _pose(0.5 * (tops[0] + tops[1]), geo.euler_to_quat([0.0, 0.0, yaw]))


@dataclass(frozen=True)
class IkeaShelfConfig(TaskConfig):
    """Side panel preset (paper Appendix A; ranges read as full widths, see the module docstring)."""

    max_steps: int = 100
    action_scale: tuple[float, float, float] = (0.02, 0.1, 1.0)
    random_xy: float = 0.04
    random_yaw: float = float(np.deg2rad(1.0))
    discount: float = 0.98
    start_lift: float = 0.03
    """Height (m) of the panel's start above its seat (dowel tips 18 mm above the hole mouths)."""


@dataclass(frozen=True)
class TopPanelConfig(IkeaShelfConfig):
    """Top panel preset: 150 steps, discount 0.97, +/-1.5 cm."""

    max_steps: int = 150
    random_xy: float = 0.015
    random_yaw: float = 0.0
    discount: float = 0.97


class IkeaShelfStage(DualArmTask):
    """One shelf stage: fit ``part`` onto its dowels, the earlier parts already assembled."""

    part = ""
    """The panel this stage fits."""
    earlier: tuple[str, ...] = ()
    """Panels assembled by the stages before (standing on their dowels at reset)."""
    cell = DualArmCellConfig(separation=0.6)
    learned_gripper = False
    config_cls = IkeaShelfConfig

    def __init__(self, config: TaskConfig | None = None) -> None:
        super().__init__(config)
        self._names: shelf.ShelfNames | None = None
        self._carried: dict[str, np.ndarray] = {}

    def carry_over(self, poses: dict[str, np.ndarray]) -> None:
        """Start later resets with the earlier parts where a previous stage left them (world poses)."""
        unknown = set(poses) - set(self.earlier)
        if unknown:
            raise ValueError(f"{self.task_id} carries over only {list(self.earlier)}, not {sorted(unknown)}")
        self._carried = {k: np.asarray(v, dtype=np.float64).copy() for k, v in poses.items()}

    # -- geometry ----------------------------------------------------------------------------------
    def seat_pose(self, scene: SceneState | None = None) -> np.ndarray:
        """World pose of the stage's panel fully seated (the top panel's follows the side panels)."""
        if self.part != "top_panel":
            return side_seat(self.part)
        if scene is None:
            return top_seat(side_seat("side_panel_1"), side_seat("side_panel_2"))
        return top_seat(scene.poses["side_panel_1"], scene.poses["side_panel_2"])

    def grasps(self) -> tuple[np.ndarray, np.ndarray]:
        """Each arm's TCP pose in the panel's frame (left first; the panel's +x points to the left arm).

        Side panels: fingers across the board, hand yaw -90 degrees in the world, which keeps the
        Pandas' last joint mid-range (+90 put it near its limit and the IK missed near grasps).
        """
        if self.part == "top_panel":
            x, z = shelf.SIDE_HALF_X - TOP_GRASP_IN, shelf.BOARD / 2
            left = geo.mat_to_quat(np.array([[0, 0, -1], [-1, 0, 0], [0, 1, 0]], dtype=float))
            right = geo.mat_to_quat(np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0]], dtype=float))
            flips = [geo.euler_to_quat([0.0, 0.0, f]) for f in TOP_FLIP]
            return (_pose([x, 0.0, z], geo.quat_mul(left, flips[0])),
                    _pose([-x, 0.0, z], geo.quat_mul(right, flips[1])))
        z, q = shelf.SIDE_HEIGHT - SIDE_GRASP_DOWN, geo.euler_to_quat(DOWN + [0.0, 0.0, SIDE_YAW])
        return _pose([SIDE_GRASP_X, 0.0, z], q), _pose([-SIDE_GRASP_X, 0.0, z], q)

    def world_boxes(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        seat = self.seat_pose()
        reach = self.config.random_xy + 0.03
        boxes = []
        for grasp in self.grasps():
            tcp = geo.pose_compose(seat, grasp)
            euler = geo.quat_to_euler(tcp[3:])
            if abs(abs(euler[0]) - np.pi) < 0.5:
                euler[0] = np.pi
            low = np.concatenate([tcp[:3] - [reach, reach, 0.012], euler - 0.15])
            high = np.concatenate([tcp[:3] + [reach, reach, self.config.start_lift + 0.05], euler + 0.15])
            boxes.append((low, high))
        return tuple(boxes)

    def start_pose(self, rng: np.random.Generator) -> np.ndarray:
        """The stage panel's randomised start (world)."""
        c = self.config
        seat = self.seat_pose()
        xyz = seat[:3] + np.append(rng.uniform(-1, 1, 2) * c.random_xy, c.start_lift)
        turn = geo.euler_to_quat([0.0, 0.0, rng.uniform(-1, 1) * c.random_yaw])
        return _pose(xyz, geo.quat_mul(turn, seat[3:]))

    def world_reset_poses(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        start = self.start_pose(rng)
        return tuple(geo.pose_compose(start, g) for g in self.grasps())

    # -- episode logic -------------------------------------------------------------------------------
    def reset_plan(self, rng: np.random.Generator) -> ResetPlan:
        start = self.start_pose(rng)
        tcps = [geo.pose_compose(start, g) for g in self.grasps()]
        objects = {}
        for name in shelf.PANELS:
            if name in self.earlier:
                objects[name] = self._carried.get(name, side_seat(name))
            elif name != self.part:
                objects[name] = STORAGE[name]
        held = geo.pose_compose(geo.pose_inverse(tcps[0]), start)
        return ResetPlan(tcp_pose=np.stack([self.to_arm(i, p) for i, p in enumerate(tcps)]), gripper_closed=False,
                         object_poses=objects, held_objects={self.part: held})

    def dowel_offsets(self, scene: SceneState, part: str | None = None) -> np.ndarray:
        """Per dowel of ``part``'s joint: tip offset (m) from full depth in its hole's frame (x, y, z)."""
        part = part or self.part
        pose = scene.poses[part]
        rows = []
        if part == "top_panel":
            for (x, y, _), s in zip(shelf.top_dowels(), (0, 0, 1, 1), strict=True):
                mouth = geo.pose_compose(scene.poses[shelf.PANELS[s]], _pose([x, 0.0, shelf.SIDE_HEIGHT]))
                rows.append(_in_frame(mouth, geo.pose_compose(pose, _pose([x, y, -shelf.DOWEL_OUT]))[:3]))
        else:
            seat = side_seat(part)
            for x, y, _ in shelf.side_dowels():
                mouth = geo.pose_compose(seat, _pose([x, y, 0.0]))
                rows.append(_in_frame(mouth, geo.pose_compose(pose, _pose([x, y, -shelf.DOWEL_OUT]))[:3]))
        return np.array(rows) + [0.0, 0.0, shelf.DOWEL_OUT]

    def flush_gaps(self, scene: SceneState, part: str | None = None) -> np.ndarray:
        """Height (m) of each corner of ``part``'s contact face above the face it rests on."""
        part = part or self.part
        pose = scene.poses[part]
        hx, t = shelf.SIDE_HALF_X, shelf.BOARD / 2
        if part != "top_panel":
            seat = side_seat(part)
            return np.array([_in_frame(seat, geo.pose_compose(pose, _pose([x, y, 0.0]))[:3])[2]
                             for x in (-hx, hx) for y in (-t, t)])
        gaps = []
        for s, name in ((1.0, "side_panel_1"), (-1.0, "side_panel_2")):
            top = geo.pose_compose(scene.poses[name], _pose([0.0, 0.0, shelf.SIDE_HEIGHT]))
            for x in (-hx, hx):
                for dy in (-t, t):
                    corner = geo.pose_compose(pose, _pose([x, s * shelf.SIDE_Y + dy, 0.0]))[:3]
                    gaps.append(_in_frame(top, corner)[2])
        return np.array(gaps)

    def joint_done(self, scene: SceneState, part: str) -> bool:
        """Every dowel of ``part`` at full depth inside its hole, and ``part`` flush."""
        d, f = self.dowel_offsets(scene, part), self.flush_gaps(scene, part)
        seated = (d[:, 2] <= DEPTH_SHORT) & (d[:, 2] >= -DEPTH_PAST) & (np.abs(d[:, :2]) <= LATERAL).all(axis=1)
        return bool(seated.all() and (f <= FLUSH_ABOVE).all() and (f >= -FLUSH_BELOW).all())

    def evaluate(self, scene: SceneState | None, arms) -> Evaluation:
        """This stage's joint done (and, for the top panel, both side joints still done)."""
        if scene is None:
            return Evaluation(False)
        success = self.joint_done(scene, self.part) and all(self.joint_done(scene, p) for p in self.earlier)
        d, f = self.dowel_offsets(scene), self.flush_gaps(scene)
        terms = {f"dowel{k}_short_mm": float(v * 1e3) for k, v in enumerate(d[:, 2])}
        terms.update(max_dowel_lateral_mm=float(np.abs(d[:, :2]).max() * 1e3), max_flush_gap_mm=float(f.max() * 1e3))
        return Evaluation(success, terms)

    def progress_distance(self, scene: SceneState | None, arms) -> float:
        """Panel to seat, plus half the hands' distances to their grasps."""
        if scene is None:
            return 0.0
        pose = scene.poses[self.part]
        hands = sum(float(np.linalg.norm(geo.pose_compose(pose, g)[:3] - t[:3]))
                    for g, t in zip(self.grasps(), self.tcp_world(arms), strict=True))
        return float(np.linalg.norm(pose[:3] - self.seat_pose(scene)[:3])) + 0.5 * hands

    def task_state(self, scene: SceneState, arms) -> dict[str, np.ndarray]:
        """Panel offset and rotation from its seat, dowel-tip offsets, TCP-to-grasp offsets."""
        pose, seat = scene.poses[self.part], self.seat_pose(scene)
        tcps = self.tcp_world(arms)
        grasp = [geo.pose_compose(pose, g)[:3] - t[:3] for g, t in zip(self.grasps(), tcps, strict=True)]
        return {"panel_to_seat": pose[:3] - seat[:3],
                "panel_rotation": geo.orientation_error(seat[3:], pose[3:]),
                "dowel_offsets": self.dowel_offsets(scene).ravel(),
                "left_tcp_to_grasp": grasp[0], "right_tcp_to_grasp": grasp[1]}

    def task_state_dims(self) -> dict[str, int]:
        n = 4 if self.part == "top_panel" else 2
        return {"panel_to_seat": 3, "panel_rotation": 3, "dowel_offsets": 3 * n,
                "left_tcp_to_grasp": 3, "right_tcp_to_grasp": 3}

    def task_state_units(self) -> dict[str, float]:
        return {"panel_rotation": 0.05, "dowel_offsets": 0.005}

    # -- simulator only ------------------------------------------------------------------------------
    def build_scene(self, spec: mujoco.MjSpec) -> None:
        self._names = shelf.add_shelf(spec, BASE_POSE, STORAGE)
        body = spec.body(self.part)
        for arm, grasp in zip(self.arms, self.grasps(), strict=True):
            site = body.add_site(name=f"{self.part}_{arm}_grasp", pos=grasp[:3].tolist(),
                                 quat=geo.quat_to_mujoco(grasp[3:]).tolist())
            weld = spec.add_equality(type=mujoco.mjtEq.mjEQ_WELD, objtype=mujoco.mjtObj.mjOBJ_SITE,
                                     name1=f"{arm}/tcp", name2=site.name, name=f"{arm}_holds_{self.part}")
            weld.solref = list(HOLD_SOLREF)
        world = spec.worldbody
        world.add_camera(name="side", pos=[1.15, 0.0, 0.5], xyaxes=[0, 1, 0, -0.5, 0, 0.87], fovy=45)
        world.add_camera(name="side_front", pos=[1.05, 0.0, 0.32], xyaxes=[0, 1, 0, -0.2, 0, 0.98], fovy=45)
        world.add_camera(name="side_left", pos=[0.5, 0.65, 0.35], xyaxes=[-1, 0, 0, 0, -0.3, 0.95], fovy=50)
        world.add_camera(name="side_right", pos=[0.5, -0.65, 0.35], xyaxes=[1, 0, 0, 0, 0.3, 0.95], fovy=50)

    def tracked_bodies(self) -> tuple[str, ...]:
        return shelf.PANELS

    def tight_fit_geoms(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The stage's panel against the base and the panels assembled before it."""
        if self._names is None:
            return ((), ())
        parts = self._names.parts
        return (parts[self.part], tuple(g for name in ("base", *self.earlier) for g in parts[name]))


def _in_frame(frame: np.ndarray, point: np.ndarray) -> np.ndarray:
    """``point`` (world) in the frame of pose ``frame``."""
    return (point - frame[:3]) @ geo.quat_to_mat(frame[3:])


@register
class SidePanel1(IkeaShelfStage):
    """Fit the first side panel onto its two dowels in the base board."""

    task_id = "side_panel_1"
    description = "Two arms fit an IKEA side panel onto two 8 mm dowels in the base board"
    benchmark = TaskBenchmark(paper_env_steps=31000, quick_env_steps=300, paper_hours=2.0, paper_success=1.0,
                              paper_bc_success=0.77, paper_cycle_time_s=2.7, paper_bc_cycle_time_s=6.5,
                              position_noise_m=0.005, rotation_noise_rad=0.035)
    cameras = ("left/wrist_1", "right/wrist_1", "side")
    disturbances = {
        "push_ee": dist.ForcePulse(bodies=("left/hand", "right/hand"), magnitude_n=(15.0, 25.0),
            duration_s=0.2, window_s=(0.3, 1.2)),
        "lighting": dist.VisualChange(window_s=(0.3, 1.2)),
    }
    """Disturbance kinds (name -> spec) for `--disturb`; see hilserl_bench.disturbances and docs/robustness.md."""
    regression = RegressionThresholds(
        min_expert_success=0.8, max_random_success=0.0, min_bc_success=0.6, max_physics_ratio=4.0, episodes=5)
    part = "side_panel_1"


@register
class SidePanel2(IkeaShelfStage):
    """Fit the second side panel; the first already stands on its dowels."""

    task_id = "side_panel_2"
    description = "Two arms fit the second IKEA side panel beside the first, onto two 8 mm dowels"
    benchmark = TaskBenchmark(paper_env_steps=36000, quick_env_steps=350, paper_hours=1.75, paper_success=1.0,
                              paper_bc_success=0.79, paper_cycle_time_s=2.4, paper_bc_cycle_time_s=5.0,
                              position_noise_m=0.005, rotation_noise_rad=0.035)
    cameras = ("left/wrist_1", "right/wrist_1", "side")
    disturbances = {
        "push_ee": dist.ForcePulse(bodies=("left/hand", "right/hand"), magnitude_n=(15.0, 25.0),
            duration_s=0.2, window_s=(0.3, 1.2)),
        "lighting": dist.VisualChange(window_s=(0.3, 1.2)),
    }
    """Disturbance kinds (name -> spec) for `--disturb`; see hilserl_bench.disturbances and docs/robustness.md."""
    regression = RegressionThresholds(
        min_expert_success=0.8, max_random_success=0.0, min_bc_success=0.6, max_physics_ratio=3.5, episodes=5)
    part = "side_panel_2"
    earlier = ("side_panel_1",)


@register
class TopPanel(IkeaShelfStage):
    """Fit the top panel's four dowels into both standing side panels."""

    task_id = "top_panel"
    description = "Two arms fit the IKEA top panel's four dowels into both side panels"
    benchmark = TaskBenchmark(paper_env_steps=18000, quick_env_steps=200, paper_hours=1.0, paper_success=1.0,
                              paper_bc_success=0.35, paper_cycle_time_s=2.4, paper_bc_cycle_time_s=8.9,
                              position_noise_m=0.005, rotation_noise_rad=0.035)
    cameras = ("side_front", "side_left", "side_right")
    disturbances = {
        "push_ee": dist.ForcePulse(bodies=("left/hand", "right/hand"), magnitude_n=(15.0, 25.0),
            duration_s=0.2, window_s=(0.3, 1.2)),
        "lighting": dist.VisualChange(window_s=(0.3, 1.2)),
    }
    """Disturbance kinds (name -> spec) for `--disturb`; see hilserl_bench.disturbances and docs/robustness.md."""
    part = "top_panel"
    earlier = ("side_panel_1", "side_panel_2")
    regression = RegressionThresholds(
        min_expert_success=0.8, max_random_success=0.0, min_bc_success=0.6, max_physics_ratio=3.5, episodes=5)
    config_cls = TopPanelConfig
